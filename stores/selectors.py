"""Shared reads of stores, stock, slots and appointments, each in a fixed number of queries."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connections, router
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product, Variant
from o2o.auth import User
from o2o.parsing import whole_number

from .errors import SlotUnavailable, UnknownVariant
from .hours import OpenStatus, Specials, Weekly, open_status, specials_by_date, weekly_hours
from .models import (
    ACTIVE_APPOINTMENT,
    Appointment,
    AppointmentItem,
    Reservation,
    ReservationStatus,
    SpecialHours,
    StaffAssignment,
    StockLevel,
    Store,
    StoreKind,
    Transfer,
    TransferLine,
    TransferStatus,
)
from .slots import Busy, Day, compute_days, last_bookable_day, local_today

MAX_PIECES = 5  # pieces one try-on may set aside
MAX_SLOT_DAYS = 21  # days one slots request may span


# --- Staff -----------------------------------------------------------------------------


def staff_store_ids(*, user: User) -> set[int] | None:
    """Stores a staff user may see; ``None`` means every store (superusers, and head
    office: the permission ``stores.view_all_stores``, e.g. analysts)."""
    if user.is_superuser or user.has_perm("stores.view_all_stores"):
        return None
    return staff_work_store_ids(user=user)


def staff_work_store_ids(*, user: User) -> set[int] | None:
    """Stores a staff user works at, and so may act on; ``None``: every store (superusers).
    Seeing every store (``stores.view_all_stores``) gives no right to act on one."""
    if user.is_superuser:
        return None
    return set(StaffAssignment.objects.filter(user=user).values_list("store_id", flat=True))


# --- Stock ----------------------------------------------------------------------------


def availability_for_variants(variant_ids: Iterable[int]) -> dict[int, list[tuple[Store, int]]]:
    """Where each variant can be had now: ``{variant_id: [(store, available), ...]}``.

    One query. Lists active locations with at least one piece available (on hand less
    reserved), shops before warehouses, then by code; a variant with none has no key.
    """
    ids = sorted(set(variant_ids))
    result: dict[int, list[tuple[Store, int]]] = {}
    if not ids:
        return result
    levels = (StockLevel.objects.available().filter(variant_id__in=ids, store__is_active=True)
              .select_related("store").order_by("variant_id", "store__kind", "store__code"))
    for level in levels:
        result.setdefault(level.variant_id, []).append((level.store, level.available))
    return result


def availability_by_store_id(variant_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    """``availability_for_variants`` by store id, in the same order: ``{variant_id:
    {store_id: available}}``. One query, and a light one for the purchase's hot path
    (the cart, checkout): no store rows read or built, and written in SQL, which costs a
    tenth of the CPU of building the same query with the ORM (tested against
    ``availability_for_variants``)."""
    ids = sorted(set(variant_ids))
    result: dict[int, dict[int, int]] = {}
    if not ids:
        return result
    with connections[router.db_for_read(StockLevel)].cursor() as cursor:
        cursor.execute(
            f"SELECT level.variant_id, level.store_id, level.on_hand - level.reserved "
            f"FROM {StockLevel._meta.db_table} level "
            f"JOIN {Store._meta.db_table} store ON store.id = level.store_id "
            f"WHERE level.variant_id = ANY(%s) AND store.is_active "
            f"AND level.on_hand > level.reserved "
            f"ORDER BY level.variant_id, store.kind, store.code", [ids])
        for variant_id, store_id, available in cursor.fetchall():
            result.setdefault(variant_id, {})[store_id] = available
    return result


def available_at(*, store: Store, variant_ids: Iterable[int]) -> dict[int, int]:
    """How many of each variant ``store`` can sell now (on hand less reserved), one query;
    a variant it never stocked has no key."""
    return dict(StockLevel.objects.with_available().filter(
        store=store, variant_id__in=list(variant_ids)).values_list("variant_id", "available_now"))


def in_transit_to(store: Store) -> dict[int, int]:
    """Pieces shipped to ``store`` and not yet received, by variant id (one query)."""
    rows = (TransferLine.objects
            .filter(transfer__destination=store, transfer__status=TransferStatus.SHIPPED)
            .values("variant_id").annotate(quantity=Sum("quantity")))
    return {row["variant_id"]: row["quantity"] for row in rows}


def products_in_stock_at(store: Store, *, limit: int = 48) -> list[Product]:
    """Active products with a piece available at ``store``, newest first, priced for cards."""
    from catalog import selectors as catalog_selectors

    in_stock = StockLevel.objects.available().filter(store=store)
    products = (catalog_selectors.products_for_display()
                .filter(variants__in=in_stock.values("variant_id"), variants__is_active=True)
                .distinct()[:limit])
    return catalog_selectors.prices_from_set(list(products))


def variants_in_stock_at(store: Store, *, limit: int = 40) -> list[Variant]:
    """Active pieces with one available at ``store``, by product (one query)."""
    return list(Variant.objects.filter(
        is_active=True, product__is_active=True,
        pk__in=StockLevel.objects.available().filter(store=store).values("variant_id"),
    ).select_related("product").order_by("product__name", "position", "pk")[:limit])


# --- Stores -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreCard:
    store: Store
    status: OpenStatus
    distance_km: float | None = None
    weekly: Weekly | None = None
    specials: Specials | None = None


def coordinate(raw: str | None, limit: float) -> float | None:
    """A latitude or longitude typed by a visitor, or None when it is not a finite
    number within +-``limit`` (the page and the API share this)."""
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if -limit <= value <= limit else None


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _with_hours(stores: QuerySet[Store], *, today: date, days: int) -> QuerySet[Store]:
    return stores.prefetch_related(
        "hours",
        Prefetch("special_hours", to_attr="specials_ahead",
                 queryset=SpecialHours.objects.filter(date__gte=today - timedelta(days=1),
                                                      date__lte=today + timedelta(days=days))),
    )


def store_cities() -> list[tuple[str, str]]:
    """(city, English city) of the active shops, for the finder's filter (one query)."""
    return list(Store.objects.shops().order_by("city").values_list("city", "city_en").distinct())


