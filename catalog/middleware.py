"""The anonymous page cache.

A visitor who is not signed in and has nothing in the session that a page shows (no
cart, no pending message) sees exactly what every other such visitor sees, so the
rendered page is kept in Redis under the catalog version token (catalog.cache) and
served without touching the database. What is personal on those pages is fetched after
load (recently viewed pieces, catalog.views.recently_viewed). Any catalog change (price,
rate, product, image) moves the token; a page also records the stock tokens it was built
from (catalog.cache: a product page its variants', a list page the floor token), and is
served only while they stand, so a sale re-renders only the pages that show it and no
stale page can be served. A miss is rendered once across processes (single_flight).
Pages that set a cookie (a CSRF token, a session) are never stored.
"""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

from .cache import Entry, collecting, fresh, page_key, single_flight
from .views import RECENT_KEY

# Session keys that no cached page shows; any other key (a signed-in user, a cart,
# queued messages) makes the visitor's pages personal, and they pass by the cache.
NEUTRAL_SESSION_KEYS = frozenset({RECENT_KEY})

PAGE_TIMEOUT = 600
# Shopper pages that depend on nothing but the URL and the catalog version for an
# anonymous visitor. Store pages are left out: they show "open now", which
# changes with the clock, not with the catalog.
CACHEABLE_PREFIXES = ("/", "/products/", "/search/")


def _unprefixed(path: str) -> str:
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if path.startswith(prefix):
            return path[len(prefix) - 1:]
    return path


def _cacheable_request(request) -> bool:
    if request.method != "GET":
        return False
    if "messages" in request.COOKIES:
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES and not _neutral(request.session):
        return False
    path = _unprefixed(request.path_info)
    return path == "/" or path.startswith(CACHEABLE_PREFIXES[1:])


def _neutral(session) -> bool:
    """Nothing in ``session`` changes what a cached page shows (one Redis read)."""
    return set(session.keys()) <= NEUTRAL_SESSION_KEYS


def _storable(request, response) -> bool:
    session = getattr(request, "session", None)
    return (response.status_code == 200 and not response.streaming and not response.cookies
            and "no-store" not in response.get("Cache-Control", "")
            and (session is None or (not session.modified and _neutral(session))))


class AnonymousPageCacheMiddleware:
    """Whole-page cache for anonymous shoppers.

    Sits inside the session and locale middleware (language known, session
    visible) and outside CSRF and messages, so it sees every cookie a page sets.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _cacheable_request(request):
            return self.get_response(request)
        key = page_key(request, "page")
        stored = cache.get(key)
        if not fresh(stored):
            with single_flight(key) as builder:
                # Look again, the lock's holder too: another process may have stored the
                # page and let go of the lock between the first look and this one (it was
                # rendered twice then).
                stored = cache.get(key)
                if not fresh(stored):
                    return self._render(request, key, builder)
        content, headers = stored.value
        response = HttpResponse(content)
        for name, value in headers:
            response[name] = value
        response["X-Page-Cache"] = "hit"
        return response

    def _render(self, request, key, builder):
        with collecting() as deps:
            response = self.get_response(request)
        if _storable(request, response):
            headers = [(k, v) for k, v in response.items() if k.lower() != "set-cookie"]
            entry = Entry((response.content, headers), deps)
            if builder:  # the page and the lock's release in one round trip
                builder.store(key, entry, PAGE_TIMEOUT)
            else:
                cache.set(key, entry, PAGE_TIMEOUT)
            response["X-Page-Cache"] = "miss"
        return response
