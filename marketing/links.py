"""Signed links in marketing messages: the open pixel, the tracked redirect and the
one-click unsubscribe, each naming the reach (Touch) it belongs to.

Tokens are the touch number (and, for a redirect, the target path) signed with their own
salt; they never expire (a member may unsubscribe from a year-old email). A redirect only
goes to a path on the shop (never another site: no open redirect).
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme

from stores.tokens import absolute

SALT_OPEN = "marketing.touch.open"
SALT_CLICK = "marketing.touch.click"
SALT_UNSUBSCRIBE = "marketing.touch.unsubscribe"


def shop_path(link: str) -> str:
    """``link`` when it is a path on the shop ("/products/"), else the home page."""
    link = (link or "").strip()
    if link.startswith("/") and not link.startswith("//") and url_has_allowed_host_and_scheme(
            link, allowed_hosts=None):
        return link
    return "/"


_TOKEN = "T0KEN"


@lru_cache(maxsize=64)
def _template(name: str, language: str, base: str) -> str:
    """The absolute URL of ``name`` with a stand-in token, once per language (a campaign
    builds 100,000 links: reverse() and a language switch each would cost seconds)."""
    with translation.override(language):
        return absolute(reverse(name, kwargs={"token": _TOKEN}))


def _url(name: str, token: str, language: str) -> str:
    return _template(name, language, settings.SHOP_BASE_URL).replace(_TOKEN, token, 1)


@lru_cache(maxsize=16)
def _signer(salt: str, secret: str) -> signing.Signer:
    return signing.Signer(key=secret, salt=salt)


def _sign(salt: str, value) -> str:
    """``value`` signed (a string as it is, anything else as compact JSON); the signer is
    made once per salt and secret key, not once per link."""
    signer = _signer(salt, settings.SECRET_KEY)
    return signer.sign(value) if isinstance(value, str) else signer.sign_object(value)


def open_url(touch_id: int, *, language: str) -> str:
    return _url("marketing:open", _sign(SALT_OPEN, str(touch_id)), language)


def click_url(touch_id: int, link: str, *, language: str) -> str:
    return _url("marketing:click", _sign(SALT_CLICK, {"t": touch_id, "l": shop_path(link)}),
                language)


def unsubscribe_url(touch_id: int, channel: str, *, language: str) -> str:
    return _url("marketing:unsubscribe", _sign(SALT_UNSUBSCRIBE, {"t": touch_id, "c": channel}),
                language)


def open_token_read(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=SALT_OPEN).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def click_token_read(token: str) -> tuple[int, str] | None:
    try:
        data = signing.Signer(salt=SALT_CLICK).unsign_object(token)
        return int(data["t"]), shop_path(str(data["l"]))
    except (signing.BadSignature, ValueError, KeyError, TypeError):
        return None


def unsubscribe_token_read(token: str) -> tuple[int, str] | None:
    try:
        data = signing.Signer(salt=SALT_UNSUBSCRIBE).unsign_object(token)
        return int(data["t"]), str(data["c"])
    except (signing.BadSignature, ValueError, KeyError, TypeError):
        return None
