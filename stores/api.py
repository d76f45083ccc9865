"""The app's read/write API (DRF). Thin: parse, call a service or selector, serialise.

Errors come from the services as ApplicationError subclasses; o2o.errors'
exception handler answers them as ``{"code": ..., "detail": ...}`` with a 4xx.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.cache import request_catalog_version
from catalog.models import Variant
from o2o.errors import NotFoundError
from o2o.filters import query_params_check
from o2o.parsing import whole_number

from . import selectors, services
from .errors import BadLink, BookingInvalid, SlotUnavailable, UnknownVariant
from .models import Appointment, AppointmentItem, Service
from .serializers import (
    AppointmentCancelSerializer,
    AppointmentCreateSerializer,
    AppointmentSerializer,
    SlotsSerializer,
    StoreSerializer,
)
from .slots_cache import slots_cached, store_by_ref_cached
from .tokens import appointment_number_from_token


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable: bad_date, store_closed, slot_in_past, "
                                           "too_soon, not_a_slot, unknown_variant, slot_taken, "
                                           "sold_out...")
    detail = serializers.CharField(help_text="For people, in the request's language")


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="The request breaks a booking rule"),
    404: OpenApiResponse(ErrorSerializer, description="No such store or appointment"),
    409: OpenApiResponse(ErrorSerializer, description="Taken or sold out meanwhile"),
}


def _variant_ids_for_skus(skus: list[str]) -> list[int]:
    found = dict(Variant.objects.filter(sku__in=skus).values_list("sku", "pk"))
    unknown = [sku for sku in skus if sku not in found]
    if unknown:
        raise UnknownVariant(_("There is no piece %(ids)s in the catalogue.")
                             % {"ids": ", ".join(unknown)}, extra={"skus": unknown})
    return [found[sku] for sku in skus]


class StoreFinderQuery(serializers.Serializer):
    """The store finder's filters; a value it cannot use is a 400 naming it."""

    city = serializers.CharField(required=False, allow_blank=True, max_length=40)
    service = serializers.ChoiceField(choices=Service.choices, required=False, allow_blank=True)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, min_value=-180, max_value=180)

    def validate(self, data):
        if ("lat" in data) != ("lng" in data):
            missing = "lng" if "lat" in data else "lat"
            raise serializers.ValidationError(
                {missing: [_("Give lat and lng together, or neither.")]})
        return data


class StoreListView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Stores with their open-now status and services",
        parameters=[
            OpenApiParameter("city", str, description="Chinese or English city name"),
            OpenApiParameter("service", str, enum=Service.values),
            OpenApiParameter("lat", float, description="With lng: nearest first, distance_km"),
            OpenApiParameter("lng", float),
        ],
        responses=StoreSerializer(many=True), tags=["stores"])
    def get(self, request):
        query = StoreFinderQuery(data=request.query_params)
        query_params_check(request.query_params, query.fields)
        query.is_valid(raise_exception=True)  # 400 naming the field
        found = query.validated_data
        cards = selectors.stores_for_finder(
            city=found.get("city", "").strip(), service=found.get("service", ""),
            lat=found.get("lat"), lng=found.get("lng"))
        return Response([StoreSerializer.from_card(card) for card in cards])


class StoreSlotsView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Try-on times of a store, day by day",
        description=(
            "Every slot of `days` days from `date` with its state: free, full, past, too_soon "
            "(inside the booking lead time) or waiting (a chosen piece reaches the store by "
            "transfer only later). A closed day comes back with `state: closed` and its "
            "note. `{ref}` is the store's id or code. Five queries whatever the span."),
        parameters=[
            OpenApiParameter("ref", str, OpenApiParameter.PATH, description="Store id or code"),
            OpenApiParameter("date", OpenApiTypes.DATE,
                             description="First day, YYYY-MM-DD (default: the store's today)"),
            OpenApiParameter("days", int, description=f"1 to {selectors.MAX_SLOT_DAYS} "
                                                      "(default 1)"),
            OpenApiParameter("variants", str, description="Variant ids to try, e.g. 1,2"),
            OpenApiParameter("skus", str, description="Or their SKUs, e.g. R-0001-12,N-0006-40"),
        ],
        responses={200: SlotsSerializer, **ERRORS}, tags=["stores"])
    def get(self, request, ref):
        version = request_catalog_version(request)  # read once for the store and the answer
        store = store_by_ref_cached(ref, version=version)
        if store is None or not store.takes_tryons:
            raise NotFoundError(_("There is no store %(ref)s taking try-ons.") % {"ref": ref})
        query_params_check(request.query_params, ("date", "days", "variants", "skus"))
        now = timezone.now()
        first_day = selectors.parse_day(request.query_params.get("date"), store=store, now=now)
        try:
            days = int(request.query_params.get("days") or 1)
        except ValueError:
            raise SlotUnavailable(_("days must be a number."), code="bad_days") from None
        raw = [v.strip() for v in request.query_params.get("variants", "").split(",") if v.strip()]
        if not all(whole_number(v) is not None for v in raw):
            raise UnknownVariant(_("variants must be ids separated by commas, e.g. 1,2."),
                                 code="bad_variants")
        skus = [v.strip() for v in request.query_params.get("skus", "").split(",") if v.strip()]
        def view():
            return selectors.slots_for_store(store=store, first_day=first_day, days=days,
                                             variant_ids=[int(v) for v in raw], skus=skus,
                                             now=now)

        # With chosen pieces their stock and transfers decide too: not cached.
        if raw or skus or request.accepted_renderer.format != "json":
            return Response(SlotsSerializer.from_view(view()))

        def build():
            found = view()
            return found.days, JSONRenderer().render(SlotsSerializer.from_view(found))

        body = slots_cached(store=store, first_day=first_day, days=days, now=now, build=build,
                            version=version)
        return HttpResponse(body, content_type="application/json")


