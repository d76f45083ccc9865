"""Try-on appointments: book, reschedule, check in, complete, no-show, cancel.

One service per transition, each in one transaction: lock the row, re-check the move
against TRANSITIONS on the locked row, save, write the audit row, and schedule the
emails with ``transaction.on_commit``. Seats: the booking locks the store's row
(FOR NO KEY UPDATE, so rows that merely reference the store are not held up), counts
the live appointments that overlap the slot and takes the lowest free seat; the
exclusion constraint on (store, seat, time range) backs it in the database.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from o2o.auth import User
from o2o.phone import phone_normalize
from o2o.transitions import Lifecycle

from ..errors import BookingInvalid, SlotTaken, SoldOut, TransitionNotAllowed
from ..events import appointment_event_record, transfer_event_record
from ..models import (
    Appointment,
    AppointmentEventKind,
    AppointmentItem,
    AppointmentStatus,
    Outcome,
    Reservation,
    ReservationPurpose,
    ReservationStatus,
    StockLevel,
    Store,
    Transfer,
    TransferEventKind,
    TransferStatus,
)
from ..selectors import MAX_PIECES, appointment_ready_at, busy_intervals, slots_for_store
from ..signals import appointment_completed
from ..slots import seat_free, slot_check
from ..slots_cache import slots_changed
from .emails import Kind as EmailKind
from .emails import appointment_emails_enqueue
from .permissions import ensure_may_act
from .stock import ReserveLine, locked_reservations_close, reserve_lines
from .transfers import ALPHABET, HOLD_AFTER_APPOINTMENT, TRANSFER, transfer_create_locked
from .tryon_sales import tryon_sale_check

S = AppointmentStatus
K = AppointmentEventKind

# The appointment life cycle: from each status, the statuses it may move to.
# (booked -> completed: staff may close a try-on they forgot to check in.)
TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    S.BOOKED: frozenset({S.CHECKED_IN, S.COMPLETED, S.NO_SHOW, S.CANCELLED}),
    S.CHECKED_IN: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.NO_SHOW: frozenset(),
    S.CANCELLED: frozenset(),
}

# A piece bought at a try-on stays set aside this long for the sale to be rung up.
ORDER_HOLD = timedelta(hours=24)


def appointment_number_new() -> str:
    return "A" + "".join(secrets.choice(ALPHABET) for _ in range(7))


def _refused(appointment: Appointment, to) -> TransitionNotAllowed:
    return TransitionNotAllowed(
        _("This appointment is %(status)s; it cannot become %(to)s.") % {
            "status": appointment.get_status_display(), "to": AppointmentStatus(to).label},
        extra={"status": appointment.status})


# The appointment's life cycle (o2o.transitions).
APPOINTMENT = Lifecycle(model=Appointment, table=TRANSITIONS, refused=_refused,
                        select_related=("store",))


def _language(language: str, member: User | None) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    for candidate in (language, member.language if member else "", translation.get_language()):
        try:
            code = translation.get_supported_language_variant(candidate) if candidate else ""
        except LookupError:
            continue
        if code in codes:
            return code
    return settings.LANGUAGE_CODE


def _contact(*, name: str, phone: str, email: str) -> tuple[str, str, str]:
    name = (name or "").strip()
    if not name:
        raise BookingInvalid(_("Tell us your name."), code="name_required")
    try:
        phone = phone_normalize((phone or "").strip())
    except ValidationError as exc:
        raise BookingInvalid(exc.messages[0], code="invalid_phone") from None
    email = (email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise BookingInvalid(_("Enter a valid email address."), code="invalid_email") from None
    return name[:100], phone, email


def _enqueue_email(appointment: Appointment, kind: str, now: datetime, notify: bool) -> None:
    """The shopper's email (unless ``notify`` is off) and the reminders of the new time:
    outbox rows in the caller's transaction (stores.services.emails)."""
    appointment_emails_enqueue(appointment=appointment, kind=kind, notify=notify, now=now)


