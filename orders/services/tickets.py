"""After-sales service tickets: returns, exchanges, resizing, repairs, cleaning, appraisals.

``TICKET_TRANSITIONS`` is the one place that says which moves exist; ``ticket_move`` is
the only writer of ServiceTicket.status (validated, idempotent, audited in
ServiceTicketEvent with who, when and a note). ``ticket_open`` is the way in: a member
online, for a piece of one of their own orders, or staff in store for anyone.

A return is accepted only for an order that reached its customer (collected, delivered,
completed, or already partly refunded) and only within RETURN_WINDOW_DAYS of that.
Closing a return gives the money back (orders.services.payments.payment_refund, the
line's frozen total) and puts the piece back into the ticket's store's stock.

LOCKS: ServiceTicket row; ticket_open locks the OrderLine row so that one piece gets one
return. Closing a return never holds a row lock across the refund (it may call Stripe):
a PostgreSQL advisory lock on the ticket (try, never wait) keeps two clerks from closing
it at once, the refund is made outside any transaction, then the ticket is re-locked,
restocked and closed in one transaction. A retried close finds the refund by its reason
("return <ticket number>") instead of refunding twice.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import User
from o2o.errors import ApplicationError, ConflictError
from o2o.transitions import Lifecycle, TransitionNotAllowed
from stores.models import Store, StoreKind
from stores.services import stock_receive
from stores.services.permissions import ensure_may_act

from ..models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Refund,
    RefundStatus,
    ServiceTicket,
    ServiceTicketEvent,
    TicketKind,
    TicketStatus,
)
from ..selectors import SERVICEABLE_ORDER_STATUSES
from ..signals import ticket_closed
from .lifecycle import NUMBER_ALPHABET, NUMBER_RANDOM_CHARS
from .payments import payment_refund

T = TicketStatus
S = OrderStatus

# The ticket life cycle: from each status, the statuses it may move to.
TICKET_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    T.OPEN: frozenset({T.RECEIVED, T.REFUSED}),
    T.RECEIVED: frozenset({T.IN_PROGRESS, T.REFUSED}),
    T.IN_PROGRESS: frozenset({T.READY}),
    T.READY: frozenset({T.CLOSED}),
    T.CLOSED: frozenset(),
    T.REFUSED: frozenset(),
}
FINAL_STATUSES = frozenset({T.CLOSED, T.REFUSED})
DESCRIPTION_MAX = 2000
NOTE_MAX = 500
# Namespace of the advisory lock that claims a return being closed (any fixed int4).
_CLOSE_LOCK_CLASS = 0x5403


class TicketInvalid(ApplicationError):
    """A ticket that cannot be opened as asked (no piece, not your order, no store...)."""

    code = "ticket_invalid"


class TicketTransitionNotAllowed(TransitionNotAllowed):
    """The ticket's status does not allow this move (TICKET_TRANSITIONS)."""

    code = "ticket_transition_not_allowed"


class ReturnNotAllowed(ConflictError):
    """A return outside the window, of an order that never reached the shopper, or of a
    piece already returned."""

    code = "return_not_allowed"


def ticket_number_new(*, at: datetime | None = None) -> str:
    """``S`` + local yymmdd + 6 random base32 characters, like order numbers."""
    day = timezone.localtime(at or timezone.now()).strftime("%y%m%d")
    for _attempt in range(8):
        number = "S" + day + "".join(secrets.choice(NUMBER_ALPHABET)
                                     for _ in range(NUMBER_RANDOM_CHARS))
        if not ServiceTicket.objects.filter(number=number).exists():
            return number
    raise ConflictError(_("Could not find a free ticket number; please try again."),
                        code="ticket_number_exhausted")


def _refused(ticket: ServiceTicket, to) -> TicketTransitionNotAllowed:
    return TicketTransitionNotAllowed(
        _("Ticket %(number)s is %(status)s; it cannot become %(to)s.") % {
            "number": ticket.number, "status": ticket.get_status_display(), "to": T(to).label},
        extra={"status": ticket.status, "to": str(to)})


# The ticket's life cycle (o2o.transitions).
TICKET = Lifecycle(model=ServiceTicket, table=TICKET_TRANSITIONS, refused=_refused)


def ticket_move_allowed(*, status: str, to: str) -> bool:
    return TICKET.allows(T(status), to)


def ticket_moves(ticket: ServiceTicket) -> list[TicketStatus]:
    """The statuses the ticket may move to next, in the order of the statuses."""
    return [to for to in T if TICKET.allows(T(ticket.status), to)]