def _appointments(qs):
    return qs.select_related("store").prefetch_related(Prefetch(
        "items", queryset=AppointmentItem.objects.select_related("variant__product", "transfer")))


class AppointmentListView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(summary="My try-on appointments (members)",
                   responses={200: AppointmentSerializer(many=True),
                              403: OpenApiResponse(description="Not logged in")},
                   tags=["appointments"])
    def get(self, request):
        if not request.user.is_authenticated:
            self.permission_denied(request, message=_("Log in to see your appointments."))
        rows = selectors.appointments_for_member(request.user)
        return Response(AppointmentSerializer(rows, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Book a try-on, as a guest or a member",
        description=("Members are filled in from their account; guests give a name and a "
                     "mobile number (an email brings the confirmation with a calendar file). "
                     "The pieces are reserved at the store; a piece it lacks is requested by a "
                     "transfer, so only days after the transfer's lead time can be booked."),
        request=AppointmentCreateSerializer,
        examples=[OpenApiExample("Guest", request_only=True, value={
            "store": "sh-njxl", "starts_at": "2026-12-24T15:00:00+08:00", "variants": [12],
            "name": "林小姐", "phone": "138 0013 8000", "email": "lin@example.com"})],
        responses={201: AppointmentSerializer, **ERRORS}, tags=["appointments"])
    def post(self, request):
        data = AppointmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        data = data.validated_data
        store = selectors.store_by_ref(data["store"])
        if store is None:
            raise NotFoundError(_("There is no store %(ref)s.") % {"ref": data["store"]})
        ids = list(data["variants"])
        if data["skus"]:
            ids += _variant_ids_for_skus(data["skus"])
        user = request.user if request.user.is_authenticated else None
        if user is None and not (data["name"] and data["phone"]):
            raise BookingInvalid(_("Give your name and mobile number (or log in)."),
                                 code="contact_required")
        appointment = services.appointment_book(
            store=store, starts_at=data["starts_at"], variant_ids=ids, contact_name=data["name"],
            contact_phone=data["phone"], contact_email=data["email"], note=data["note"],
            member=user, language=data["language"] or ("" if user else get_language()))
        appointment = _appointments(Appointment.objects.filter(pk=appointment.pk)).get()
        return Response(AppointmentSerializer(appointment, context={"request": request}).data,
                        status=201)


class AppointmentCancelView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(summary="Cancel a try-on",
                   description="The member who booked it, or anyone with its signed link token.",
                   request=AppointmentCancelSerializer,
                   responses={200: AppointmentSerializer, **ERRORS}, tags=["appointments"])
    def post(self, request, number):
        data = AppointmentCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = data.validated_data["token"]
        appointment = Appointment.objects.filter(number=number).first()
        allowed = appointment is not None and (
            (request.user.is_authenticated and appointment.member_id == request.user.pk)
            or (token and _token_number(token) == number))
        if not allowed:
            raise NotFoundError(_("There is no appointment %(number)s of yours.")
                                % {"number": number})
        services.appointment_cancel(appointment=appointment, by_shopper=True,
                                    reason=data.validated_data["reason"],
                                    actor=request.user if request.user.is_authenticated else None)
        appointment = _appointments(Appointment.objects.filter(pk=appointment.pk)).get()
        return Response(AppointmentSerializer(appointment, context={"request": request}).data)


def _token_number(token: str) -> str | None:
    try:
        return appointment_number_from_token(token)
    except BadLink:
        return None


urlpatterns = [
    path("stores/", StoreListView.as_view(), name="api-stores"),
    path("stores/<str:ref>/slots/", StoreSlotsView.as_view(), name="api-store-slots"),
    path("appointments/", AppointmentListView.as_view(), name="api-appointments"),
    path("appointments/<str:number>/cancel/", AppointmentCancelView.as_view(),
         name="api-appointment-cancel"),
]