def appointment_book(*, store: Store, starts_at: datetime, variant_ids: Sequence[int],
                     contact_name: str, contact_phone: str, contact_email: str = "",
                     note: str = "", member: User | None = None, language: str = "",
                     now: datetime | None = None, notify: bool = True) -> Appointment:
    """Book a seat of ``store`` at ``starts_at`` for 1 to MAX_PIECES pieces.

    Pieces the store has are reserved there until the appointment ends (plus a hold);
    a piece it lacks is requested by a transfer from the quickest source (reserved
    there), and only days after that transfer's lead time are bookable.

    Locks: the store row, then stock rows by pk (one pass). Raises SlotUnavailable
    (400: closed, past, too soon, too far, not a slot, pieces not ready), SlotTaken (409),
    SoldOut (409), UnknownVariant / BookingInvalid (400). Sends the confirmation after
    commit when there is an email address.
    """
    now = now or timezone.now()
    ids = list(dict.fromkeys(int(v) for v in variant_ids))
    if not ids:
        raise BookingInvalid(_("Choose at least one piece to try."), code="no_pieces")
    if len(ids) > MAX_PIECES:
        raise BookingInvalid(_("Choose at most %(max)s pieces.") % {"max": MAX_PIECES},
                             code="too_many_pieces")
    if member is not None:
        contact_name = contact_name or member.name
        contact_phone = contact_phone or member.phone or ""
        contact_email = contact_email or member.email or ""
    name, phone, email = _contact(name=contact_name, phone=contact_phone, email=contact_email)
    if starts_at.tzinfo is None:
        raise BookingInvalid(_("Give the time with its time zone."), code="naive_time")

    with transaction.atomic():
        store = (Store.objects.select_for_update(no_key=True, of=("self",)).get(pk=store.pk))
        if not store.takes_tryons:
            raise BookingInvalid(_("%(store)s does not offer try-on appointments.")
                                 % {"store": store.title}, code="no_tryon")
        local = starts_at.astimezone(store.zone)
        view = slots_for_store(store=store, first_day=local.date(), days=1, variant_ids=ids,
                               now=now)
        gone = [p for p in view.pieces if not p.available]
        if gone:
            raise SoldOut(_("%(pieces)s is sold out everywhere at the moment.") % {
                "pieces": ", ".join(f"{p.variant.product.title} ({p.variant.sku})" for p in gone)},
                extra={"skus": [p.variant.sku for p in gone]})
        slot = slot_check(store=store, day=view.days[0], starts_at=local)
        busy = busy_intervals(store=store, start=slot.starts_at, end=slot.ends_at)
        seat = seat_free(store=store, starts_at=slot.starts_at, ends_at=slot.ends_at, busy=busy)
        if seat is None:
            raise SlotTaken()

        appointment = _appointment_insert(
            store=store, starts_at=slot.starts_at, ends_at=slot.ends_at, seat=seat, member=member,
            contact_name=name, contact_phone=phone, contact_email=email, note=(note or "")[:500],
            language=_language(language, member))
        items = {p.variant.pk: AppointmentItem(appointment=appointment, variant=p.variant)
                 for p in view.pieces}
        holds = [ReserveLine(store, p.variant, 1, ReservationPurpose.APPOINTMENT,
                             appointment.number, appointment.ends_at + HOLD_AFTER_APPOINTMENT,
                             appointment)
                 for p in view.pieces if p.here]
        by_source: dict[int, list] = defaultdict(list)
        for piece in view.pieces:
            if not piece.here:
                by_source[piece.source.pk].append(piece)
        for pieces in by_source.values():
            transfer, lines = transfer_create_locked(
                source=pieces[0].source, destination=store, actor=None, appointment=appointment,
                lines=[(p.variant, 1) for p in pieces], expected_on=max(p.ready_on for p in pieces),
                note=_("For try-on %(number)s") % {"number": appointment.number}, now=now,
                reserve=False)
            holds += lines
            for piece in pieces:
                items[piece.variant.pk].transfer = transfer
        AppointmentItem.objects.bulk_create(items.values())
        reserve_lines(holds, now=now)  # all stock rows of the booking, in pk order
        appointment_event_record(
            appointment=appointment, kind=K.BOOKED, actor=member, at=now,
            skus=[p.variant.sku for p in view.pieces],
            transfers=sorted({i.transfer.number for i in items.values() if i.transfer}))
        _enqueue_email(appointment, EmailKind.CONFIRMATION, now, notify)
    return appointment


