from dataclasses import dataclass

from django.conf import settings
from django.urls import NoReverseMatch, ResolverMatch, reverse, translate_url
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    url: str  # this page in that language
    absolute_url: str
    is_current: bool


def _translated(path: str, match: ResolverMatch, code: str) -> str:
    """``translate_url(path, code)`` for the path ``match`` was resolved from."""
    with override(code):
        try:
            url = reverse(match.view_name, args=match.args, kwargs=match.kwargs)
        except NoReverseMatch:
            return path
    query = path.partition("?")[2]
    return f"{url}?{query}" if query else url


def language_links(request) -> list[LanguageLink]:
    """The current page in each language (the home page where it has no twin, as a 404).

    The language comes from the URL alone (o2o.middleware.PathLocaleMiddleware), so
    switching is a plain link to the translated URL: no cookie, no form, cacheable.
    """
    current = get_language()
    path = request.get_full_path()
    # The view's own match saves resolving the path again for every language (as
    # translate_url would); without a script prefix the two are the same.
    match = request.resolver_match if request.path == request.path_info else None
    links = []
    for code, name in settings.LANGUAGES:
        url = _translated(path, match, code) if match is not None else translate_url(path, code)
        if url == path and code != current:
            with override(code):
                url = reverse("catalog:home")
        links.append(LanguageLink(code, name, url, request.build_absolute_uri(url), code == current))
    return links


def shop_name() -> str:
    return settings.SHOP_NAME or _("Jinyuan Jewellery")


def shop(request):
    """Values every page needs (the catalog's menu is catalog.context_processors').

    The lazy ones cost nothing on a page that does not show them (the admin).
    """
    return {
        "SHOP_NAME": shop_name(),
        "CURRENCY": settings.CURRENCY,
        "LANGUAGE_LINKS": SimpleLazyObject(lambda: language_links(request)),
    }
