"""Receivers of other apps' signals (connected in OrdersConfig.ready)."""

from .services.cart import CART_SESSION_KEY, cart_get, cart_merge


def cart_merge_at_login(sender, request, user, **kwargs):
    """allauth's user_logged_in: a guest's bag (its token in the session) joins the
    member's, so nothing chosen before signing in is lost."""
    session = getattr(request, "session", None)
    if session is None:
        return
    token = session.get(CART_SESSION_KEY)
    if not token:
        return
    guest = cart_get(token=token)
    if guest is not None:
        cart_merge(guest=guest, member=user)
    session.pop(CART_SESSION_KEY, None)
