"""Staff: what each salesperson of the scope's stores sold at the counter, and their
try-ons (served, bought). A manager sees their own stores' staff only."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from o2o.dashboard import Scope, panel_register

from .. import selectors
from .base import AnalyticsPanel, Column, Figures, bars, reader_for


@panel_register
class StaffFigures(AnalyticsPanel):
    key = "analytics.staff"
    section = "staff"
    order = 10
    title = gettext_lazy("Sales and try-ons per staff member")
    description = gettext_lazy(
        "Counter sales count for the clerk who rang them up; try-ons for the one who served "
        "them. Conversion: try-ons that ended in a purchase, of those who came.")

    def compute(self, request, scope: Scope) -> Figures:
        rows = selectors.staff_figures(reader_for(request), scope)
        figures = Figures()
        table = [[str(r["user"]) if r["user"] else "?", r["stores"], r["revenue"], r["orders"],
                  r["units"], r["aov"], r["served"], r["bought"], r["conversion"]] for r in rows]
        index = figures.table(self.title, [
            Column(_("Staff member")), Column(_("Store")), Column(_("Counter revenue"), "money"),
            Column(_("Counter sales"), "int"), Column(_("Pieces sold"), "int"),
            Column(_("Average sale"), "money"), Column(_("Try-ons served"), "int"),
            Column(_("Try-ons bought"), "int"), Column(_("Try-on conversion"), "pct")], table)
        shown = table[:20]
        figures.chart("staff", bars([r[0] for r in shown], [(_("Counter revenue"),
                                                             [r[2] for r in shown])],
                                    horizontal=True), index,
                      height=max(220, 28 * len(shown) + 40), label=self.title)
        return figures
