"""The bag count in the site header."""

from django import template

from ..models import CartLine
from ..services.cart import CART_SESSION_KEY, cart_count, cart_get

register = template.Library()


@register.simple_tag(takes_context=True)
def bag_count(context) -> int:
    """Pieces in the visitor's bag. No query for a guest without a bag (the pages the page
    cache stores), one for a member or a guest with one (their pages are not cached)."""
    request = context.get("request")
    if request is None:
        return 0
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return sum(CartLine.objects.filter(cart__member=user)
                   .values_list("quantity", flat=True))
    session = getattr(request, "session", None)
    token = session.get(CART_SESSION_KEY) if session is not None else None
    if not token:
        return 0
    return cart_count(cart=cart_get(token=token))