def _appointment_insert(**fields) -> Appointment:
    """INSERT with a fresh number; the exclusion constraint's refusal becomes SlotTaken."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(number=appointment_number_new(),
                                                         **fields)
            slots_changed(store_id=appointment.store_id, moments=[appointment.starts_at],
                          zone=appointment.store.zone)
            return appointment
        except IntegrityError as exc:
            if "appointment_seat_not_double_booked" in str(exc):
                raise SlotTaken() from None
            if "number" not in str(exc):
                raise
    raise RuntimeError("no free appointment number")  # pragma: no cover - 32^7 numbers


def appointment_reschedule(*, appointment: Appointment, starts_at: datetime,
                           actor: User | None = None, now: datetime | None = None,
                           notify: bool = True) -> Appointment:
    """Move a booked appointment to another slot of the same store (same rules as a
    booking; pieces on their way keep their lead time). Raises as appointment_book.

    Locks the store row, then the appointment. The reminders start over for the new
    time, the calendar sequence rises, and the shopper gets the new time by email.
    """
    now = now or timezone.now()
    with transaction.atomic():
        store = Store.objects.select_for_update(no_key=True, of=("self",)).get(
            pk=appointment.store_id)
        locked = APPOINTMENT.lock(appointment)
        if actor is not None and actor.is_staff:
            ensure_may_act(actor=actor, store=store)
        if locked.status != S.BOOKED:
            raise TransitionNotAllowed(
                _("This appointment is %(status)s; only a booked one can move.")
                % {"status": locked.get_status_display()}, extra={"status": locked.status})
        if locked.starts_at <= now:
            raise TransitionNotAllowed(_("This appointment has already begun."), code="started")
        local = starts_at.astimezone(store.zone)
        view = slots_for_store(store=store, first_day=local.date(), days=1, now=now,
                               exclude=locked, ready=appointment_ready_at(locked))
        slot = slot_check(store=store, day=view.days[0], starts_at=local)
        busy = busy_intervals(store=store, start=slot.starts_at, end=slot.ends_at, exclude=locked)
        seat = seat_free(store=store, starts_at=slot.starts_at, ends_at=slot.ends_at, busy=busy)
        if seat is None:
            raise SlotTaken()
        before = locked.starts_at
        slots_changed(store_id=store.pk, moments=[before, slot.starts_at], zone=store.zone)
        locked.starts_at, locked.ends_at, locked.seat = slot.starts_at, slot.ends_at, seat
        locked.sequence += 1
        try:
            with transaction.atomic():
                locked.save(update_fields=["starts_at", "ends_at", "seat", "sequence",
                                           "updated_at"])
        except IntegrityError as exc:
            if "appointment_seat_not_double_booked" in str(exc):
                raise SlotTaken() from None
            raise
        Reservation.objects.filter(appointment=locked, status=ReservationStatus.ACTIVE,
                                   purpose=ReservationPurpose.APPOINTMENT).update(
            expires_at=locked.ends_at + HOLD_AFTER_APPOINTMENT)
        appointment_event_record(appointment=locked, kind=K.RESCHEDULED, actor=actor, at=now,
                                 before=before.isoformat(), after=locked.starts_at.isoformat())
        _enqueue_email(locked, EmailKind.RESCHEDULED, now, notify)
    return locked


def _wind_up(appointment: Appointment, *, actor: User | None, now: datetime, reason: str,
             keep_variant_ids: set[int] = frozenset()) -> dict:
    """Give back what a finished appointment held: release its reservations (but keep
    ``keep_variant_ids`` for the sale to be rung up) and call off the transfers
    that have not shipped. Locks: transfers by pk, then reservations by pk, then stock
    rows by pk in one pass. Call with the appointment locked."""
    slots_changed(store_id=appointment.store_id, moments=[appointment.starts_at],
                  zone=appointment.store.zone)  # its seat is free again
    transfers = list(Transfer.objects.select_for_update(of=("self",))
                     .filter(appointment=appointment, status=TransferStatus.REQUESTED)
                     .order_by("pk"))
    rows = list(Reservation.objects.select_for_update(of=("self",))
                .filter(Q(appointment=appointment) | Q(transfer__in=transfers),
                        status=ReservationStatus.ACTIVE).order_by("pk"))
    keep = [r for r in rows if r.appointment_id == appointment.pk and r.transfer_id is None
            and r.variant_id in keep_variant_ids]
    release = [r for r in rows if r not in keep]
    locked_reservations_close(release, status=ReservationStatus.RELEASED, reason=reason, now=now)
    if keep:
        # Held under the appointment's own number, never an order's: an order's pieces
        # are its own reservations, and a counter sale of this shopper takes these over
        # (tryon_sales.appointment_holds_hand_over).
        Reservation.objects.filter(pk__in=[r.pk for r in keep]).update(
            reference=appointment.number, expires_at=now + ORDER_HOLD)
    for transfer in transfers:
        TRANSFER.move(transfer, TransferStatus.CANCELLED, fields={"cancelled_at": now},
                      audit=lambda _previous, transfer=transfer: transfer_event_record(
                          transfer=transfer, kind=TransferEventKind.CANCELLED, actor=actor,
                          at=now, reason=f"appointment {appointment.number}: {reason}"))
    return {"released": len(release), "kept_for_order": len(keep),
            "transfers_cancelled": [t.number for t in transfers]}


@transaction.atomic
def appointment_check_in(*, appointment: Appointment, actor: User | None,
                         now: datetime | None = None) -> Appointment:
    """The shopper has arrived. Staff of the store only; the pieces stay reserved."""
    now = now or timezone.now()
    locked = APPOINTMENT.lock(appointment)
    ensure_may_act(actor=actor, store=locked.store)
    APPOINTMENT.move(locked, S.CHECKED_IN,
                     fields={"checked_in_at": now, "staff": actor or locked.staff},
                     audit=lambda _previous: appointment_event_record(
                         appointment=locked, kind=K.CHECKED_IN, actor=actor, at=now))
    return locked


@transaction.atomic
def appointment_complete(*, appointment: Appointment, actor: User | None, outcome: str,
                         order_reference: str = "", reason: str = "",
                         bought_variant_ids: Sequence[int] | None = None,
                         now: datetime | None = None) -> Appointment:
    """Close a try-on with its outcome.

    ``bought`` with ``order_reference``: the sale must be one of ``tryon_sales`` (that
    shopper, that store, a piece tried; BookingInvalid ``order_not_for_tryon`` else);
    every hold is released, since the sale holds its own pieces. ``bought`` with no sale
    yet: the pieces bought (all by default) stay held for ORDER_HOLD under the
    appointment's number, for the counter sale to take over; the rest are released.
    ``not_bought`` (with a reason): everything is released."""
    now = now or timezone.now()
    if outcome not in (Outcome.BOUGHT, Outcome.NOT_BOUGHT):
        raise BookingInvalid(_("Say whether the shopper bought something."), code="outcome_required")
    locked = APPOINTMENT.lock(appointment)
    ensure_may_act(actor=actor, store=locked.store)
    APPOINTMENT.check(locked, S.COMPLETED)
    keep: set[int] = set()
    sale = ""
    if outcome == Outcome.BOUGHT:
        sale, bought = tryon_sale_check(locked, order_reference, bought_variant_ids)
        keep = set() if sale else bought
    summary = _wind_up(locked, actor=actor, now=now, reason=f"try-on {outcome}",
                       keep_variant_ids=keep)
    APPOINTMENT.move(locked, S.COMPLETED, fields={
        "completed_at": now, "outcome": outcome, "order_reference": sale,
        "outcome_reason": (reason or "").strip()[:200] if outcome == Outcome.NOT_BOUGHT else "",
        "staff": actor or locked.staff,
    }, audit=lambda _previous: appointment_event_record(
        appointment=locked, kind=K.COMPLETED, actor=actor, at=now, outcome=outcome,
        order_reference=locked.order_reference, reason=locked.outcome_reason, **summary))
    appointment_completed.send(sender=Appointment, appointment=locked, outcome=outcome,
                               at=now)
    return locked


@transaction.atomic
def appointment_no_show(*, appointment: Appointment, actor: User | None,
                        now: datetime | None = None) -> Appointment:
    """The shopper did not come: only once the appointment has begun. Releases the pieces."""
    now = now or timezone.now()
    locked = APPOINTMENT.lock(appointment)
    ensure_may_act(actor=actor, store=locked.store)
    APPOINTMENT.check(locked, S.NO_SHOW)
    if now < locked.starts_at:
        raise TransitionNotAllowed(_("A shopper can be marked absent only once the "
                                     "appointment has begun."), code="not_started")
    summary = _wind_up(locked, actor=actor, now=now, reason="no-show")
    APPOINTMENT.move(locked, S.NO_SHOW, audit=lambda _previous: appointment_event_record(
        appointment=locked, kind=K.NO_SHOW, actor=actor, at=now, **summary))
    return locked


def appointment_cancel(*, appointment: Appointment, actor: User | None = None,
                       reason: str = "", by_shopper: bool = False, now: datetime | None = None,
                       notify: bool = True) -> Appointment:
    """Cancel a booked appointment: the seat frees up, the pieces are released and
    transfers not yet shipped are called off. A shopper (``by_shopper``: through the
    signed link, or a member) may cancel until it begins; staff of the store any time.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = APPOINTMENT.lock(appointment)
        if not by_shopper:
            ensure_may_act(actor=actor, store=locked.store)
        APPOINTMENT.check(locked, S.CANCELLED)
        if by_shopper and locked.starts_at <= now:
            raise TransitionNotAllowed(_("This appointment has already begun; please call the "
                                         "store."), code="started")
        summary = _wind_up(locked, actor=actor, now=now, reason="cancelled")
        APPOINTMENT.move(
            locked, S.CANCELLED,
            fields={"cancelled_at": now, "cancel_reason": (reason or "").strip()[:200]},
            audit=lambda _previous: appointment_event_record(
                appointment=locked, kind=K.CANCELLED, actor=actor, at=now,
                by="shopper" if by_shopper else "staff", reason=locked.cancel_reason,
                **summary))
        _enqueue_email(locked, EmailKind.CANCELLED, now, notify)
    return locked


