"""The admin home as a workplace, per role:

- store staff (and managers): today at my store, one click to each desk;
- store managers: my store's week against last week and the same days last year;
- head office (analysts, marketers, superusers): the whole chain, with the way down to
  a store, a category and a piece on the dashboards.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from o2o.dashboard import HOME, Scope, panel_register
from orders.models import Fulfilment, Order, OrderStatus
from stores.models import AppointmentStatus, Store, StoreKind, Transfer, TransferStatus
from stores.selectors import appointments_for_day, staff_store_ids

from .. import selectors
from ..models import SalesChannel
from ..scope import one_year_before
from .base import AnalyticsPanel, Cell, Column, Figures, Kpi, bars, change, reader_for

# Under their own context: Django's date formats translate the bare "Mon".."Sun" too
# (as 星期一..星期日); the home's week strip says 周一..周日.
WEEKDAYS = (pgettext_lazy("weekday, short", "Mon"), pgettext_lazy("weekday, short", "Tue"),
            pgettext_lazy("weekday, short", "Wed"), pgettext_lazy("weekday, short", "Thu"),
            pgettext_lazy("weekday, short", "Fri"), pgettext_lazy("weekday, short", "Sat"),
            pgettext_lazy("weekday, short", "Sun"))


def _assigned(user) -> set[int] | None:
    return staff_store_ids(user=user)


class HomePanel(AnalyticsPanel):
    places = (HOME,)
    for_chain: bool = False  # shown to head office (True) or to those working at stores

    def visible_to(self, user) -> bool:
        if not super().visible_to(user):
            return False
        chain = _assigned(user) is None
        return chain == self.for_chain


def _url(name: str, **params) -> str:
    from urllib.parse import urlencode

    return reverse(name) + ("?" + urlencode(params) if params else "")


@panel_register
class TodayAtMyStore(HomePanel):
    key = "analytics.home_today"
    title = gettext_lazy("Today at my store")
    permission = ""
    order = 10
    template = "analytics/panels/home_today.html"

    def compute(self, request, scope: Scope) -> Figures:
        reader = reader_for(request)
        today = reader.today
        ids = sorted(scope.store_ids or [])
        stores = list(Store.objects.filter(pk__in=ids, kind=StoreKind.STORE).order_by("city",
                                                                                       "code"))
        live = reader.live(selectors.SALES_DAY)
        waiting = dict(
            Order.objects.filter(store__in=stores, fulfilment=Fulfilment.PICKUP)
            .filter(Q(status__in=[OrderStatus.PAID, OrderStatus.READY_FOR_PICKUP])
                    | Q(status=OrderStatus.PENDING_PAYMENT, pay_at_counter=True))
            .values_list("store_id").annotate(n=Count("pk")))
        ready = dict(Order.objects.filter(store__in=stores, status=OrderStatus.READY_FOR_PICKUP)
                     .values_list("store_id").annotate(n=Count("pk")))
        arriving = dict(Transfer.objects.filter(destination__in=stores,
                                                status=TransferStatus.SHIPPED)
                        .values_list("destination_id").annotate(n=Count("pk")))
        user = request.user
        cards = []
        for store in stores:
            appointments = appointments_for_day(store=store, day=today)
            by_status = {s: sum(1 for a in appointments if a.status == s)
                         for s in AppointmentStatus.values}
            upcoming = [a for a in appointments if a.status in (AppointmentStatus.BOOKED,
                                                                  AppointmentStatus.CHECKED_IN)]
            sales = [row for row in live if row[1] == store.pk]
            desks = []
            if user.has_perm("orders.change_order"):
                desks.append((_("Pickup desk"), _url("admin:orders_order_desk", store=store.code)))
                if user.has_perm("orders.add_order"):
                    desks.append((_("Ring up a sale"),
                                  _url("admin:orders_order_counter", store=store.code)))
            if user.has_perm("stores.view_appointment"):
                desks.append((_("Today's try-ons"),
                              _url("admin:stores_appointment_today", store=store.code)))
            if user.has_perm("stores.view_transfer"):
                desks.append((_("Transfers arriving"),
                              _url("admin:stores_transfer_changelist",
                                   destination__id__exact=store.pk, status__exact="shipped")))
            cards.append({
                "store": store,
                "revenue": sum(row[5] for row in sales),
                "orders": sum(row[3] for row in sales),
                "counter": sum(row[3] for row in sales if row[2] == SalesChannel.COUNTER),
                "waiting": waiting.get(store.pk, 0), "ready": ready.get(store.pk, 0),
                "arriving": arriving.get(store.pk, 0),
                "appointments": len(appointments), "by_status": by_status,
                "upcoming": upcoming[:4], "desks": desks,
            })
        figures = Figures()
        figures.extra["cards"] = cards
        figures.table(self.title, [Column(_("Store")), Column(_("Revenue today"), "money"),
                                   Column(_("Sales today"), "int"),
                                   Column(_("Pickups waiting"), "int"),
                                   Column(_("Try-ons today"), "int"),
                                   Column(_("Transfers arriving"), "int")],
                      [[c["store"].title, c["revenue"], c["orders"], c["waiting"],
                        c["appointments"], c["arriving"]] for c in cards])
        return figures


def week_scopes(scope: Scope, today: date) -> tuple[Scope, Scope, Scope]:
    """This week (Monday to today), the same days last week, the same dates last year."""
    monday = today - timedelta(days=today.weekday())
    week = replace(scope, start=monday, end=today, compare_start=None, compare_end=None)
    last = replace(week, start=monday - timedelta(days=7), end=today - timedelta(days=7))
    year = replace(week, start=one_year_before(monday), end=one_year_before(today))
    return week, last, year


class WeekPanel(HomePanel):
    """The week so far against last week and last year, with the daily revenue."""

    template = "analytics/panels/home_week.html"

    def compute(self, request, scope: Scope) -> Figures:
        reader = reader_for(request)
        week, last, year = week_scopes(scope, reader.today)
        totals = {name: selectors.sales_totals(reader, s)["now"]
                  for name, s in (("week", week), ("last", last), ("year", year))}
        tryons = {name: selectors.tryons(reader, s) for name, s in (("week", week),
                                                                     ("last", last),
                                                                     ("year", year))}
        figures = Figures()
        rows = [(_("Revenue"), "money", "revenue"), (_("Orders"), "int", "orders"),
                (_("Average order value"), "money", "aov"), (_("Pieces sold"), "int", "units")]
        table = []
        for label, kind, name in rows:
            now = totals["week"][name]
            figures.kpis.append(Kpi(label, now, kind, totals["last"][name],
                                    hint=totals["year"][name]))
            table.append([label, Cell(now, kind), Cell(totals["last"][name], kind),
                          change(now, totals["last"][name]), Cell(totals["year"][name], kind),
                          change(now, totals["year"][name])])
        booked = {n: sum(r["booked"] for r in t) for n, t in tryons.items()}
        bought = {n: sum(r["bought"] for r in t) for n, t in tryons.items()}
        figures.kpis.append(Kpi(_("Try-ons booked"), booked["week"], "int", booked["last"],
                                hint=booked["year"]))
        table.append([_("Try-ons booked"), booked["week"], booked["last"],
                      change(booked["week"], booked["last"]), booked["year"],
                      change(booked["week"], booked["year"])])
        table.append([_("Try-ons bought"), bought["week"], bought["last"],
                      change(bought["week"], bought["last"]), bought["year"],
                      change(bought["week"], bought["year"])])
        figures.table(_("This week so far"), [
            Column(_("Figure")), Column(_("This week"), "int"), Column(_("Last week"), "int"),
            Column(pgettext("figure", "Change"), "change"), Column(_("Last year"), "int"),
            Column(pgettext("figure", "Change"), "change")], table)
        daily = {name: selectors.sales_trend(reader, replace(s, start=s.start,
                                                              end=s.start + timedelta(days=6)
                                                              if s is not week else s.end))
                 for name, s in (("week", week), ("last", last), ("year", year))}

        def per_day(name, start):
            trend = daily[name]
            return [sum(series.get(start + timedelta(days=i), 0)
                        for series in trend["by_channel"].values()) for i in range(7)]

        this = per_day("week", week.start)[: (week.end - week.start).days + 1]
        before = per_day("last", last.start)
        index = figures.table(_("Revenue by day"), [Column(_("Day")), Column(_("This week"), "money"),
                                                    Column(_("Last week"), "money")],
                              [[WEEKDAYS[i], this[i] if i < len(this) else None, before[i]]
                               for i in range(7)])
        figures.chart("week", bars([str(d) for d in WEEKDAYS], [(_("This week"), this)],
                                   lines=[(_("Last week"), before)]), index, height=240,
                      label=_("Revenue by day"))
        figures.extra["week"] = week
        figures.extra["links"] = _dashboard_links(request, scope)
        return figures


def _dashboard_links(request, scope: Scope) -> list[tuple]:
    base = reverse("admin:analytics_dashboard_changelist")
    return [(label, f"{base}?section={section}") for section, label in (
        ("sales", _("Sales")), ("members", _("Members")), ("funnels", _("Funnels")),
        ("staff", _("Staff")), ("stock", _("Stock and slow movers")), ("places", _("Places")))]


@panel_register
class MyStoreWeek(WeekPanel):
    key = "analytics.home_week"
    title = gettext_lazy("My store's week")
    order = 20


@panel_register
class ChainWeek(WeekPanel):
    key = "analytics.home_chain"
    title = gettext_lazy("The whole chain this week")
    order = 10
    for_chain = True
    template = "analytics/panels/home_chain.html"

    def compute(self, request, scope: Scope) -> Figures:
        figures = super().compute(request, scope)
        reader = reader_for(request)
        week, _last, year = week_scopes(scope, reader.today)
        rows = selectors.sales_by_store(reader, replace(week, compare_start=year.start,
                                                        compare_end=year.end))
        base = reverse("admin:analytics_dashboard_changelist")
        figures.extra["stores"] = [
            {**r, "change": change(r["revenue"], r["then"]),
             "url": f"{base}?section=sales&store={r['store'].code}" if r["store"] else ""}
            for r in rows[:12]]
        return figures
