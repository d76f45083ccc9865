"""Stock: receipts, reservations, their release, commit and expiry.

Counters move only by conditional UPDATEs (``SET reserved = reserved + n WHERE
on_hand - reserved >= n``), so two sellers of the last piece cannot both win; the
CHECK constraints on StockLevel refuse an oversell even from a buggy writer.

LOCK ORDER (every service of this app follows it, so two of them never wait on
each other in a cycle):

    Store row (seat bookings) -> Appointment row -> Transfer rows by pk
    -> Reservation rows by pk -> StockLevel rows by pk

A conditional UPDATE locks the row it changes, so "StockLevel rows by pk" means the
UPDATEs of one transaction run in ascending StockLevel pk order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.cache import stock_changed
from catalog.floor import floor_moved
from catalog.models import Variant
from o2o.errors import ApplicationError

from ..errors import SoldOut, TransitionNotAllowed
from ..models import (
    Appointment,
    Reservation,
    ReservationPurpose,
    ReservationStatus,
    StockLevel,
    Store,
    Transfer,
)


def _positive(quantity: int) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise ApplicationError(_("Give a quantity of at least one piece."),
                               code="quantity_not_positive", extra={"quantity": str(quantity)})


def stock_add_locked(*, store: Store, variant: Variant, quantity: int, now: datetime) -> None:
    """on_hand += quantity, creating the row on the first receipt (inside a transaction).

    Pieces arriving where there were none date the row (``arrived_on``, the age of the
    stock); arriving beside others, they leave the oldest piece's date."""
    today = now.astimezone(store.zone).date()
    stock_changed(variant_ids=[variant.pk], floor=True)  # the shop floors show on catalog pages
    left = _stock_receipt(store, variant, quantity, now, today)
    if left is None:
        try:
            # A savepoint: a concurrent first receipt may win the unique constraint.
            with transaction.atomic():
                StockLevel.objects.create(store=store, variant=variant, on_hand=quantity,
                                          arrived_on=today)
            left = quantity
        except IntegrityError:
            left = _stock_receipt(store, variant, quantity, now, today)
    if left is not None and left - quantity <= 0 < left:
        floor_moved([(store.pk, variant.pk, +1)])  # the first piece available there


