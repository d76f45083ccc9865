"""The page chrome (the top bar, the header with its menus, the footer), rendered once and
filled in for each visitor.

Rendering the chrome was about three quarters of a signed-in member's page (some 200
template nodes, 30 ``reverse()`` and 46 ``{% translate %}``), while the page's catalog
parts come from cached fragments. What the chrome shows depends on the language, the
catalog (the category menu) and whether the visitor is signed in; everything else in it
is the visitor's own or the page's: the search box's words, the CSRF token, the bag
count, which menu entry is the current page, the links to this page in each language.

So each chrome template is rendered once per (template, language, category menu,
signed in or not) with *slots* in those places, and kept in the process (a few KB per
combination). The menu itself is the key, not the catalog version: the version moves
with every price or product edit, which leaves the chrome as it was, and re-rendering
the four shells after each such change was some 5 ms of every first page after it (and
of every cold page the bench measures); a renamed or added category is a new menu, so
new shells. Each request fills the slots in one pass over the string. The shell is
rendered from a context that holds nothing of the visitor's (no request, no user), so
no visitor's data can be cached in it; what is filled in is escaped as the template
would have escaped it.

A slot is ``\\x00name:argument\\x00``: NUL can appear in no text the chrome shows
(PostgreSQL refuses it, o2o.middleware.NulMiddleware drops it from requests), so a slot
can never be confused with content.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone
from django.utils.autoreload import file_changed
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from o2o.context_processors import shop_name

from .cache import request_catalog_version
from .selectors import category_menu

_SLOT = re.compile("\x00([^\x00]*)\x00")
CURRENT = ' aria-current="page"'


def slot(name: str, argument: str = "") -> SafeString:
    """The mark of a slot, as a shell holds it."""
    return mark_safe(f"\x00{name}:{argument}\x00")


class _Link:
    """A language link as the shell sees it: its URLs are slots."""

    def __init__(self, code: str, name: str, is_current: bool):
        self.code, self.name, self.is_current = code, name, is_current
        self.url = slot("lang", code)
        self.absolute_url = slot("absolute", code)


# --- The shells -------------------------------------------------------------------------

# (category menu, template, language, signed in) -> the rendered shell. The menu (a tuple
# of frozen MenuCategory rows, read at the request's catalog version) is in the key, so a
# shell always shows the menu the request read, whatever other threads read meanwhile.
_shells: dict[tuple[tuple, str, str, bool], str] = {}
MAX_SHELLS = 64  # 16 a menu (4 templates, 2 languages, signed in or not)


@receiver(setting_changed)
@receiver(file_changed)
def _forget_shells(**kwargs: Any) -> None:
    """A test that overrides settings (the shop's name, the URLconf) gets new shells, and
    so does runserver when a template is edited (its reloader does not restart for those)."""
    _shells.clear()


def _shell(template_name: str, *, signed_in: bool, menu: tuple) -> str:
    language = get_language()
    key = (menu, template_name, language, signed_in)
    shell = _shells.get(key)
    if shell is None:
        if len(_shells) >= MAX_SHELLS:
            _shells.clear()  # earlier menus' shells
        shell = _shells[key] = get_template(template_name).template.render(Context({
            "SHOP_NAME": shop_name(),
            "CATEGORY_MENU": list(menu),
            "LANGUAGE_LINKS": [_Link(code, name, code == language)
                               for code, name in settings.LANGUAGES],
            "signed_in": signed_in,
            "csrf_token": slot("csrf"),
            "in_chrome_shell": True,
        }))
    return shell


# --- Filling the slots ------------------------------------------------------------------


class _Visitor:
    """The slots' values for one request, each worked out on first use."""

    def __init__(self, context: Context, request):
        self.context, self.request = context, request
        self.links: dict[str, Any] | None = None
        self.bag: int | None = None

    def __call__(self, match: re.Match) -> str:
        name, _sep, argument = match.group(1).partition(":")
        return getattr(self, f"fill_{name}")(argument)

    def _get(self, name: str) -> str:
        return self.request.GET.get(name, "") if self.request is not None else ""

    def fill_q(self, _argument: str) -> str:
        return escape(self._get("q"))

    def fill_csrf(self, _argument: str) -> str:
        return escape(self.context.get("csrf_token") or "")

    def fill_current(self, url: str) -> str:
        """The link to ``url`` is the current page."""
        path = self.request.path if self.request is not None else None
        return CURRENT if url and path == url else ""

    def fill_nav(self, slug: str) -> str:
        """The category menu's entry ``slug`` is what the list shows (or, with no slug,
        "All jewellery": the list without a category, collection or words)."""
        if slug:
            return CURRENT if self._get("category") == slug else ""
        match = getattr(self.request, "resolver_match", None)
        if (match is not None and match.view_name == "catalog:product_list"
                and not (self._get("category") or self._get("collection") or self._get("q"))):
            return CURRENT
        return ""

    def _bag(self) -> int:
        if self.bag is None:
            count = self.context.get("BAG_COUNT")
            self.bag = int(count() if callable(count) else count or 0)
        return self.bag

    def fill_bag(self, _argument: str) -> str:
        return str(self._bag())

    def fill_bag_hidden(self, _argument: str) -> str:
        return "" if self._bag() else " hidden"

    def _link(self, code: str):
        if self.links is None:
            self.links = {link.code: link for link in self.context.get("LANGUAGE_LINKS") or ()}
        return self.links.get(code)

    def fill_lang(self, code: str) -> str:
        link = self._link(code)
        return escape(link.url) if link else ""

    def fill_absolute(self, code: str) -> str:
        link = self._link(code)
        return escape(link.absolute_url) if link else ""

    def fill_year(self, _argument: str) -> str:
        return f"{timezone.localtime().year:04d}"


def _menu(request) -> tuple:
    """The category menu at the request's catalog version, read once per request (the
    page's four chrome templates show it)."""
    if request is None:
        return tuple(category_menu())
    menu = getattr(request, "_catalog_menu", None)
    if menu is None:
        menu = request._catalog_menu = tuple(
            category_menu(version=request_catalog_version(request)))
    return menu


def render_chrome(template_name: str, context: Context) -> SafeString:
    """``template_name`` as this request shows it: the shell for its language, catalog
    version and sign-in state, with the visitor's slots filled."""
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    shell = _shell(template_name, signed_in=signed_in, menu=_menu(request))
    visitor = _Visitor(context, request)
    return mark_safe(_SLOT.sub(visitor, shell))
