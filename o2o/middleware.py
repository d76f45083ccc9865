"""Site-wide middleware: bad bytes refused early, the URL decides the language, allauth's
rate limit answered with our 429 page.

Language: zh-Hans lives at /, English under /en/. The language comes from the
path alone (never a cookie or Accept-Language), so a URL always shows the same
page in the same language: shareable, crawlable, and cacheable as a whole (the
anonymous page cache is catalog's: catalog/middleware.py).
"""

from django.conf import settings
from django.http import HttpResponseBadRequest, QueryDict
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext


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
