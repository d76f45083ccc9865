"""Places: where members live (their address book, else their last delivery), city by
city and district by district, against the stores: the cities with members and no store
are where a new store would have customers waiting."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from o2o.dashboard import Scope, panel_register

from .. import selectors
from ..scope import drill_from_request
from .base import AnalyticsPanel, Column, Figures, bars, scatter_map, url_with

CITIES_FILE = Path(__file__).resolve().parent.parent / "data" / "cities.json"


@cache
def cities() -> dict[str, dict]:
    """City name (Chinese, without 市) -> {en, lng, lat}, shipped with the app."""
    return json.loads(CITIES_FILE.read_text(encoding="utf-8"))["cities"]


def city_title(name: str) -> str:
    if not name:
        return _("unknown")
    english = (get_language() or "").startswith("en")
    known = cities().get(selectors.normalise_city(name))
    return known["en"] if english and known else name


@panel_register
class MembersByPlace(AnalyticsPanel):
    key = "analytics.places"
    section = "places"
    order = 10
    title = gettext_lazy("Members by place, against the stores")
    template = "analytics/panels/places.html"
    description = gettext_lazy(
        "Where members live, from their address book or their last delivery; buyers bought "
        "in the last twelve months. Counted nightly. Pick a city for its districts.")

    def compute(self, request, scope: Scope) -> Figures:
        drill = drill_from_request(request)
        result = selectors.places(scope, city=drill.city or None)
        stores_by_city = result["stores_by_city"]
        figures = Figures()
        figures.extra["as_of"] = result["as_of"]
        if drill.city:
            figures.extra["city"] = city_title(drill.city)
            figures.extra["back"] = url_with(request, city=None)
            rows = [[district or _("unknown"), members, buyers]
                    for district, members, buyers in result["rows"]]
            index = figures.table(_("Members in %(city)s by district") % {
                "city": city_title(drill.city)}, [Column(_("District")),
                                                   Column(_("Members"), "int"),
                                                   Column(_("Buyers"), "int")], rows)
            figures.chart("districts", bars([r[0] for r in rows[:25]],
                                            [(_("Members"), [r[1] for r in rows[:25]])],
                                            kind="int", horizontal=True), index,
                          height=max(220, 26 * min(len(rows), 25) + 40))
            return figures
        known = cities()
        rows, points, links = [], [], []
        for city, members, buyers in result["rows"]:
            key = selectors.normalise_city(city)
            here = stores_by_city.get(key, [])
            rows.append([city_title(city), members, buyers, len(here),
                         ", ".join(s.title for s in here), _("no store") if city and not here
                         else ""])
            links.append(url_with(request, city=city) if city else "")
            if key in known:
                points.append((city_title(city), known[key]["lng"], known[key]["lat"], members))
        index = figures.table(self.title, [
            Column(_("City")), Column(_("Members"), "int"), Column(_("Buyers"), "int"),
            Column(_("Stores"), "int"), Column(pgettext("stores", "Which")),
            Column(_("Note"))], rows)
        figures.extra["drill"] = links
        pins = []
        for key, stores in stores_by_city.items():
            for store in stores:
                if store.longitude is not None and store.latitude is not None:
                    pins.append((store.title, float(store.longitude), float(store.latitude)))
                elif key in known:
                    pins.append((store.title, known[key]["lng"], known[key]["lat"]))
        figures.chart("map", scatter_map(points, pins, members_label=_("Members"),
                                         stores_label=_("Stores")), index, height=460,
                      label=self.title)
        return figures
