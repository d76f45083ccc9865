"""The scope of a dashboard request: what the viewer may see, narrowed by what they chose.

Query parameters: ``start``, ``end`` (ISO dates, shop days, inclusive), ``compare``
(``previous`` period of the same length, ``year`` the same days a year before, ``none``),
``store`` (store codes, repeated), ``channel`` (``online``, ``delivery``, ``pickup``,
``counter``; empty: all). Store staff and managers see their own stores only
(stores.selectors.staff_store_ids); head office (superusers, ``stores.view_all_stores``)
sees every store. A bad value is a ``ScopeInvalid`` with a sentence for the page (400),
never a 500 and never a silently wider scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from catalog.models import Category
from o2o.dashboard import Scope
from o2o.errors import ApplicationError
from stores.models import Store
from stores.selectors import staff_store_ids

from .models import SalesChannel
from .services.rollups import shop_today

MAX_DAYS = 3 * 366 + 1  # the longest period one page computes
EARLIEST = date(2000, 1, 1)
COMPARE = ("previous", "year", "none")
CHANNELS = ("", "online", *SalesChannel.values)


class ScopeInvalid(ApplicationError):
    status = 400


@dataclass(frozen=True)
class Choice:
    """What the page shows in its filter bar: the scope and the stores on offer."""

    scope: Scope
    compare: str
    stores: list[Store]  # the stores the viewer may pick from
    chosen: list[Store]  # the stores picked ([]: all of them)
    chain: bool  # the viewer sees every store

    @property
    def days(self) -> int:
        return (self.scope.end - self.scope.start).days + 1


def one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def compare_period(start: date, end: date, compare: str) -> tuple[date | None, date | None]:
    if compare == "previous":
        length = end - start
        return start - length - timedelta(days=1), start - timedelta(days=1)
    if compare == "year":
        return one_year_before(start), one_year_before(end)
    return None, None


def _date(raw: str, name: str) -> date:
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise ScopeInvalid(_("“%(value)s” is not a date (the %(field)s of the period): "
                             "write it as 2026-03-31.") % {"value": raw[:40], "field": name},
                           code="bad_date") from None
    return value


def viewer_stores(user) -> tuple[bool, list[Store]]:
    """(sees every store, the stores they may pick): shops and warehouses, by city."""
    ids = staff_store_ids(user=user)
    stores = Store.objects.order_by("kind", "city", "code")
    if ids is None:
        return True, list(stores)
    return False, list(stores.filter(pk__in=ids))


def scope_from_request(request, *, default_days: int = 30, today: date | None = None,
                       default_compare: str = "previous") -> Choice:
    """The viewer's scope from the query string; ScopeInvalid for a bad value."""
    params = request.GET
    today = today or shop_today()
    chain, stores = viewer_stores(request.user)
    names = {"start": _("start"), "end": _("end")}
    end = _date(params["end"], names["end"]) if params.get("end") else today
    start = (_date(params["start"], names["start"]) if params.get("start")
             else end - timedelta(days=default_days - 1))
    if end > today:
        raise ScopeInvalid(_("The period cannot end after today (%(today)s).")
                           % {"today": today.isoformat()}, code="future")
    if start < EARLIEST:
        raise ScopeInvalid(_("The period cannot start before %(first)s.")
                           % {"first": EARLIEST.isoformat()}, code="too_early")
    if start > end:
        raise ScopeInvalid(_("The period starts after it ends: pick a start on or before "
                             "the end."), code="start_after_end")
    if (end - start).days + 1 > MAX_DAYS:
        raise ScopeInvalid(_("Pick a period of at most three years."), code="too_long")
    compare = params.get("compare") or default_compare
    if compare not in COMPARE:
        raise ScopeInvalid(_("Compare with the previous period, the same days a year "
                             "before, or nothing."), code="bad_compare")
    channel = params.get("channel", "")
    if channel not in CHANNELS:
        raise ScopeInvalid(_("“%(value)s” is not a channel.") % {"value": channel[:40]},
                           code="bad_channel")
    codes = [c for c in params.getlist("store") if c]
    by_code = {s.code: s for s in stores}
    chosen = []
    for code in codes:
        if code not in by_code:
            raise ScopeInvalid(_("“%(code)s” is not one of your stores.") % {"code": code[:40]},
                               code="not_your_store")
        chosen.append(by_code[code])
    if chosen:
        store_ids = frozenset(s.pk for s in chosen)
    elif chain:
        store_ids = None
    else:
        store_ids = frozenset(s.pk for s in stores)
    compare_start, compare_end = compare_period(start, end, compare)
    scope = Scope(store_ids=store_ids, start=start, end=end, compare_start=compare_start,
                  compare_end=compare_end, channel=channel)
    return Choice(scope=scope, compare=compare, stores=stores, chosen=chosen, chain=chain)


@dataclass(frozen=True)
class Drill:
    """Where the viewer has drilled to below a store: a category (its sub-categories and
    pieces), a city (its districts)."""

    category: Category | None = None
    city: str = ""


def drill_from_request(request) -> Drill:
    raw = request.GET.get("category", "")
    category = None
    if raw:
        category = (Category.objects.filter(pk=int(raw)).first()
                    if raw.isdecimal() and len(raw) < 19 else None)
        if category is None:
            raise ScopeInvalid(_("There is no category “%(value)s”.") % {"value": raw[:40]},
                               code="bad_category")
    city = request.GET.get("city", "").strip()[:30]
    return Drill(category=category, city=city)
