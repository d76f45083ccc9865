"""Which sale a try-on ended in: a sale of that shopper, at that store, holding pieces
that were tried.

stores knows no orders (orders is a higher layer), so the orders app registers where
the sales of a try-on are found (``tryon_sales_register``, from its AppConfig.ready), as
it registers its part of a member's data with o2o.privacy. A clerk
closing a try-on as bought picks one of those sales, or none yet; a number that is not
one of them is refused, so a piece held for a try-on can never be booked against an
unrelated order (a ¥19,800 ring once stayed held for an earring sale).

When a sale is named, the try-on's holds are released: the sale holds its own pieces.
With none yet, the bought pieces stay held under the appointment's own number for
ORDER_HOLD, and the counter sale of that shopper takes them over
(``appointment_holds_hand_over``), so ringing it up never meets its own hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from o2o.auth import User

from ..errors import BookingInvalid
from ..events import appointment_event_record
from ..models import (
    Appointment,
    AppointmentEventKind,
    AppointmentStatus,
    Outcome,
    Reservation,
    ReservationPurpose,
    ReservationStatus,
    Store,
)
from .stock import locked_reservations_close


@dataclass(frozen=True)
class TryOnSale:
    """A sale that may close a try-on: its number, a line for a pick-list, its pieces."""

    number: str
    label: str
    variant_ids: frozenset[int]


SalesFinder = Callable[[Appointment], Sequence[TryOnSale]]
_finder: SalesFinder | None = None


def tryon_sales_register(finder: SalesFinder) -> None:
    """The orders app names the function that lists a try-on's candidate sales."""
    global _finder
    _finder = finder


def tryon_sales(appointment: Appointment) -> list[TryOnSale]:
    """The sales of the try-on's shopper at its store that hold a piece tried (the
    pick-list of the complete form); empty when no sales app is installed."""
    return list(_finder(appointment)) if _finder is not None else []


def tryon_sale_check(appointment: Appointment, number: str,
                     bought_variant_ids: Iterable[int] | None) -> tuple[str, set[int]]:
    """(the sale's number, the pieces bought) for closing ``appointment`` as bought.

    ``number`` empty: no sale yet, the pieces chosen (all by default). Otherwise it must
    be one of ``tryon_sales``; the pieces bought are those it holds (of those chosen).
    Raises BookingInvalid: ``order_not_for_tryon`` (another shopper's, another store's,
    or a sale without any piece tried), ``no_piece_bought``.
    """
    items = set(appointment.items.values_list("variant_id", flat=True))
    chosen = items if bought_variant_ids is None else items & {int(v) for v in bought_variant_ids}
    number = (number or "").strip().upper()[:40]
    if number:
        sale = next((s for s in tryon_sales(appointment) if s.number.upper() == number), None)
        if sale is None:
            raise BookingInvalid(
                _("Order %(number)s is not a sale to this shopper at %(store)s of a piece "
                  "tried on. Pick the sale from the list, or leave it empty if the sale is "
                  "not rung up yet.") % {"number": number, "store": appointment.store.title},
                code="order_not_for_tryon")
        chosen &= sale.variant_ids
        number = sale.number
    if not chosen:
        raise BookingInvalid(_("Choose the pieces bought (pieces of this try-on)."),
                             code="no_piece_bought")
    return number, chosen


def appointment_holds_hand_over(*, store: Store, variant_ids: Iterable[int],
                                member: User | None, phone: str, order_number: str,
                                now: datetime) -> int:
    """A counter sale takes over what a try-on of the same shopper at ``store`` kept
    for it (closed as bought, no sale named yet): those holds are released, so the
    sale reserves the pieces itself, and the appointment records the sale's number.
    Call inside the sale's transaction, before it reserves. Returns the holds released.
    """
    shopper = Q(appointment__member=member) if member is not None else Q()
    if phone:
        shopper |= Q(appointment__contact_phone=phone)
    if not shopper:
        return 0
    holds = list(Reservation.objects.select_for_update(of=("self",)).filter(
        shopper, store=store, variant_id__in=list(variant_ids),
        status=ReservationStatus.ACTIVE, purpose=ReservationPurpose.APPOINTMENT,
        appointment__status=AppointmentStatus.COMPLETED, appointment__outcome=Outcome.BOUGHT,
        appointment__order_reference="").order_by("pk"))
    if not holds:
        return 0
    locked_reservations_close(holds, status=ReservationStatus.RELEASED,
                              reason=f"sold: {order_number}", now=now)
    for appointment in Appointment.objects.filter(pk__in={h.appointment_id for h in holds}):
        appointment.order_reference = order_number
        appointment.save(update_fields=["order_reference", "updated_at"])
        appointment_event_record(appointment=appointment, kind=AppointmentEventKind.SOLD, at=now,
                                 order=order_number,
                                 pieces=[h.variant_id for h in holds
                                         if h.appointment_id == appointment.pk])
    return len(holds)