@transaction.atomic
def appointment_create_historical(*, store: Store, starts_at: datetime, status: str,
                                  variants: Sequence, contact_name: str, contact_phone: str,
                                  contact_email: str = "", member: User | None = None,
                                  language: str = "", note: str = "", staff: User | None = None,
                                  outcome: str = "", outcome_reason: str = "",
                                  order_reference: str = "", cancel_reason: str = "",
                                  booked_at: datetime | None = None, source: str = "import"
                                  ) -> Appointment:
    """Import a try-on as it was found (the demo's history, another system's bookings).

    Runs no transition and sends nothing: status, outcome and timestamps are written as
    given, with an "imported" audit row. A live one (booked, checked in) takes a free seat
    and has the pieces the store holds reserved for it, exactly like a booking; raises
    SlotTaken when no seat is free.
    """
    ends_at = starts_at + timedelta(minutes=store.tryon_minutes)
    live = status in (S.BOOKED, S.CHECKED_IN)
    store = Store.objects.select_for_update(no_key=True, of=("self",)).get(pk=store.pk)
    seat = 1
    if live:
        seat = seat_free(store=store, starts_at=starts_at, ends_at=ends_at,
                         busy=busy_intervals(store=store, start=starts_at, end=ends_at))
        if seat is None:
            raise SlotTaken()
    booked_at = booked_at or starts_at - timedelta(days=2)
    appointment = _appointment_insert(
        store=store, starts_at=starts_at, ends_at=ends_at, seat=seat, status=status,
        member=member, contact_name=contact_name[:100], contact_phone=contact_phone,
        contact_email=contact_email, language=_language(language, member), note=note[:500],
        staff=staff, outcome=outcome, outcome_reason=outcome_reason[:200],
        order_reference=order_reference[:40], cancel_reason=cancel_reason[:200],
        checked_in_at=starts_at if status in (S.CHECKED_IN, S.COMPLETED) else None,
        completed_at=ends_at if status == S.COMPLETED else None,
        cancelled_at=booked_at + timedelta(hours=5) if status == S.CANCELLED else None)
    Appointment.objects.filter(pk=appointment.pk).update(created_at=booked_at)
    AppointmentItem.objects.bulk_create([AppointmentItem(appointment=appointment, variant=v)
                                         for v in variants])
    if live:
        here = set(StockLevel.objects.available().filter(store=store, variant__in=list(variants))
                   .values_list("variant_id", flat=True))
        reserve_lines([ReserveLine(store, v, 1, ReservationPurpose.APPOINTMENT, appointment.number,
                                   ends_at + HOLD_AFTER_APPOINTMENT, appointment)
                       for v in variants if v.pk in here])
    appointment_event_record(appointment=appointment, kind=K.IMPORTED, actor=staff,
                             at=booked_at, source=source, status=status)
    return appointment
