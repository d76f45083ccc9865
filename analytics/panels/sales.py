"""Sales: revenue, orders, units, average order value, discounts, refunds and gold weight
by channel, store, category (down to the piece), metal and collection, per day, week or
month, against the compared period."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from catalog.models import Metal
from o2o.dashboard import Scope, panel_register

from .. import selectors
from ..models import SalesChannel
from ..scope import drill_from_request
from .base import (
    AnalyticsPanel,
    Column,
    Figures,
    bars,
    bucket_label,
    change,
    reader_for,
    summary,
    url_with,
)

CHANNEL_LABELS = dict(SalesChannel.choices)


def store_title(store) -> str:
    return store.title if store is not None else _("Online shelf (delivered)")


@panel_register
class SalesSummary(AnalyticsPanel):
    key = "analytics.sales_summary"
    section = "sales"
    order = 10
    title = gettext_lazy("Sales at a glance")
    description = gettext_lazy(
        "A sale counts on the day it is paid. Revenue is what shoppers paid (after coupons "
        "and points); refunds count on the day they are made.")

    def compute(self, request, scope: Scope) -> Figures:
        totals = selectors.sales_totals(reader_for(request), scope)
        now, then = totals["now"], totals.get("then", {})
        figures = Figures()
        rows = [
            (_("Revenue"), "money", "revenue"), (_("Orders"), "int", "orders"),
            (_("Pieces sold"), "int", "units"), (_("Average order value"), "money", "aov"),
            (_("Coupon discounts"), "money", "coupon_discount"),
            (_("Paid with points"), "money", "points_discount"),
            (_("Refunds"), "money", "refunds"), (_("Revenue less refunds"), "money", "net"),
            (_("Gold sold (g)"), "weight", "gold_g"),
            (_("Cost of goods sold"), "money", "cost"),
        ]
        summary(figures, self.title, rows, now, then)
        if now["cost_unknown_units"]:
            figures.notes.append(_("%(n)d pieces sold have no cost price: the cost of goods "
                                   "sold leaves them out.") % {"n": now["cost_unknown_units"]})
        return figures


@panel_register
class SalesTrend(AnalyticsPanel):
    key = "analytics.sales_trend"
    section = "sales"
    order = 20
    title = gettext_lazy("Revenue over time, by channel")

    def compute(self, request, scope: Scope) -> Figures:
        trend = selectors.sales_trend(reader_for(request), scope)
        grain, keys = trend["grain"], trend["buckets"]
        channels = [c for c in SalesChannel.values if c in trend["by_channel"]]
        labels = [bucket_label(b, grain) for b in keys]
        series = [(CHANNEL_LABELS[c], [trend["by_channel"][c].get(b, 0) for b in keys])
                  for c in channels]
        compared = []
        if scope.compare_start:
            compared = [(_("Compared period"), [trend["compared"].get(b, 0) for b in keys])]
        figures = Figures()
        columns = [Column({"day": _("Day"), "week": _("Week from"), "month": _("Month")}[grain],
                          "date" if grain != "month" else "text")]
        columns += [Column(CHANNEL_LABELS[c], "money") for c in channels]
        columns += [Column(_("Total"), "money"), Column(_("Orders"), "int")]
        if compared:
            columns.append(Column(_("Compared period"), "money"))
        rows = []
        for b, label in zip(keys, labels, strict=True):
            values = [trend["by_channel"][c].get(b, 0) for c in channels]
            row = [b if grain != "month" else label, *values, sum(values),
                   trend["orders"].get(b, 0)]
            if compared:
                row.append(trend["compared"].get(b, 0))
            rows.append(row)
        index = figures.table(self.title, columns, rows)
        figures.chart("trend", bars(labels, series, stack=True, lines=compared), index,
                      label=self.title)
        return figures


@panel_register
class SalesByStore(AnalyticsPanel):
    key = "analytics.sales_by_store"
    section = "sales"
    order = 30
    title = gettext_lazy("By store")
    description = gettext_lazy("Pick a store to see its categories and pieces.")

    def compute(self, request, scope: Scope) -> Figures:
        rows = selectors.sales_by_store(reader_for(request), scope)
        figures = Figures()
        total = sum(r["revenue"] for r in rows) or 0
        table = [[store_title(r["store"]), r["revenue"],
                  r["revenue"] / total if total else None, r["orders"], r["units"], r["aov"],
                  r["then"], change(r["revenue"], r["then"])] for r in rows]
        index = figures.table(self.title, [
            Column(_("Store")), Column(_("Revenue"), "money"), Column(_("Share"), "pct"),
            Column(_("Orders"), "int"), Column(_("Pieces sold"), "int"),
            Column(_("Average order value"), "money"), Column(_("Compared period"), "money"),
            Column(pgettext("figure", "Change"), "change")], table)
        figures.extra["drill"] = [url_with(request, store=[r["store"].code], category=None)
                                  if r["store"] is not None else "" for r in rows]
        shown = rows[:20]
        figures.chart("stores", bars([store_title(r["store"]) for r in shown],
                                     [(_("Revenue"), [r["revenue"] for r in shown])],
                                     horizontal=True), index,
                      height=max(220, 28 * len(shown) + 40), label=self.title)
        return figures


@panel_register
class SalesByCategory(AnalyticsPanel):
    key = "analytics.sales_by_category"
    section = "sales"
    order = 40
    title = gettext_lazy("By category, down to the piece")
    template = "analytics/panels/categories.html"

    def compute(self, request, scope: Scope) -> Figures:
        drill = drill_from_request(request)
        tree = selectors.CategoryTree.load()
        parent = drill.category.pk if drill.category else None
        reader = reader_for(request)
        rows = selectors.sales_by_category(reader, scope, parent=parent, tree=tree)
        figures = Figures()
        # The path from the top to the chosen category, for the breadcrumb.
        path, current = [], drill.category
        while current is not None:
            path.insert(0, current)
            current = tree.categories.get(current.parent_id) if current.parent_id else None
        figures.extra["path"] = [(c.title, url_with(request, category=c.pk)) for c in path]
        figures.extra["top_url"] = url_with(request, category=None)
        table = [[r["category"].title if r["category"] else "?", r["revenue"], r["units"],
                  r["gold_g"], r["cost"], r["then"], change(r["revenue"], r["then"])]
                 for r in rows]
        index = figures.table(self.title, [
            Column(_("Category")), Column(_("Revenue"), "money"), Column(_("Pieces sold"), "int"),
            Column(_("Gold sold (g)"), "weight"), Column(_("Cost of goods sold"), "money"),
            Column(_("Compared period"), "money"), Column(pgettext("figure", "Change"), "change")], table)
        figures.extra["drill"] = [url_with(request, category=r["category_id"])
                                  if r["has_children"] or r["category_id"] != parent else ""
                                  for r in rows]
        figures.chart("categories", bars([t[0] for t in table],
                                         [(_("Revenue"), [r["revenue"] for r in rows])]),
                      index, label=self.title)
        if drill.category is not None:
            pieces = selectors.sales_pieces(reader, scope,
                                            category_ids=tree.descendants(drill.category.pk))
            figures.table(_("Best-selling pieces in %(category)s") % {
                "category": drill.category.title}, [
                Column(_("Piece")), Column(_("Revenue"), "money"), Column(_("Pieces sold"), "int"),
                Column(_("Orders"), "int"), Column(_("Gold sold (g)"), "weight")],
                [[p["product"].title if p["product"] else p["product_id"], p["revenue"],
                  p["units"], p["orders"], p["gold_g"]] for p in pieces])
        return figures


@panel_register
class SalesByMetalAndCollection(AnalyticsPanel):
    key = "analytics.sales_by_metal"
    section = "sales"
    order = 50
    title = gettext_lazy("By metal and by collection")
    description = gettext_lazy("A piece in two collections counts in both.")

    def compute(self, request, scope: Scope) -> Figures:
        reader = reader_for(request)
        metals = selectors.sales_by_metal(reader, scope)
        labels = dict(Metal.choices)
        figures = Figures()
        rows = [[str(labels.get(m["metal"], m["metal"])) if m["metal"] else _("no metal"),
                 m["revenue"], m["units"], m["gold_g"]] for m in metals]
        index = figures.table(_("By metal"), [Column(_("Metal")), Column(_("Revenue"), "money"),
                                              Column(_("Pieces sold"), "int"),
                                              Column(_("Gold sold (g)"), "weight")], rows)
        figures.chart("metals", bars([r[0] for r in rows], [(_("Revenue"), [r[1] for r in rows])]),
                      index, height=260, label=_("By metal"))
        collections = selectors.sales_by_collection(reader, scope)
        rows = [[c["collection"].title, c["revenue"], c["units"]] for c in collections]
        index = figures.table(_("By collection"), [Column(_("Collection")),
                                                   Column(_("Revenue"), "money"),
                                                   Column(_("Pieces sold"), "int")], rows)
        figures.chart("collections", bars([r[0] for r in rows],
                                          [(_("Revenue"), [r[1] for r in rows])]),
                      index, height=260, label=_("By collection"))
        return figures
