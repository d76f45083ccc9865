"""What analytics' own panels share: figures (headline numbers, charts, tables), the
columns' kinds (how a value is shown and exported), and ECharts options built here, in
Python, so that every chart's numbers are the table under it.

A chart never stands alone: ``Figures.chart(option, table)`` ties it to the table that
holds its numbers; the template shows the table below the chart (the accessible form of
the chart) and the export offers it as CSV and XLSX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from o2o.dashboard import DASHBOARD, Panel, Scope, Table

from ..formatting import show
from ..routers import reporting_reads
from ..selectors import Reader


@dataclass(frozen=True)
class Column:
    """A table heading that knows how its values are shown: text, int, money, weight
    (grams), pct (a ratio shown in %), ratio (a plain number with two decimals), date,
    month, change (a ratio of change, +12.3%)."""

    label: Any
    kind: str = "text"

    def __str__(self) -> str:
        return str(self.label)


@dataclass(frozen=True)
class Cell:
    """A value of a column whose rows differ in kind (a summary's figures)."""

    value: Any
    kind: str

    def __str__(self) -> str:
        return show(self.value, self.kind)


@dataclass(frozen=True)
class Kpi:
    label: Any
    value: Any
    kind: str = "int"
    then: Any = None  # the compared period's value
    hint: Any = ""

    @property
    def change(self) -> float | None:
        """The relative change; for a rate, the difference (in points)."""
        if self.kind == "pct":
            if self.then is None or self.value is None:
                return None
            return float(self.value) - float(self.then)
        if self.then in (None, 0) or self.value is None:
            return None
        return float((Decimal(self.value) - Decimal(self.then)) / abs(Decimal(self.then)))

    @property
    def change_kind(self) -> str:
        return "points" if self.kind == "pct" else "change"


@dataclass
class Chart:
    key: str
    option: dict
    table: int  # index of the table holding its numbers
    height: int = 320
    label: Any = ""


@dataclass
class Figures:
    kpis: list[Kpi] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[Any] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    folded: set[int] = field(default_factory=set)  # tables shown folded (the KPIs say it)

    def table(self, title, columns: list[Column], rows: list[list]) -> int:
        self.tables.append(Table(title=title, columns=tuple(columns),
                                 rows=tuple(tuple(r) for r in rows)))
        return len(self.tables) - 1

    def chart(self, key: str, option: dict, table: int, *, height: int = 320,
              label: Any = "") -> None:
        self.charts.append(Chart(key=key, option=option, table=table, height=height,
                                 label=label))



def summary(figures: Figures, title, rows: list[tuple[Any, str, str]], now: dict,
            then: dict) -> None:
    """Headline figures (label, kind, name) for the period and the one compared with: as
    cards, and as a (folded) table for the download."""
    kpis = [Kpi(label, now[name], kind, then.get(name)) for label, kind, name in rows]
    figures.kpis += kpis
    index = figures.table(title, [
        Column(_("Figure")), Column(_("This period"), "number"),
        Column(_("Compared period"), "number"), Column(pgettext_lazy("figure", "Change"),
                                                       "change")],
        [[kpi.label, Cell(kpi.value, kpi.kind), Cell(kpi.then, kpi.kind),
          Cell(kpi.change, kpi.change_kind)] for kpi in kpis])
    figures.folded.add(index)


def change(now, then) -> float | None:
    if then in (None, 0) or now is None:
        return None
    return float((Decimal(now) - Decimal(then)) / abs(Decimal(then)))


def ratio(part, whole) -> float | None:
    return float(part) / float(whole) if whole else None


def reader_for(request) -> Reader:
    """One Reader per request: today's live cells are computed once for every panel."""
    if not hasattr(request, "_analytics_reader"):
        request._analytics_reader = Reader()
    return request._analytics_reader


class AnalyticsPanel(Panel):
    """A panel of analytics' dashboards. Subclasses write ``compute``; ``context`` and
    ``tables`` share its result for the request. ``section`` groups panels in tabs;
    ``chain_only`` panels (the web shop's visits) are for viewers who see every store."""

    section: ClassVar[str] = ""
    permission = "analytics.view_dashboard"
    places = (DASHBOARD,)
    template = "analytics/panels/figures.html"
    description: ClassVar[Any] = ""
    chain_only: ClassVar[bool] = False

    def shows(self, scope: Scope) -> bool:
        """Whether the panel has anything to say for this scope."""
        return not (self.chain_only and scope.store_ids is not None)

    def compute(self, request, scope: Scope) -> Figures:
        raise NotImplementedError

    def figures(self, request, scope: Scope) -> Figures:
        memo = request.__dict__.setdefault("_analytics_figures", {})
        key = (self.key, scope, request.GET.urlencode())
        if key not in memo:
            with reporting_reads():
                memo[key] = self.compute(request, scope)
        return memo[key]

    def context(self, request, scope: Scope) -> dict:
        return {"figures": self.figures(request, scope)}

    def tables(self, request, scope: Scope) -> list[Table]:
        return self.figures(request, scope).tables


# --- ECharts options ----------------------------------------------------------------------

PALETTE = ["#8c6d3f", "#2f6f73", "#c0563b", "#5b6c9e", "#b59a4e", "#7a8b5a", "#9e5b85",
           "#4d4d4d"]


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def _values(values):
    return [_number(v) for v in values]


def bars(categories: list, series: list[tuple[Any, list]], *, kind: str = "money",
         stack: bool = False, horizontal: bool = False, lines: list[tuple[Any, list]] = (),
         ) -> dict:
    """Bars per category (one series per (name, values)), optionally stacked or lying;
    ``lines`` adds series drawn as lines over the same categories (a compared period)."""
    axis_categories = {"type": "category", "data": [str(c) for c in categories]}
    axis_values = {"type": "value", "_format": kind,
                   **({"minInterval": 1} if kind in ("int", "money") else {})}
    option = {
        "color": PALETTE,
        "tooltip": {"trigger": "axis", "_format": kind},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True},
        "xAxis": axis_values if horizontal else axis_categories,
        "yAxis": {**axis_categories, "inverse": True} if horizontal else axis_values,
        "series": [{"name": str(name), "type": "bar", "data": _values(values),
                    **({"stack": "total"} if stack else {}), "barMaxWidth": 36}
                   for name, values in series]
        + [{"name": str(name), "type": "line", "data": _values(values), "symbol": "none",
            "lineStyle": {"type": "dashed"}} for name, values in lines],
    }
    if len(series) + len(lines) <= 1:
        option["legend"] = {"show": False}
        option["grid"]["top"] = 12
    return option


