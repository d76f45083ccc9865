"""Stock: value at cost per store and category, turnover, sell-through, weeks of cover,
age since arrival, and the slow movers with the transfer that moves each one on."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from o2o.dashboard import Scope, panel_register
from stores.services.permissions import may_act

from .. import selectors
from .base import AnalyticsPanel, Column, Figures, Kpi, bars, reader_for

AGES = (gettext_lazy("under 6 months"), gettext_lazy("6 to 12 months"),
        gettext_lazy("over 12 months"))


def _stock_columns(first):
    return [Column(first), Column(_("Stock value at cost"), "money"), Column(_("Pieces"), "int"),
            Column(_("Average stock value"), "money"), Column(_("Cost of goods sold"), "money"),
            Column(_("Turnover"), "ratio"), Column(_("Sell-through"), "pct"),
            Column(_("Weeks of cover"), "ratio"),
            *[Column(_("Value, %(age)s") % {"age": age}, "money") for age in AGES]]


def _stock_row(name, r):
    ages = r["ages"]
    return [name, r["value"], r["units"], r["avg_value"], r["cogs"], r["turnover"],
            r["sell_through"], r["weeks_cover"], ages[1], ages[3], ages[5]]


@panel_register
class StockByStore(AnalyticsPanel):
    key = "analytics.stock_by_store"
    section = "stock"
    order = 10
    title = gettext_lazy("Stock and turnover by place")
    description = gettext_lazy(
        "Stock at the end of the period at cost. Turnover: cost of goods sold over the "
        "average stock at cost in the period. Sell-through: pieces sold over pieces sold "
        "plus pieces left. Weeks of cover: pieces left over pieces sold a week. Age: since "
        "the pieces arrived at the place.")

    def compute(self, request, scope: Scope) -> Figures:
        rows = selectors.stock_figures(reader_for(request), scope, by="store")
        figures = Figures()
        value = sum(r["value"] for r in rows)
        cogs = sum(r["cogs"] for r in rows)
        avg = sum(r["avg_value"] for r in rows)
        sold = sum(r["sold"] for r in rows)
        units = sum(r["units"] for r in rows)
        figures.kpis += [
            Kpi(_("Stock value at cost"), value, "money"), Kpi(_("Pieces in stock"), units),
            Kpi(_("Turnover in the period"), cogs / avg if avg else None, "ratio"),
            Kpi(_("Turnover over a year at this pace"),
                cogs / avg * Decimal(365) / ((scope.end - scope.start).days + 1) if avg else None,
                "ratio"),
            Kpi(_("Sell-through"), sold / (sold + units) if sold + units else None, "pct"),
        ]
        table = [_stock_row(r["name"].title if r["name"] else "?", r) for r in rows]
        index = figures.table(self.title, _stock_columns(_("Place")), table)
        names = [t[0] for t in table]
        figures.chart("ageing", bars(names, [
            (AGES[0], [r["ages"][1] for r in rows]), (AGES[1], [r["ages"][3] for r in rows]),
            (AGES[2], [r["ages"][5] for r in rows])], stack=True), index,
            height=max(240, 28 * len(names) + 60), label=_("Stock value by age"))
        return figures


@panel_register
class StockByCategory(AnalyticsPanel):
    key = "analytics.stock_by_category"
    section = "stock"
    order = 20
    title = gettext_lazy("Stock and turnover by category")

    def compute(self, request, scope: Scope) -> Figures:
        rows = selectors.stock_figures(reader_for(request), scope, by="category")
        figures = Figures()
        table = [_stock_row(r["name"].title if r["name"] else "?", r) for r in rows]
        index = figures.table(self.title, _stock_columns(_("Category")), table)
        figures.chart("turnover", bars([t[0] for t in table],
                                       [(_("Turnover"), [t[5] or 0 for t in table])],
                                       kind="ratio"), index, height=260, label=self.title)
        return figures


@panel_register
class SlowMovers(AnalyticsPanel):
    key = "analytics.slow_movers"
    section = "stock"
    order = 30
    title = gettext_lazy("Slow movers")
    template = "analytics/panels/slow_movers.html"
    description = gettext_lazy(
        "Pieces at a store for six months or more that have not sold there for three "
        "months, the costliest first. Send them to the warehouse (the online shelf) or to "
        "the store where the piece sold most meanwhile: the transfer is requested at once.")

    def compute(self, request, scope: Scope) -> Figures:
        reader = reader_for(request)
        movers = selectors.slow_movers(scope, today=reader.today)
        figures = Figures()
        figures.table(self.title, [
            Column(_("Store")), Column(_("SKU")), Column(_("Piece")), Column(_("Pieces free"), "int"),
            Column(_("Arrived"), "date"), Column(_("Value at cost"), "money"),
            Column(_("Sold best at")), Column(_("Sold there"), "int")],
            [[m.store.title, m.variant.sku, m.variant.product.title, m.free, m.arrived_on,
              m.value, m.best_store.title if m.best_store else "", m.best_sold] for m in movers])
        shelf = selectors.online_shelf()
        can_move = request.user.has_perm("stores.add_transfer")
        figures.extra["movers"] = [
            {"mover": m, "shelf": shelf,
             "may_move": can_move and may_act(actor=request.user, store=m.store)}
            for m in movers]
        return figures