def _stock_receipt(store: Store, variant: Variant, quantity: int, now: datetime,
                   today) -> int | None:
    """on_hand += quantity on the (store, variant) row: the pieces available afterwards,
    or None when there is no row. Pieces arriving where there were none date the row
    (``arrived_on``: the CASE reads on_hand as it was before this UPDATE)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {StockLevel._meta.db_table} SET on_hand = on_hand + %s, updated_at = %s, "
            "arrived_on = CASE WHEN on_hand <= 0 THEN %s ELSE arrived_on END "
            "WHERE store_id = %s AND variant_id = %s RETURNING on_hand - reserved",
            [quantity, now, today, store.pk, variant.pk])
        row = cursor.fetchone()
    return None if row is None else row[0]


@transaction.atomic
def stock_receive(*, store: Store, variant: Variant, quantity: int) -> StockLevel:
    """Add ``quantity`` pieces of ``variant`` to ``store``'s stock; return the row as it is now.

    Creates the StockLevel row on the first receipt. Otherwise on_hand grows in
    one ``UPDATE ... SET on_hand = on_hand + n``, so concurrent receipts add up
    instead of overwriting each other. Raises ApplicationError if ``quantity`` is
    not positive (taking stock out is a different operation).
    """
    _positive(quantity)
    stock_add_locked(store=store, variant=variant, quantity=quantity, now=timezone.now())
    return StockLevel.objects.get(store=store, variant=variant)


# --- Reservations ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReserveLine:
    store: Store
    variant: Variant
    quantity: int
    purpose: str
    reference: str
    expires_at: datetime | None
    appointment: Appointment | None = None
    transfer: Transfer | None = None


def sold_out_message(variant: Variant, store: Store) -> str:
    return _("%(piece)s is no longer available at %(store)s.") % {
        "piece": f"{variant.product.title} ({variant.sku})", "store": store.title}


def _stock_move(pk: int | None, *, reserved: int, on_hand: int = 0, now: datetime,
                at: tuple[int, int] | None = None) -> int | None:
    """``reserved += reserved, on_hand += on_hand`` on one StockLevel row (by ``pk``, or
    by ``at``: (store id, variant id)) if what is left available (on_hand - reserved)
    stays at or above zero and ``reserved`` does too; the pieces available afterwards,
    or None when the row refused or is not there. One conditional UPDATE (it locks the
    row)."""
    if pk is not None:
        where, key = "id = %s", [pk]
    elif at is not None:
        where, key = "store_id = %s AND variant_id = %s", list(at)
    else:
        raise ValueError("a stock row by pk or by (store id, variant id)")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {StockLevel._meta.db_table} SET reserved = reserved + %s, "
            "on_hand = on_hand + %s, updated_at = %s "
            f"WHERE {where} AND on_hand + %s >= reserved + %s AND reserved + %s >= 0 "
            "RETURNING on_hand - reserved",
            [reserved, on_hand, now, *key, on_hand, reserved, reserved])
        row = cursor.fetchone()
    return None if row is None else row[0]


def reserve_lines(lines: Sequence[ReserveLine], *, now: datetime | None = None) -> list[Reservation]:
    """Reserve every line or none: one conditional UPDATE per line, in StockLevel pk order.

    Call inside a transaction (the caller's rolls back the lines already reserved when
    one is sold out). Raises SoldOut naming the piece and the place.
    """
    if not lines:
        return []
    now = now or timezone.now()
    for line in lines:
        _positive(line.quantity)
    if len(lines) == 1:  # one row: no order to keep, so no look-up of its pk first
        only = lines[0]
        stock_pk: dict[tuple[int, int], int | None] = {(only.store.pk, only.variant.pk): None}
    else:
        pairs = Q()
        for line in lines:
            pairs |= Q(store_id=line.store.pk, variant_id=line.variant.pk)
        stock_pk = {(s, v): pk for pk, s, v in
                    StockLevel.objects.filter(pairs).values_list("pk", "store_id", "variant_id")}
    for line in lines:
        if (line.store.pk, line.variant.pk) not in stock_pk:
            raise SoldOut(sold_out_message(line.variant, line.store),
                          extra={"sku": line.variant.sku, "store": line.store.code})
    gone: list[tuple[int, int, int]] = []
    for line in sorted(lines, key=lambda li: stock_pk[(li.store.pk, li.variant.pk)] or 0):
        left = _stock_move(stock_pk[(line.store.pk, line.variant.pk)], reserved=line.quantity,
                           now=now, at=(line.store.pk, line.variant.pk))
        if left is None:
            raise SoldOut(sold_out_message(line.variant, line.store),
                          extra={"sku": line.variant.sku, "store": line.store.code})
        if left == 0:
            gone.append((line.store.pk, line.variant.pk, -1))
    sold_out_here = bool(gone)
    floor_moved(gone)  # the kept counts of the list's shops facet, after every stock row
    # The product pages of these variants change; the list pages only when the last
    # available piece of one went at a shop (catalog.cache).
    stock_changed(variant_ids=[line.variant.pk for line in lines], floor=sold_out_here)
    return Reservation.objects.bulk_create([
        Reservation(store=line.store, variant=line.variant, quantity=line.quantity,
                    purpose=line.purpose, reference=line.reference, expires_at=line.expires_at,
                    appointment=line.appointment, transfer=line.transfer)
        for line in lines
    ])


@transaction.atomic
def stock_reserve(*, store: Store, variant: Variant, quantity: int, expires_at: datetime | None,
                  purpose: str, reference: str, appointment: Appointment | None = None,
                  transfer: Transfer | None = None) -> Reservation:
    """Set ``quantity`` pieces aside at ``store`` until ``expires_at`` (None: until released).

    ``UPDATE stock SET reserved = reserved + n WHERE on_hand - reserved >= n``: raises
    SoldOut (409, code "sold_out") when fewer than ``quantity`` are available. The
    reservation is released by reservation_release, turned into a sale by
    reservation_commit, or released by reservations_expire after ``expires_at``.
    """
    if purpose not in ReservationPurpose.values:
        raise ApplicationError(_("Unknown reservation purpose."), code="bad_purpose")
    (reservation,) = reserve_lines([ReserveLine(store, variant, quantity, purpose, reference,
                                                expires_at, appointment, transfer)])
    return reservation


def locked_reservations_close(reservations: Iterable[Reservation], *, status: str, reason: str,
                              now: datetime) -> int:
    """Close locked, active reservations; their pieces leave ``reserved`` (and ``on_hand``
    too when committed). StockLevel UPDATEs in pk order. Returns how many were closed."""
    rows = [r for r in reservations if r.status == ReservationStatus.ACTIVE]
    if not rows:
        return 0
    per_stock: dict[tuple[int, int], int] = defaultdict(int)
    for r in rows:
        per_stock[(r.store_id, r.variant_id)] += r.quantity
    pairs = Q()
    for store_id, variant_id in per_stock:
        pairs |= Q(store_id=store_id, variant_id=variant_id)
    levels = sorted(StockLevel.objects.filter(pairs).values_list("pk", "store_id", "variant_id"))
    committed = status == ReservationStatus.COMMITTED
    back: list[tuple[int, int, int]] = []
    for pk, store_id, variant_id in levels:
        quantity = per_stock[(store_id, variant_id)]
        left = _stock_move(pk, reserved=-quantity, on_hand=-quantity if committed else 0,
                           now=now)
        if left is None:
            # reserved counts every active reservation; anything else is a broken invariant.
            raise RuntimeError(f"stock {pk} holds fewer reserved pieces than its reservations")
        if not committed and left == quantity:
            back.append((store_id, variant_id, +1))
    back_on_floor = bool(back)
    floor_moved(back)
    if not committed:
        # A sale that leaves takes nothing more off the floor (available stays as it
        # was); released pieces come back, to a shop that had none when left == quantity.
        stock_changed(variant_ids=[variant_id for _pk, _store, variant_id in levels],
                      floor=back_on_floor)
    Reservation.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=status, closed_at=now, close_reason=reason[:60])
    for r in rows:
        r.status, r.closed_at, r.close_reason = status, now, reason[:60]
    return len(rows)


def reservations_close(reservations_qs, *, status: str, reason: str,
                       now: datetime | None = None) -> list[Reservation]:
    """Lock the active reservations of ``reservations_qs`` by pk, then close them.
    For services that already hold the locks that come earlier in the order."""
    now = now or timezone.now()
    rows = list(reservations_qs.filter(status=ReservationStatus.ACTIVE)
                .select_for_update(of=("self",)).order_by("pk"))
    locked_reservations_close(rows, status=status, reason=reason, now=now)
    return rows


@transaction.atomic
def reservation_release(*, reservation: Reservation, reason: str) -> Reservation:
    """Give the pieces back to ``available``. Locks the reservation, then its stock row.

    Idempotent: a reservation that is no longer active is returned as it is.
    """
    locked = Reservation.objects.select_for_update(of=("self",)).get(pk=reservation.pk)
    locked_reservations_close([locked], status=ReservationStatus.RELEASED, reason=reason, now=timezone.now())
    return locked


@transaction.atomic
def reservation_commit(*, reservation: Reservation) -> Reservation:
    """The pieces leave the store (sold, handed over, shipped): on_hand -= n, reserved -= n.

    Raises TransitionNotAllowed (409) when the reservation was released or expired
    meanwhile: the caller must reserve again.
    """
    locked = Reservation.objects.select_for_update(of=("self",)).get(pk=reservation.pk)
    if locked.status != ReservationStatus.ACTIVE:
        raise TransitionNotAllowed(
            _("This reservation is %(status)s; reserve the piece again.")
            % {"status": locked.get_status_display()}, code="reservation_closed")
    locked_reservations_close([locked], status=ReservationStatus.COMMITTED, reason="committed", now=timezone.now())
    return locked


def reservations_expire(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Release every active reservation whose ``expires_at`` has passed; return how many.

    Walks the due reservations by id range, one short transaction per batch; rows
    another transaction holds are skipped (SKIP LOCKED) and picked up by the next run.
    Safe to run twice or concurrently: each row is re-checked under its lock.
    """
    now = now or timezone.now()
    total, last_id = 0, 0
    while True:
        ids = list(Reservation.objects
                   .filter(status=ReservationStatus.ACTIVE, expires_at__lte=now, pk__gt=last_id)
                   .order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return total
        last_id = ids[-1]
        with transaction.atomic():
            rows = list(Reservation.objects
                        .filter(pk__in=ids, status=ReservationStatus.ACTIVE, expires_at__lte=now)
                        .select_for_update(of=("self",), skip_locked=True).order_by("pk"))
            total += locked_reservations_close(rows, status=ReservationStatus.EXPIRED, reason="expired", now=now)