def stores_for_finder(*, city: str = "", service: str = "", lat: float | None = None,
                      lng: float | None = None, now: datetime | None = None) -> list[StoreCard]:
    """Active shops with their open-now status; nearest first when a position is given,
    else by city and code. Three queries (stores, hours, dated hours)."""
    now = now or timezone.now()
    stores = Store.objects.shops()
    if city:
        stores = stores.filter(Q(city=city) | Q(city_en__iexact=city))
    if service:
        stores = stores.filter(services__contains=[service])
    # Dated hours from yesterday on: covers "today" in any store's zone.
    today = now.date()
    cards = []
    for store in _with_hours(stores.order_by("city", "code"), today=today, days=14):
        weekly = weekly_hours(store.hours.all())
        specials = specials_by_date(store.specials_ahead)
        distance = None
        if lat is not None and lng is not None and store.latitude is not None:
            distance = haversine_km(lat, lng, float(store.latitude), float(store.longitude))
        cards.append(StoreCard(store, open_status(store, weekly, specials, now), distance,
                               weekly, specials))
    if lat is not None and lng is not None:
        cards.sort(key=lambda c: (c.distance_km is None, c.distance_km or 0))
    return cards


def store_by_code(code: str, *, tryon: bool = False) -> Store | None:
    stores = Store.objects.for_tryon() if tryon else Store.objects.shops()
    return stores.filter(code=code).first()


def store_by_ref(ref: str | int) -> Store | None:
    """An active shop by id (``"12"``) or code (``"sh-njxl"``)."""
    stores = Store.objects.shops()
    if isinstance(ref, int) or str(ref).isdecimal():
        pk = whole_number(ref)
        return stores.filter(pk=pk).first() if pk is not None else None
    return stores.filter(code=ref).first()


def store_card(store: Store, *, now: datetime | None = None, days: int = 30) -> StoreCard:
    """One store's hours, dated hours for ``days`` ahead and open status (two queries)."""
    now = now or timezone.now()
    today = now.astimezone(store.zone).date()
    weekly = weekly_hours(store.hours.all())
    specials = specials_by_date(SpecialHours.objects.filter(
        store=store, date__gte=today - timedelta(days=1), date__lte=today + timedelta(days=days)))
    return StoreCard(store, open_status(store, weekly, specials, now), None, weekly, specials)


def tryon_stores() -> list[Store]:
    return list(Store.objects.for_tryon().order_by("city", "code"))


# --- Pieces and slots ---------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A variant as one store's try-on sees it: here now, or from ``source`` by ``ready_on``."""

    variant: Variant
    here: int  # available at the store now
    source: Store | None  # where a transfer would bring it from
    ready_on: date | None  # first local day it can be tried here; None: nowhere to be had

    @property
    def available(self) -> bool:
        return self.ready_on is not None


def _source_rank(store: Store, available: int) -> tuple:
    # The quickest source; among equals a warehouse (it exists to feed shops), then the
    # one with most pieces, then a stable order.
    return (store.dispatch_days, store.kind != StoreKind.WAREHOUSE, -available, store.pk)


