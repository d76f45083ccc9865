from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse, translate_url
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


def language_links(request) -> list[LanguageLink]:
    """The current page in each language (the home page where it has no twin, as a 404).

    The language comes from the URL alone (o2o.middleware.PathLocaleMiddleware), so
    switching is a plain link to the translated URL: no cookie, no form, cacheable.
    """
    current = get_language()
    path = request.get_full_path()
    links = []
    for code, name in settings.LANGUAGES:
        url = translate_url(path, code)
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