def funnel(steps: list[tuple[Any, Any]]) -> dict:
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "item", "_format": "int"},
        "series": [{"type": "funnel", "left": "10%", "width": "80%", "top": 8, "bottom": 8,
                    "sort": "none", "gap": 2, "minSize": "8%",
                    "label": {"show": True, "position": "inside"},
                    "data": [{"name": str(name), "value": _number(value)}
                             for name, value in steps]}],
    }


def heatmap(x: list, y: list, cells: list[tuple[int, int, Any]], *, kind: str = "pct") -> dict:
    return {
        "tooltip": {"position": "top", "_format": kind},
        "grid": {"left": 8, "right": 16, "top": 8, "bottom": 48, "containLabel": True},
        "xAxis": {"type": "category", "data": [str(v) for v in x], "splitArea": {"show": True}},
        "yAxis": {"type": "category", "data": [str(v) for v in y], "splitArea": {"show": True},
                  "inverse": True},
        "visualMap": {"min": 0, "max": 1, "calculable": False, "orient": "horizontal",
                      "left": "center", "bottom": 0, "itemHeight": 120, "_format": kind,
                      "inRange": {"color": ["#f6efe3", "#8c6d3f"]}},
        "series": [{"type": "heatmap", "data": [[a, b, _number(v)] for a, b, v in cells],
                    "label": {"show": True, "_format": kind}}],
    }


def scatter_map(places: list[tuple[Any, float, float, int]],
                stores: list[tuple[Any, float, float]], *, members_label, stores_label) -> dict:
    """Members by city as circles at the city's coordinates, and the stores as pins: no
    map tiles, longitude and latitude as axes."""
    biggest = max((p[3] for p in places), default=1) or 1
    return {
        "color": ["#8c6d3f", "#c0563b"],
        "tooltip": {"trigger": "item", "_format": "place"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "min": 73, "max": 135, "name": "E", "scale": True,
                  "splitLine": {"show": False}},
        "yAxis": {"type": "value", "min": 18, "max": 54, "name": "N", "scale": True,
                  "splitLine": {"show": False}},
        "series": [
            {"name": str(members_label), "type": "scatter",
             "data": [{"name": str(name), "value": [lng, lat, count],
                       "symbolSize": max(6, round(48 * (count / biggest) ** 0.5))}
                      for name, lng, lat, count in places],
             "label": {"show": True, "formatter": "{b}", "position": "right", "fontSize": 11},
             "labelLayout": {"hideOverlap": True},
             "itemStyle": {"opacity": 0.65}},
            {"name": str(stores_label), "type": "scatter", "symbol": "pin", "symbolSize": 22,
             "data": [{"name": str(name), "value": [lng, lat]} for name, lng, lat in stores]},
        ],
    }


def month_label(day: date) -> str:
    return day.strftime("%Y-%m")


def bucket_label(day: date, grain: str) -> str:
    if grain == "month":
        return day.strftime("%Y-%m")
    return day.strftime("%m-%d")


SECTIONS: dict[str, Any] = {
    "sales": _("Sales"),
    "members": _("Members"),
    "funnels": _("Funnels"),
    "staff": _("Staff"),
    "stock": _("Stock"),
    "places": _("Places"),
}


def url_with(request, **changes) -> str:
    """The current dashboard URL with some parameters changed (None removes one; a list
    repeats it)."""
    params = request.GET.copy()
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        elif isinstance(value, list | tuple):
            params.setlist(name, [str(v) for v in value])
        else:
            params[name] = str(value)
    return "?" + params.urlencode()