def pieces_for_store(*, store: Store, variant_ids: Sequence[int] = (), skus: Sequence[str] = (),
                     now: datetime | None = None) -> list[Piece]:
    """Each requested variant (by id or SKU) with where it is (two queries). Raises
    UnknownVariant for one that is not an active piece of the catalogue."""
    now = now or timezone.now()
    ids = list(dict.fromkeys(int(v) for v in variant_ids))
    skus = list(dict.fromkeys(skus))
    if not ids and not skus:
        return []
    found = list(Variant.objects.filter(Q(pk__in=ids) | Q(sku__in=skus), is_active=True,
                                        product__is_active=True)
                 .select_related("product")
                 .only("sku", "size", "current_price", "product", "product__name",
                       "product__name_en", "product__slug"))
    variants = {v.pk: v for v in found}
    by_sku = {v.sku: v.pk for v in found}
    missing = [str(v) for v in ids if v not in variants] + [s for s in skus if s not in by_sku]
    if missing:
        raise UnknownVariant(
            _("There is no piece %(ids)s in the catalogue.") % {"ids": ", ".join(missing)},
            extra={"variants": missing})
    ids = list(dict.fromkeys(ids + [by_sku[s] for s in skus]))
    if len(ids) > MAX_PIECES:
        raise SlotUnavailable(_("Choose at most %(max)s pieces.") % {"max": MAX_PIECES},
                              code="too_many_pieces")
    stock = defaultdict(list, availability_for_variants(ids))
    today = local_today(store, now)
    pieces = []
    for vid in ids:
        here = next((n for place, n in stock[vid] if place.pk == store.pk), 0)
        if here:
            pieces.append(Piece(variants[vid], here, None, today))
            continue
        elsewhere = sorted(((p, n) for p, n in stock[vid] if p.pk != store.pk),
                           key=lambda item: _source_rank(*item))
        if elsewhere:
            source = elsewhere[0][0]
            pieces.append(Piece(variants[vid], 0, source,
                                today + timedelta(days=source.dispatch_days)))
        else:
            pieces.append(Piece(variants[vid], 0, None, None))
    return pieces


def ready_at(store: Store, pieces: Iterable[Piece]) -> datetime | None:
    """The first moment every piece can be in the store (local midnight of the latest day)."""
    days = [p.ready_on for p in pieces if p.ready_on is not None]
    if not days:
        return None
    latest = max(days)
    return datetime.combine(latest, datetime.min.time(), tzinfo=store.zone)


def busy_intervals(*, store: Store, start: datetime, end: datetime,
                   exclude: Appointment | None = None) -> list[Busy]:
    """Live appointments of ``store`` that overlap [start, end) (one query)."""
    rows = Appointment.objects.filter(store=store, status__in=ACTIVE_APPOINTMENT,
                                      starts_at__lt=end, ends_at__gt=start)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    return list(rows.values_list("starts_at", "ends_at", "seat"))


def appointment_ready_at(appointment: Appointment) -> datetime | None:
    """When the pieces an appointment waits for (transfers not yet received) are expected
    in the store: local midnight of the latest expected day (one query)."""
    days = [d for d in Transfer.objects.filter(
        appointment=appointment, status__in=[TransferStatus.REQUESTED, TransferStatus.SHIPPED],
    ).values_list("expected_on", flat=True) if d]
    if not days:
        return None
    return datetime.combine(max(days), datetime.min.time(), tzinfo=appointment.store.zone)


@dataclass(frozen=True)
class SlotsView:
    store: Store
    days: list[Day]
    pieces: list[Piece]
    ready_at: datetime | None


def parse_day(raw: str | None, *, store: Store, now: datetime) -> date:
    """``YYYY-MM-DD`` (default: the store's today); SlotUnavailable(bad_date) otherwise."""
    if not raw:
        return local_today(store, now)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SlotUnavailable(_("Give the date as YYYY-MM-DD, for example 2026-12-24."),
                              code="bad_date") from None


