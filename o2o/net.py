"""The client's address, the one helper every rate limit uses (django-ratelimit's "ip"
key, allauth's login limits, django-axes, our own counters).

Without a proxy it is the connection's address (REMOTE_ADDR). Behind ``TRUSTED_PROXY_COUNT``
reverse proxies (the compose stack's TLS proxy: 1) every client would share the proxy's
address, one rate-limit bucket for the whole shop; each trusted proxy appends the address
it was connected from to X-Forwarded-For, so the client's is the n-th entry from the
right. Entries further left are whatever the client sent, never trusted. A request with
fewer entries than trusted proxies (it did not come through them) keeps REMOTE_ADDR.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _clean(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent ``request`` (see the module docstring)."""
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    if len(forwarded) < count:
        return remote
    return _clean(forwarded[-count]) or remote


def login_name(request: HttpRequest, credentials: dict | None) -> str:
    """The account a login attempt names, for django-axes: the admin's ``username``, or
    allauth's ``login`` (an email or a mobile number), lower-cased."""
    credentials = credentials or {}
    for key in ("username", "email", "phone", "login"):
        value = credentials.get(key) or (request.POST.get(key) if request is not None
                                         and request.method == "POST" else None)
        if value:
            return str(value).strip().lower()[:254]
    return ""