def order_handed_over_at(order: Order) -> datetime | None:
    """When the order reached its customer: completed_at, else the time of the move to
    collected or delivered (from the audit trail)."""
    if order.completed_at:
        return order.completed_at
    event = (OrderEvent.objects.filter(order=order, kind="status",
                                       data__to__in=[S.COLLECTED, S.DELIVERED])
             .order_by("-at").first())
    return event.at if event else None


def return_deadline(order: Order) -> datetime | None:
    handed_over = order_handed_over_at(order)
    if handed_over is None:
        return None
    return handed_over + timedelta(days=settings.RETURN_WINDOW_DAYS)


def return_check(*, order: Order, line: OrderLine, now: datetime | None = None) -> None:
    """Raise ReturnNotAllowed unless ``line`` can be returned now (read only)."""
    now = now or timezone.now()
    if order.status not in SERVICEABLE_ORDER_STATUSES:
        raise ReturnNotAllowed(
            _("Order %(number)s is %(status)s: only pieces that reached you can be returned.")
            % {"number": order.number, "status": order.get_status_display()},
            extra={"status": order.status})
    deadline = return_deadline(order)
    if deadline is None or now > deadline:
        raise ReturnNotAllowed(
            _("Returns are accepted within %(days)s days of receiving the piece; this one's "
              "time has passed.") % {"days": settings.RETURN_WINDOW_DAYS},
            code="return_window_closed")
    if ServiceTicket.objects.filter(line=line, kind=TicketKind.RETURN).exclude(
            status=T.REFUSED).exists():
        raise ReturnNotAllowed(_("This piece already has a return."),
                               code="return_exists")


def _is_staff_actor(actor: User | None, member: User | None) -> bool:
    return actor is not None and actor.is_staff and actor != member


def line_resizable(line: OrderLine) -> bool:
    """A piece that has a size (a ring size, a bangle's or a chain's length) can be
    resized; earrings, pendants and brooches cannot."""
    return bool(line.variant.size)


@transaction.atomic
def ticket_open(*, kind: str, member: User | None = None, order: Order | None = None,
                line: OrderLine | None = None, store: Store | None = None,
                contact_name: str = "", contact_phone: str = "", description: str = "",
                actor: User | None = None) -> ServiceTicket:
    """Open a service ticket (status open) with its first history row.

    Online (``actor`` is the member or None): ``member`` must own ``order`` and
    ``line`` is one of its pieces. In store (``actor`` is staff): anyone, with or
    without an order; the actor must work at ``store``. A return also needs the order
    to have reached the shopper within RETURN_WINDOW_DAYS, and one piece has one return.
    Raises TicketInvalid (400), ReturnNotAllowed (409), NotYourStore (403).
    """
    if kind not in TicketKind.values:
        raise TicketInvalid(_("Choose one of our services."), code="ticket_kind_invalid")
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise TicketInvalid(_("Keep the description under %(n)s characters.") % {
            "n": DESCRIPTION_MAX}, code="description_too_long")
    if store is None or store.kind != StoreKind.STORE or not store.is_active:
        raise TicketInvalid(_("Choose one of our stores for the service."),
                            code="store_required")
    in_store = _is_staff_actor(actor, member)
    if in_store:
        ensure_may_act(actor=actor, store=store)
    else:
        if member is None or (actor is not None and actor != member):
            raise TicketInvalid(_("Sign in to ask for a service."), code="member_required")
        if order is None or line is None:
            raise TicketInvalid(_("Choose the piece from one of your orders."),
                                code="piece_required")
        if order.member_id != member.pk:
            raise TicketInvalid(_("Choose the piece from one of your orders."),
                                code="not_your_order")
    if line is not None:
        line = OrderLine.objects.select_for_update(of=("self",)).get(pk=line.pk)
        if order is None:
            order = line.order
        if line.order_id != order.pk:
            raise TicketInvalid(_("That piece is not part of this order."),
                                code="piece_not_in_order")
    if order is not None:
        order = Order.objects.get(pk=order.pk)
        if order.status not in SERVICEABLE_ORDER_STATUSES and not (
                in_store and kind != TicketKind.RETURN):
            raise ReturnNotAllowed(
                _("Order %(number)s is %(status)s: a service can be asked for once the piece "
                  "has reached you.") % {"number": order.number,
                                         "status": order.get_status_display()},
                code="order_not_handed_over", extra={"status": order.status})
        if member is None and order.member_id:
            member = order.member
    if kind == TicketKind.RETURN:
        if order is None or line is None:
            raise TicketInvalid(_("A return needs the order and the piece."),
                                code="piece_required")
        return_check(order=order, line=line)
    if kind == TicketKind.RESIZE and line is not None and not line_resizable(line):
        raise TicketInvalid(_("%(piece)s has no size to change: resizing is for rings, "
                              "bangles and chains.") % {"piece": line.product_name},
                            code="not_resizable")
    if member is not None:
        contact_name = contact_name.strip() or member.name or ""
        contact_phone = contact_phone.strip() or str(member.phone or "")
    contact_name, contact_phone = contact_name.strip()[:100], contact_phone.strip()[:20]
    if not contact_name and not contact_phone:
        raise TicketInvalid(_("Give the shopper's name or mobile number."),
                            code="contact_required")

    now = timezone.now()
    ticket = ServiceTicket.objects.create(
        number=ticket_number_new(at=now), kind=kind, status=T.OPEN, order=order, line=line,
        member=member, store=store, contact_name=contact_name, contact_phone=contact_phone,
        description=description, staff=actor if in_store else None)
    ServiceTicketEvent.objects.create(ticket=ticket, status=T.OPEN, actor=actor or member,
                                      at=now, note="")
    return ticket