def slots_for_store(*, store: Store, first_day: date, days: int = 14,
                    variant_ids: Sequence[int] = (), skus: Sequence[str] = (),
                    now: datetime | None = None,
                    exclude: Appointment | None = None,
                    ready: datetime | None = None) -> SlotsView:
    """Slots of ``days`` days from ``first_day`` for the chosen pieces (ids or SKUs): five
    queries (hours, dated hours, appointments, variants, stock), whatever the span.

    Raises SlotUnavailable for a day before the store's today (bad_date) and a span
    longer than MAX_SLOT_DAYS, UnknownVariant for an unknown piece.
    """
    now = now or timezone.now()
    today = local_today(store, now)
    if first_day < today:
        raise SlotUnavailable(_("That day has passed; choose today or a later day."),
                              code="date_in_past")
    if not 1 <= days <= MAX_SLOT_DAYS:
        raise SlotUnavailable(_("Ask for 1 to %(max)s days at a time.") % {"max": MAX_SLOT_DAYS},
                              code="bad_days")
    if first_day > last_bookable_day(store, now):
        # Also keeps date arithmetic far from year 9999 (OverflowError).
        raise SlotUnavailable(_("Bookings open %(days)s days ahead; choose an earlier day.")
                              % {"days": store.booking_days}, code="too_far")
    weekly = weekly_hours(store.hours.all())
    last = first_day + timedelta(days=days)
    specials = specials_by_date(SpecialHours.objects.filter(store=store, date__gte=first_day,
                                                            date__lt=last))
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=store.zone)
    busy = busy_intervals(store=store, start=start, end=start + timedelta(days=days),
                          exclude=exclude)
    pieces = pieces_for_store(store=store, variant_ids=variant_ids, skus=skus, now=now)
    when_ready = ready_at(store, pieces)
    if ready is not None:
        when_ready = max(when_ready, ready) if when_ready else ready
    computed = compute_days(store=store, first_day=first_day, days=days, weekly=weekly,
                            specials=specials, busy=busy, now=now, ready_at=when_ready)
    return SlotsView(store, computed, pieces, when_ready)


# --- Appointments -------------------------------------------------------------------------


def appointments_for_member(user: User) -> list[Appointment]:
    """A member's try-ons, upcoming first (soonest on top), then the past (latest on top).

    Two queries (appointments with their store; pieces with products)."""
    if not getattr(user, "is_authenticated", False):
        return []
    rows = list(Appointment.objects.filter(member=user).select_related("store")
                .prefetch_related(Prefetch(
                    "items", queryset=AppointmentItem.objects.select_related("variant__product",
                                                                            "transfer")))
                .order_by("-starts_at")[:50])
    now = timezone.now()
    upcoming = sorted((a for a in rows if a.is_active and a.ends_at > now),
                      key=lambda a: a.starts_at)
    past = [a for a in rows if not (a.is_active and a.ends_at > now)]
    return upcoming + past


def appointment_for_page(number: str) -> Appointment | None:
    return (Appointment.objects.select_related("store", "member")
            .prefetch_related(Prefetch(
                "items", queryset=AppointmentItem.objects.select_related(
                    "variant__product", "transfer__source")))
            .filter(number=number).first())


def appointments_for_day(*, store: Store, day: date) -> list[Appointment]:
    """A store's appointments of one local day in time order, with pieces, where each
    piece is (reservation, transfer) and the events (four queries)."""
    return list(
        Appointment.objects.on_day(store, day).select_related("store", "member", "staff")
        .prefetch_related(
            Prefetch("items", queryset=AppointmentItem.objects.select_related(
                "variant__product", "transfer__source")),
            Prefetch("reservations", to_attr="live_reservations",
                     queryset=Reservation.objects.filter(status=ReservationStatus.ACTIVE)),
        )
        .order_by("starts_at", "seat"))


@dataclass(frozen=True)
class PieceToPrepare:
    variant: Variant
    appointments: list[Appointment]
    state: str  # "here", "in_transit", "requested", "missing"
    transfer: Transfer | None = None


def pieces_to_prepare(appointments: Sequence[Appointment]) -> list[PieceToPrepare]:
    """What the floor must lay out for the live appointments of a day, by piece."""
    grouped: dict[int, PieceToPrepare] = {}
    for appointment in appointments:
        if not appointment.is_active:
            continue
        held = {r.variant_id for r in getattr(appointment, "live_reservations", [])
                if r.store_id == appointment.store_id}
        for item in appointment.items.all():
            if item.variant_id in held:
                state, transfer = "here", None
            elif item.transfer is not None and item.transfer.status == TransferStatus.SHIPPED:
                state, transfer = "in_transit", item.transfer
            elif item.transfer is not None and item.transfer.status == TransferStatus.REQUESTED:
                state, transfer = "requested", item.transfer
            else:
                state, transfer = "missing", item.transfer
            entry = grouped.get(item.variant_id)
            if entry is None:
                grouped[item.variant_id] = PieceToPrepare(item.variant, [appointment], state,
                                                          transfer)
            else:
                entry.appointments.append(appointment)
    order = {"missing": 0, "requested": 1, "in_transit": 2, "here": 3}
    return sorted(grouped.values(), key=lambda p: (order[p.state], p.variant.sku))
