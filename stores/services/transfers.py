"""Transfers between locations: requested -> shipped -> received (or cancelled).

Stock moves with each step, in the step's transaction, and is never counted twice:

- requested: the pieces are *reserved* at the source (still on hand there, no longer
  available to anyone else);
- shipped: they leave the source (on_hand and reserved both fall) and are *in transit*,
  counted only as shipped transfer lines (stores.selectors.in_transit_to);
- received: they are on hand at the destination; a piece an appointment waits for is
  reserved for it at once, and so are the pieces of a transfer with a ``reference`` (the
  order number they are for: reserved with purpose "order" and that reference);
- cancelled (only before shipping): the reservation at the source is released.

``reference`` is a plain string: this app never looks at orders. When the order no longer
wants the pieces, ``transfers_release_for`` cancels its requested transfers and detaches
its shipped ones (their pieces then simply join the destination's stock on arrival).

LOCK ORDER (stores/services/stock.py): Appointment row -> Transfer rows by pk ->
Reservation rows by pk -> StockLevel rows by pk. A caller from another app locks its own
row (an order) before calling in.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Variant
from o2o.auth import User
from o2o.transitions import Lifecycle

from ..errors import BookingInvalid, TransitionNotAllowed
from ..events import transfer_event_record
from ..models import (
    ACTIVE_APPOINTMENT,
    Appointment,
    Reservation,
    ReservationPurpose,
    ReservationStatus,
    Store,
    Transfer,
    TransferEventKind,
    TransferLine,
    TransferStatus,
)
from .permissions import ensure_may_act, may_act
from .stock import ReserveLine, reservations_close, reserve_lines, stock_add_locked

S = TransferStatus
K = TransferEventKind

# The transfer life cycle: from each status, the statuses it may move to.
TRANSITIONS: dict[TransferStatus, frozenset[TransferStatus]] = {
    S.REQUESTED: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset(),
    S.CANCELLED: frozenset(),
}

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: read out without doubt
HOLD_AFTER_APPOINTMENT = timedelta(hours=2)


def transfer_number_new(at: datetime | None = None) -> str:
    at = (at or timezone.now()).astimezone(timezone.get_default_timezone())
    return "T" + at.strftime("%y%m%d") + "".join(secrets.choice(ALPHABET) for _ in range(5))


def _refused(transfer: Transfer, to) -> TransitionNotAllowed:
    return TransitionNotAllowed(
        _("Transfer %(number)s is %(status)s; it cannot be %(to)s now.") % {
            "number": transfer.number, "status": transfer.get_status_display(),
            "to": TransferStatus(to).label},
        extra={"status": transfer.status})


# The transfer's life cycle (o2o.transitions).
TRANSFER = Lifecycle(model=Transfer, table=TRANSITIONS, refused=_refused,
                     select_related=("source", "destination"))


def transfer_create_locked(*, source: Store, destination: Store,
                           lines: Sequence[tuple[Variant, int]], actor: User | None,
                           note: str = "", appointment: Appointment | None = None,
                           expected_on: date | None = None, now: datetime | None = None,
                           reserve: bool = True, reference: str = "",
                           ) -> tuple[Transfer, list[ReserveLine]]:
    """transfer_create's body, for services already inside a transaction.

    With ``reserve=False`` the source's reservations are returned, not made: the booking
    (or an order) makes them together with its own in one pass over the stock rows in pk
    order. ``reference``: the order number the pieces are for; on arrival they are
    reserved for it at the destination.
    """
    now = now or timezone.now()
    if source.pk == destination.pk:
        raise BookingInvalid(_("A transfer goes between two different places."),
                             code="same_place")
    if not lines:
        raise BookingInvalid(_("A transfer needs at least one piece."), code="no_lines")
    variants = [variant.pk for variant, _quantity in lines]
    if len(set(variants)) != len(variants):
        raise BookingInvalid(_("Each piece may appear once in a transfer."), code="duplicate_line")
    if expected_on is None:
        expected_on = now.astimezone(destination.zone).date() + timedelta(days=source.dispatch_days)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                transfer = Transfer.objects.create(
                    number=transfer_number_new(now), source=source, destination=destination,
                    appointment=appointment, expected_on=expected_on, note=note[:200],
                    reference=reference[:40])
            break
        except IntegrityError:  # the random number was taken: draw again
            continue
    else:  # pragma: no cover - 32^5 numbers a day
        raise RuntimeError("no free transfer number")
    TransferLine.objects.bulk_create([TransferLine(transfer=transfer, variant=variant,
                                                   quantity=quantity)
                                      for variant, quantity in lines])
    holds = [ReserveLine(source, variant, quantity, ReservationPurpose.TRANSFER,
                         transfer.number, None, None, transfer) for variant, quantity in lines]
    if reserve:
        reserve_lines(holds, now=now)
    transfer_event_record(transfer=transfer, kind=K.CREATED, actor=actor, at=now,
                          lines=[[v.sku, q] for v, q in lines],
                          appointment=appointment.number if appointment else None,
                          **({"reference": reference} if reference else {}))
    return transfer, holds


@transaction.atomic
def transfer_create(*, source: Store, destination: Store, lines: Sequence[tuple[Variant, int]],
                    actor: User | None, note: str = "", expected_on: date | None = None) -> Transfer:
    """Request pieces from ``source`` for ``destination``: they are reserved at the source
    at once (SoldOut when they are not available). Staff must work at one of the two."""
    _ensure_either(actor, source, destination)
    transfer, _holds = transfer_create_locked(source=source, destination=destination, lines=lines,
                                              actor=actor, note=note, expected_on=expected_on)
    return transfer


def _ensure_either(actor: User | None, one: Store, other: Store) -> None:
    if not (may_act(actor=actor, store=one) or may_act(actor=actor, store=other)):
        ensure_may_act(actor=actor, store=other)


@transaction.atomic
def transfer_ship(*, transfer: Transfer, actor: User | None) -> Transfer:
    """The pieces leave the source: its reservations are committed (on_hand and reserved
    fall there) and the lines count as in transit. Staff of the source only."""
    now = timezone.now()
    locked = TRANSFER.lock(transfer)
    ensure_may_act(actor=actor, store=locked.source)
    TRANSFER.check(locked, S.SHIPPED)
    held = reservations_close(Reservation.objects.filter(transfer=locked),
                              status=ReservationStatus.COMMITTED, reason="shipped", now=now)
    held_by_variant = {r.variant_id: r.quantity for r in held}
    wanted = {line.variant_id: line.quantity for line in locked.lines.all()}
    if held_by_variant != wanted:
        # Every line was reserved at creation and only this service closes them.
        raise RuntimeError(f"transfer {locked.number}: reservations {held_by_variant} "
                           f"do not match lines {wanted}")
    TRANSFER.move(locked, S.SHIPPED, fields={"shipped_at": now}, audit=lambda _previous:
                  transfer_event_record(transfer=locked, kind=K.SHIPPED, actor=actor, at=now))
    return locked


@transaction.atomic
def transfer_receive(*, transfer: Transfer, actor: User | None) -> Transfer:
    """The pieces arrive: on_hand rises at the destination. A piece a live appointment
    waits for is reserved for it there in the same transaction, and every piece of a
    transfer with a ``reference`` is reserved there for that order (purpose "order", no
    expiry). Staff of the destination.

    Locks the appointment (if any) before the transfer: the global lock order.
    """
    now = timezone.now()
    appointment = None
    appointment_id = Transfer.objects.filter(pk=transfer.pk).values_list("appointment_id",
                                                                         flat=True).get()
    if appointment_id:
        appointment = (Appointment.objects.select_for_update(of=("self",))
                       .filter(pk=appointment_id).first())
    locked = TRANSFER.lock(transfer)
    ensure_may_act(actor=actor, store=locked.destination)
    TRANSFER.check(locked, S.RECEIVED)
    lines = list(locked.lines.select_related("variant__product").order_by("variant_id"))
    for line in lines:
        stock_add_locked(store=locked.destination, variant=line.variant, quantity=line.quantity, now=now)
    reserved_for = []
    if appointment is not None and appointment.status in ACTIVE_APPOINTMENT:
        waiting = set(appointment.items.filter(transfer=locked).values_list("variant_id", flat=True))
        todo = [line for line in lines if line.variant_id in waiting]
        reserve_lines([ReserveLine(locked.destination, line.variant, 1,
                                   ReservationPurpose.APPOINTMENT, appointment.number,
                                   appointment.ends_at + HOLD_AFTER_APPOINTMENT, appointment)
                       for line in todo], now=now)
        reserved_for = [line.variant.sku for line in todo]
    extra = {}
    if locked.reference:  # read under the lock: transfers_release_for may have cleared it
        reserve_lines([ReserveLine(locked.destination, line.variant, line.quantity,
                                   ReservationPurpose.ORDER, locked.reference, None)
                       for line in lines], now=now)
        extra["reserved_for_order"] = locked.reference
    TRANSFER.move(locked, S.RECEIVED, fields={"received_at": now}, audit=lambda _previous:
                  transfer_event_record(transfer=locked, kind=K.RECEIVED, actor=actor, at=now,
                                        reserved_for_appointment=reserved_for, **extra))
    return locked


def transfer_cancel_locked(*, transfer: Transfer, actor: User | None, reason: str,
                           now: datetime) -> Transfer:
    """Cancel a transfer the caller has locked; releases its reservations at the source."""
    TRANSFER.check(transfer, S.CANCELLED)
    reservations_close(Reservation.objects.filter(transfer=transfer),
                       status=ReservationStatus.RELEASED, reason="transfer cancelled", now=now)
    TRANSFER.move(transfer, S.CANCELLED, fields={"cancelled_at": now}, audit=lambda _previous:
                  transfer_event_record(transfer=transfer, kind=K.CANCELLED, actor=actor, at=now,
                                        reason=reason))
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer: Transfer, actor: User | None, reason: str = "") -> Transfer:
    """Call off a transfer that has not shipped; the source's pieces become available again."""
    locked = TRANSFER.lock(transfer)
    _ensure_either(actor, locked.source, locked.destination)
    return transfer_cancel_locked(transfer=locked, actor=actor, reason=reason, now=timezone.now())


@transaction.atomic
def transfers_release_for(*, reference: str, actor: User | None = None, reason: str) -> int:
    """The pieces are no longer wanted for ``reference`` (an order cancelled or refunded).

    Its live transfers, locked by pk: a requested one is cancelled (its reservation at the
    source is released); a shipped one is detached (reference cleared, a "detached" event),
    so that on arrival its pieces simply join the destination's stock. Received and
    cancelled transfers are left alone. Idempotent; returns how many transfers changed.
    No permission check: the caller (the order's own service) has made its own.
    """
    if not reference:
        return 0
    now = timezone.now()
    live = list(Transfer.objects.select_for_update(of=("self",))
                .filter(reference=reference, status__in=(S.REQUESTED, S.SHIPPED))
                .order_by("pk"))
    for transfer in live:
        if transfer.status == S.REQUESTED:
            transfer_cancel_locked(transfer=transfer, actor=actor, reason=reason, now=now)
        else:
            transfer.reference = ""
            transfer.save(update_fields=["reference"])
            transfer_event_record(transfer=transfer, kind=K.DETACHED, actor=actor, at=now,
                                  reference=reference, reason=reason)
    return len(live)
