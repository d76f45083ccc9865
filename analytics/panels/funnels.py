"""Funnels: the web shop (product views -> bag -> checkout -> paid -> collected or
delivered) by device and channel, and try-ons (booked -> checked in / no-show -> bought)
by store and by staff member."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import User
from o2o.dashboard import Scope, panel_register
from stores.models import Store

from .. import selectors
from ..models import Device, SalesChannel
from .base import AnalyticsPanel, Column, Figures, bars, funnel, ratio, reader_for

DEVICES = dict(Device.choices)
CHANNELS = dict(SalesChannel.choices)


@panel_register
class OnlineFunnel(AnalyticsPanel):
    key = "analytics.funnel_online"
    section = "funnels"
    order = 10
    title = gettext_lazy("The web shop: from a look to the hand-over")
    description = gettext_lazy(
        "Visits count a visitor once a day. Orders are those placed in the period, followed "
        "to payment and hand-over (so far). A store sees the orders collected there.")

    def compute(self, request, scope: Scope) -> Figures:
        reader = reader_for(request)
        orders = selectors.funnel_orders(reader, scope)
        visits = selectors.funnel_visits(reader, scope) if scope.store_ids is None else {}
        devices = sorted(set(visits) | {d for d, _c in orders},
                         key=lambda d: list(DEVICES).index(d) if d in DEVICES else 99)

        def order_sum(device=None, channel=None, measure="placed"):
            return sum(v[measure] for (d, c), v in orders.items()
                       if (device is None or d == device) and (channel is None or c == channel))

        def visit_sum(device=None, measure="viewers"):
            return sum(v[measure] for d, v in visits.items() if device is None or d == device)

        figures = Figures()
        steps = []
        if visits:
            steps += [(_("Visits with a product view"), visit_sum()),
                      (_("Visits adding to the bag"), visit_sum(measure="adders")),
                      (_("Visits opening the checkout"), visit_sum(measure="checkouts"))]
        steps += [(_("Orders placed"), order_sum()),
                  (_("Orders paid"), order_sum(measure="paid")),
                  (_("Collected or delivered"), order_sum(measure="handed_over"))]
        rows = []
        for i, (label, value) in enumerate(steps):
            before = steps[i - 1][1] if i else None
            rows.append([label, value, ratio(value, before) if i else None,
                         ratio(value, steps[0][1])])
        index = figures.table(_("Steps"), [Column(_("Step")), Column(_("Count"), "int"),
                                           Column(_("From the step before"), "pct"),
                                           Column(_("From the first step"), "pct")], rows)
        figures.chart("funnel", funnel(steps), index, height=300, label=_("Steps"))

        columns = [Column(_("Device"))]
        if visits:
            columns += [Column(_("Product views"), "int"), Column(_("Visits"), "int"),
                        Column(_("Added to the bag"), "int"), Column(_("Checkout"), "int")]
        columns += [Column(_("Orders placed"), "int"), Column(_("Paid"), "int"),
                    Column(_("Handed over"), "int"), Column(_("Visit to paid order"), "pct")]
        device_rows = []
        for device in devices:
            row = [DEVICES.get(device, device)]
            if visits:
                row += [visit_sum(device, "views"), visit_sum(device), visit_sum(device, "adders"),
                        visit_sum(device, "checkouts")]
            paid = order_sum(device, measure="paid")
            row += [order_sum(device), paid, order_sum(device, measure="handed_over"),
                    ratio(paid, visit_sum(device)) if visits else None]
            device_rows.append(row)
        figures.table(_("By device"), columns, device_rows)
        channel_rows = [[CHANNELS[c], order_sum(channel=c), order_sum(channel=c, measure="paid"),
                         order_sum(channel=c, measure="handed_over"),
                         ratio(order_sum(channel=c, measure="paid"), order_sum(channel=c))]
                        for c in ("delivery", "pickup")]
        figures.table(_("By channel"), [Column(_("Channel")), Column(_("Orders placed"), "int"),
                                        Column(_("Paid"), "int"), Column(_("Handed over"), "int"),
                                        Column(_("Paid of placed"), "pct")], channel_rows)
        return figures


@panel_register
class TryonFunnel(AnalyticsPanel):
    key = "analytics.funnel_tryons"
    section = "funnels"
    order = 20
    title = gettext_lazy("Try-ons: booked, came, bought")

    def compute(self, request, scope: Scope) -> Figures:
        reader = reader_for(request)
        by_store = selectors.tryons(reader, scope, by="store")
        by_staff = selectors.tryons(reader, scope, by="staff")
        total = {k: sum(r[k] for r in by_store)
                 for k in ("booked", "checked_in", "no_show", "cancelled", "bought")}
        steps = [(_("Booked"), total["booked"]), (_("Came (checked in)"), total["checked_in"]),
                 (_("Bought"), total["bought"])]
        figures = Figures()
        index = figures.table(_("Steps"), [Column(_("Step")), Column(_("Try-ons"), "int"),
                                           Column(_("From the step before"), "pct")],
                              [[label, value, ratio(value, steps[i - 1][1]) if i else None]
                               for i, (label, value) in enumerate(steps)]
                              + [[_("Did not come"), total["no_show"], None],
                                 [_("Cancelled"), total["cancelled"], None]])
        figures.chart("tryons", funnel(steps), index, height=240, label=_("Steps"))
        columns = [Column(_("Booked"), "int"), Column(_("Came"), "int"),
                   Column(_("Did not come"), "int"), Column(_("Cancelled"), "int"),
                   Column(_("Bought"), "int"), Column(_("Came and bought"), "pct")]

        def row(r):
            return [r["booked"], r["checked_in"], r["no_show"], r["cancelled"], r["bought"],
                    ratio(r["bought"], r["checked_in"])]

        stores = Store.objects.in_bulk([r["key"] for r in by_store])
        index = figures.table(_("By store"), [Column(_("Store")), *columns],
                              [[stores[r["key"]].title if r["key"] in stores else "?", *row(r)]
                               for r in by_store])
        names = [stores[r["key"]].title if r["key"] in stores else "?" for r in by_store]
        figures.chart("tryon_stores", bars(names, [
            (_("Came"), [r["checked_in"] for r in by_store]),
            (_("Bought"), [r["bought"] for r in by_store])], kind="int"), index, height=260,
            label=_("By store"))
        users = User.objects.in_bulk([r["key"] for r in by_staff if r["key"]])
        figures.table(_("By staff member"), [Column(_("Served by")), *columns],
                      [[str(users[r["key"]]) if r["key"] in users else _("not yet served"),
                        *row(r)] for r in by_staff])
        return figures