def _record(locked: ServiceTicket, to: TicketStatus, *, actor: User | None, note: str,
            now: datetime, refund: Refund | None = None) -> None:
    fields: dict = {}
    if actor is not None and actor.is_staff:
        fields["staff"] = actor
    if to in FINAL_STATUSES:
        fields["closed_at"] = now
        if note:
            fields["resolution"] = note
    if refund is not None:
        fields["refund"] = refund
    TICKET.move(locked, to, fields=fields, audit=lambda _previous:
                ServiceTicketEvent.objects.create(ticket=locked, status=to, actor=actor, at=now,
                                                  note=note))
    if to == T.CLOSED:
        ticket_closed.send(sender=ServiceTicket, ticket=locked, at=now)


def _ensure_staff(actor: User | None, ticket: ServiceTicket) -> None:
    if actor is not None:
        ensure_may_act(actor=actor, store=ticket.store)


def ticket_move(*, ticket: ServiceTicket, to: str, actor: User | None,
                note: str = "") -> ServiceTicket:
    """Move ``ticket`` to ``to``: validated against TICKET_TRANSITIONS, idempotent (already
    there: nothing happens), audited. Only staff of the ticket's store (or the system,
    ``actor`` None) move tickets. Closing a return refunds the piece's frozen price and
    restocks it at the ticket's store (see the module's lock notes).

    Raises ApplicationError (unknown status), TicketTransitionNotAllowed (409),
    NotYourStore (403), and for a return the refund's errors (nothing closed then).
    """
    if to not in T.values:
        raise ApplicationError(_("Unknown ticket status."), code="ticket_status_invalid")
    to = T(to)
    note = (note or "").strip()[:NOTE_MAX]
    if to == T.CLOSED and ticket.kind == TicketKind.RETURN:
        return _return_close(ticket=ticket, actor=actor, note=note)
    with transaction.atomic():
        locked = TICKET.lock(ticket)
        _ensure_staff(actor, locked)
        if locked.status == to:
            return locked
        TICKET.check(locked, to)
        _record(locked, to, actor=actor, note=note, now=timezone.now())
    return locked


def _refund_reason(ticket: ServiceTicket) -> str:
    return f"return {ticket.number}"


def _refund_made(ticket: ServiceTicket) -> Refund | None:
    return (Refund.objects.filter(payment__order_id=ticket.order_id,
                                  reason=_refund_reason(ticket))
            .exclude(status=RefundStatus.FAILED).order_by("pk").first())


def _return_close(*, ticket: ServiceTicket, actor: User | None, note: str) -> ServiceTicket:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_CLOSE_LOCK_CLASS, ticket.pk])
        claimed = cursor.fetchone()[0]
    if not claimed:
        raise ConflictError(_("Someone is closing this ticket right now."),
                            code="ticket_busy")
    try:
        with transaction.atomic():
            locked = TICKET.lock(ticket)
            _ensure_staff(actor, locked)
            if locked.status == T.CLOSED:
                return locked
            TICKET.check(locked, T.CLOSED)
            if locked.line_id is None or locked.order_id is None:
                raise TicketInvalid(_("A return needs the order and the piece."),
                                    code="piece_required")
            refund = _refund_made(locked)
        if refund is None:
            # Outside any transaction: a Stripe refund is a network call.
            refund = payment_refund(order=locked.order, amount=locked.line.line_total,
                                    actor=actor, reason=_refund_reason(locked))
        with transaction.atomic():
            locked = TICKET.lock(ticket)
            if locked.status == T.CLOSED:
                return locked
            TICKET.check(locked, T.CLOSED)
            line = locked.line
            stock_receive(store=locked.store, variant=line.variant, quantity=line.quantity)
            _record(locked, T.CLOSED, actor=actor, note=note, now=timezone.now(),
                    refund=refund)
        return locked
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_CLOSE_LOCK_CLASS, ticket.pk])
