"""The bag count in the site header (filled into the cached chrome: catalog.chrome)."""

from functools import partial

from .selectors import bag_pieces_of_member
from .services.cart import CART_SESSION_KEY, cart_count, cart_get


def bag_pieces(request) -> int:
    """Pieces in the visitor's bag. No query for a guest without a bag (the pages the page
    cache stores), one for a member or a guest with one (their pages are not cached)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bag_pieces_of_member(user.pk)
    session = getattr(request, "session", None)
    token = session.get(CART_SESSION_KEY) if session is not None else None
    if not token:
        return 0
    return cart_count(cart=cart_get(token=token))


def bag(request) -> dict:
    """``BAG_COUNT``: called only where a page shows it (no query otherwise)."""
    return {"BAG_COUNT": partial(bag_pieces, request)}
