"""Signed links to an order for shoppers who are not signed in (guests): in the emails
and on the confirmation page. The token names the order and expires; it cannot be forged."""

from django.core import signing

from .models import Order
from .selectors import order_by_number

SALT = "orders.order-link"
MAX_AGE_DAYS = 365


def order_token(order: Order) -> str:
    return signing.TimestampSigner(salt=SALT).sign(order.number)


def order_from_token(token: str) -> Order | None:
    """The order a token opens, or None for a forged, altered or expired token."""
    try:
        number = signing.TimestampSigner(salt=SALT).unsign(
            token, max_age=MAX_AGE_DAYS * 24 * 3600)
    except signing.BadSignature:
        return None
    return order_by_number(number)
