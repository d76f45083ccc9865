"""The orders app's error codes. Services raise these; o2o.errors turns them into 4xx."""

from o2o.errors import ApplicationError
from o2o.transitions import TransitionNotAllowed


class OrderTransitionNotAllowed(TransitionNotAllowed):
    """The order's status does not allow this move (TRANSITIONS in orders.services)."""

    code = "order_transition_not_allowed"


class PaymentMismatch(ApplicationError):
    """A payment notice whose amount or currency is not the order's: never applied."""

    code = "payment_mismatch"


class OrderInvalid(ApplicationError):
    """An order that cannot be placed as asked: no pieces, no store for a pickup..."""

    code = "order_invalid"
