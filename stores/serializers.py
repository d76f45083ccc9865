"""API shapes for stores, slots and appointments. Input serializers check formats only;
the rules (and their 4xx reasons) are stores.services'."""

from __future__ import annotations

from rest_framework import serializers

from .models import Appointment, Service
from .selectors import MAX_PIECES, Piece, SlotsView, StoreCard
from .slots import Day, DayState, Slot
from .tokens import absolute, appointment_manage_path


def _hhmm(value) -> str | None:
    return value.strftime("%H:%M") if value else None


class TodaySerializer(serializers.Serializer):
    date = serializers.DateField()
    closed = serializers.BooleanField()
    opens = serializers.CharField(allow_null=True, help_text="HH:MM, the store's local time")
    closes = serializers.CharField(allow_null=True)
    note = serializers.CharField(help_text="A holiday or special hours note")


class StoreSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField(help_text="In the request's language")
    city = serializers.CharField()
    address = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    phone = serializers.CharField()
    services = serializers.ListField(child=serializers.ChoiceField(choices=Service.choices))
    tryon_seats = serializers.IntegerField()
    tryon_minutes = serializers.IntegerField()
    time_zone = serializers.CharField()
    open_now = serializers.BooleanField()
    today = TodaySerializer()
    closes_at = serializers.DateTimeField(allow_null=True)
    next_opening = serializers.DateTimeField(allow_null=True)
    distance_km = serializers.FloatField(allow_null=True)

    @staticmethod
    def from_card(card: StoreCard) -> dict:
        store, status = card.store, card.status
        return {
            "id": store.pk, "code": store.code, "name": store.title, "city": store.city_title,
            "address": store.address, "latitude": store.latitude, "longitude": store.longitude,
            "phone": store.phone, "services": list(store.services or []),
            "tryon_seats": store.tryon_seats, "tryon_minutes": store.tryon_minutes,
            "time_zone": str(store.zone), "open_now": status.is_open,
            "today": {"date": status.today.date, "closed": status.today.closed,
                      "opens": _hhmm(status.today.opens), "closes": _hhmm(status.today.closes),
                      "note": status.today.note},
            "closes_at": status.closes_at, "next_opening": status.next_opening,
            "distance_km": round(card.distance_km, 1) if card.distance_km is not None else None,
        }


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    free = serializers.IntegerField(help_text="Seats still free")
    state = serializers.ChoiceField(choices=["free", "full", "past", "too_soon", "waiting"],
                                    help_text="waiting: a chosen piece reaches the store later")
    bookable = serializers.BooleanField()

    @staticmethod
    def from_slot(slot: Slot) -> dict:
        # Strings already: the JSON encoder's fallback for datetimes costs per value.
        return {"start": slot.iso, "end": slot.ends_at.isoformat(), "free": slot.free,
                "state": slot.state.value, "bookable": slot.bookable}


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    state = serializers.ChoiceField(choices=["open", "closed", "beyond"])
    opens = serializers.CharField(allow_null=True)
    closes = serializers.CharField(allow_null=True)
    note = serializers.CharField()
    free_slots = serializers.IntegerField()
    slots = SlotSerializer(many=True)

    @staticmethod
    def from_day(day: Day) -> dict:
        open_ = day.state != DayState.CLOSED
        return {"date": day.date.isoformat(), "state": day.state.value,
                "opens": _hhmm(day.hours.opens) if open_ else None,
                "closes": _hhmm(day.hours.closes) if open_ else None,
                "note": day.hours.note, "free_slots": day.free_slots,
                "slots": [SlotSerializer.from_slot(slot) for slot in day.slots]}


class PieceSerializer(serializers.Serializer):
    variant = serializers.IntegerField()
    sku = serializers.CharField()
    here = serializers.IntegerField(help_text="Available at this store now")
    source = serializers.CharField(allow_null=True, help_text="Store code a transfer would come from")
    ready_on = serializers.DateField(allow_null=True, help_text="Null: not available anywhere")

    @staticmethod
    def from_piece(piece: Piece) -> dict:
        return {"variant": piece.variant.pk, "sku": piece.variant.sku, "here": piece.here,
                "source": piece.source.code if piece.source else None, "ready_on": piece.ready_on}


class SlotsSerializer(serializers.Serializer):
    store = serializers.IntegerField()
    ready_at = serializers.DateTimeField(allow_null=True)
    pieces = PieceSerializer(many=True)
    days = DaySerializer(many=True)

    @staticmethod
    def from_view(view: SlotsView) -> dict:
        return {"store": view.store.pk, "ready_at": view.ready_at,
                "pieces": [PieceSerializer.from_piece(p) for p in view.pieces],
                "days": [DaySerializer.from_day(d) for d in view.days]}


class AppointmentCreateSerializer(serializers.Serializer):
    store = serializers.CharField(help_text="Store id or code")
    starts_at = serializers.DateTimeField(help_text="A slot's start, e.g. 2026-12-24T15:00:00+08:00")
    variants = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                     max_length=MAX_PIECES, default=list)
    skus = serializers.ListField(child=serializers.CharField(max_length=40), required=False,
                                 max_length=MAX_PIECES, default=list,
                                 help_text="Instead of (or besides) variant ids")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    language = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")


class AppointmentItemSerializer(serializers.Serializer):
    variant = serializers.IntegerField(source="variant_id")
    sku = serializers.CharField(source="variant.sku")
    product = serializers.CharField(source="variant.product.title")
    transfer = serializers.CharField(source="transfer.number", allow_null=True, default=None)


class AppointmentSerializer(serializers.ModelSerializer):
    store = serializers.SerializerMethodField()
    items = AppointmentItemSerializer(many=True)
    manage_url = serializers.SerializerMethodField(
        help_text="Signed link to see, move or cancel without logging in")

    class Meta:
        model = Appointment
        fields = ["number", "status", "store", "starts_at", "ends_at", "contact_name",
                  "contact_email", "language", "items", "outcome", "created_at", "manage_url"]

    def get_store(self, appointment) -> dict:
        return {"id": appointment.store_id, "code": appointment.store.code,
                "name": appointment.store.title}

    def get_manage_url(self, appointment) -> str:
        path = appointment_manage_path(appointment)
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else absolute(path)


class AppointmentCancelSerializer(serializers.Serializer):
    token = serializers.CharField(required=False, allow_blank=True, default="",
                                  help_text="The signed link's token, for guests")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
