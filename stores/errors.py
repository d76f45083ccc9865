"""The stores app's error codes. Services raise these; o2o.errors turns them into 4xx.

Codes are stable (clients and tests match on them); messages are for people.
"""

from django.utils.translation import gettext_lazy as _

from o2o.errors import ApplicationError, ConflictError, NotFoundError
from o2o.transitions import TransitionNotAllowed as KernelTransitionNotAllowed


class SoldOut(ConflictError):
    """Not enough pieces available (on hand less reserved) at the location."""

    code = "sold_out"


class SlotTaken(ConflictError):
    """Every seat of that time went to someone else."""

    code = "slot_taken"

    def __init__(self, message=None, **kwargs):
        super().__init__(message or _("That time was just taken. Please choose another time."),
                         **kwargs)


class SlotUnavailable(ApplicationError):
    """A time that cannot be booked: closed day, past, too soon, not on the grid...

    ``code`` says which: store_closed, slot_in_past, too_soon, too_far, not_a_slot,
    pieces_not_ready, bad_date.
    """

    code = "slot_unavailable"


class BookingInvalid(ApplicationError):
    """The booking itself is malformed: no pieces, too many, a store without try-on..."""

    code = "booking_invalid"


class UnknownVariant(ApplicationError):
    code = "unknown_variant"


class TransitionNotAllowed(KernelTransitionNotAllowed):
    """The record is not in a state that allows this step (already done, or too late)."""

    code = "not_allowed"


class NotYourStore(ApplicationError):
    """Store staff act only on the stores they are assigned to."""

    code = "not_your_store"
    status = 403


class StockChanged(ConflictError):
    """Stock moved between a count's preview and its confirmation."""

    code = "stock_changed"


class BadLink(NotFoundError):
    """A reschedule/cancel link that is forged, expired or for a finished appointment."""

    code = "bad_link"
