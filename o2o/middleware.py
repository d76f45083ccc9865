"""Site-wide middleware: the URL decides the language; anonymous catalog pages are cached.

Language: zh-Hans lives at /, English under /en/. The language comes from the
path alone (never a cookie or Accept-Language), so a URL always shows the same
page in the same language: shareable, crawlable, and cacheable as a whole.

Anonymous page cache: a visitor who is not signed in and has nothing in the
session that a page shows (no cart, no pending message) sees exactly what every
other such visitor sees, so the rendered page is kept in Redis under the catalog
version token (catalog.cache) and served without touching the database. What is
personal on those pages is fetched after load (recently viewed pieces,
catalog.views.recently_viewed). Any catalog change (price, rate, stock, product, image)
moves the token, so no stale page can be served. Pages that set a cookie
(a CSRF token, a session) are never stored.
"""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext

from catalog.cache import page_key
from catalog.views import RECENT_KEY

# Session keys that no cached page shows; any other key (a signed-in user, a cart,
# queued messages) makes the visitor's pages personal, and they pass by the cache.
NEUTRAL_SESSION_KEYS = frozenset({RECENT_KEY})

PAGE_TIMEOUT = 600
# Shopper pages that depend on nothing but the URL and the catalog version for an
# anonymous visitor. Store pages are left out: they show "open now", which
# changes with the clock, not with the catalog.
CACHEABLE_PREFIXES = ("/", "/products/", "/search/")


def _without_nul(data: QueryDict) -> QueryDict:
    clean = QueryDict(mutable=True)
    for key, values in data.lists():
        clean.setlist(key.replace("\x00", ""), [v.replace("\x00", "") for v in values])
    clean._mutable = False
    return clean


class NulMiddleware:
    """NUL characters never reach a view: PostgreSQL cannot store them (psycopg raises
    DataError), so any view passing one to a query would answer 500.

    In the query string and in a posted form they are dropped, as the catalog's filters
    always did (a stray %00 leaves the rest of the search intact); in the path, which
    names a record, the request is refused with a 400. Django's forms refuse NUL
    themselves, but views and the API also read raw parameters.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            return HttpResponseBadRequest(
                gettext("The request holds a NUL character, which cannot be stored."),
                content_type="text/plain; charset=utf-8")
        if "%00" in request.META.get("QUERY_STRING", ""):
            request.GET = _without_nul(request.GET)
        if (request.method == "POST"
                and request.content_type == "application/x-www-form-urlencoded"
                and b"%00" in request.body):
            request.POST = _without_nul(request.POST)
        return self.get_response(request)


class PathLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware that reads the language from the URL prefix only."""

    def process_request(self, request):
        language = translation.get_language_from_path(request.path_info)
        translation.activate(language or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()

    def __call__(self, request):
        # The page is rendered by the time the response comes back; leave the thread in
        # the default language, so whatever runs next on it (another request's code before
        # this middleware, a test) never inherits this visitor's language.
        try:
            return super().__call__(request)
        finally:
            translation.deactivate()


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
        if stored is not None:
            content, headers = stored
            response = HttpResponse(content)
            for name, value in headers:
                response[name] = value
            response["X-Page-Cache"] = "hit"
            return response
        response = self.get_response(request)
        if _storable(request, response):
            headers = [(k, v) for k, v in response.items() if k.lower() != "set-cookie"]
            cache.set(key, (response.content, headers), PAGE_TIMEOUT)
            response["X-Page-Cache"] = "miss"
        return response


class TooManyTriesMiddleware:
    """allauth's views raise its RateLimited where two requests race past a form's own
    check (sending phone codes); answer our 429 page instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from allauth.core.exceptions import RateLimited
        from allauth.core.ratelimit import respond_429

        if isinstance(exception, RateLimited):
            return respond_429(request)
        return None
