"""Members: new members by channel and store, buying members (counted once however
often they bought), repeat buyers, members buying in both channels, monthly cohorts and
tier moves."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from members.models import Channel
from o2o.dashboard import Scope, panel_register
from stores.models import Store

from .. import selectors
from .base import (
    AnalyticsPanel,
    Column,
    Figures,
    bars,
    bucket_label,
    heatmap,
    month_label,
    reader_for,
    summary,
)

JOINED = {Channel.ONLINE: gettext_lazy("on the web"), Channel.STORE: gettext_lazy("at a counter")}


@panel_register
class MembersSummary(AnalyticsPanel):
    key = "analytics.members_summary"
    section = "members"
    order = 10
    title = gettext_lazy("Members at a glance")
    description = gettext_lazy(
        "Buying members are counted once in the period, however often and wherever they "
        "bought. Repeat buyers bought twice or more in the period; both channels: online "
        "and at a counter.")

    def compute(self, request, scope: Scope) -> Figures:
        totals = selectors.members_totals(reader_for(request), scope)
        now, then = totals["now"], totals.get("then", {})
        rows = [(_("New members"), "int", "new"), (_("Buying members"), "int", "active"),
                (_("Repeat buyers"), "int", "repeat"), (_("Repeat rate"), "pct", "repeat_rate"),
                (_("Bought online and in store"), "int", "both"),
                (_("Share buying in both channels"), "pct", "both_share")]
        figures = Figures()
        summary(figures, self.title, rows, now, then)
        return figures


@panel_register
class MembersNew(AnalyticsPanel):
    key = "analytics.members_new"
    section = "members"
    order = 20
    title = gettext_lazy("New members, by where they joined")

    def compute(self, request, scope: Scope) -> Figures:
        trend = selectors.members_new_trend(reader_for(request), scope)
        grain, keys = trend["grain"], trend["buckets"]
        channels = [c for c in (Channel.ONLINE, Channel.STORE) if c in trend["by_channel"]]
        labels = [bucket_label(b, grain) for b in keys]
        figures = Figures()
        rows = [[b if grain != "month" else label,
                 *[trend["by_channel"][c].get(b, 0) for c in channels]]
                for b, label in zip(keys, labels, strict=True)]
        index = figures.table(self.title, [
            Column({"day": _("Day"), "week": _("Week from"), "month": _("Month")}[grain],
                   "date" if grain != "month" else "text"),
            *[Column(JOINED[c], "int") for c in channels]], rows)
        figures.chart("new", bars(labels, [(JOINED[c], [trend["by_channel"][c].get(b, 0)
                                                         for b in keys]) for c in channels],
                                  kind="int", stack=True), index, label=self.title)
        stores = Store.objects.in_bulk([s for s, _c, _n in trend["by_store"] if s])
        figures.table(_("New members by store"), [Column(_("Where")), Column(_("Joined"), "text"),
                                                  Column(_("New members"), "int")],
                      [[stores[s].title if s in stores else _("the web shop"),
                        JOINED.get(c, c), n] for s, c, n in trend["by_store"]])
        return figures


@panel_register
class MembersCohorts(AnalyticsPanel):
    key = "analytics.members_cohorts"
    section = "members"
    order = 30
    title = gettext_lazy("Monthly cohorts: who comes back")
    description = gettext_lazy(
        "Members by the month of their first purchase (in the stores and channel chosen); "
        "each cell is the share of them who bought in a later month. Month 0 is the first "
        "purchase itself. Counted nightly for the chain and for each store.")

    def compute(self, request, scope: Scope) -> Figures:
        result = selectors.members_cohorts(reader_for(request), scope)
        months = result["months"]
        figures = Figures()
        columns = [Column(_("First purchase")), Column(_("Members"), "int")]
        columns += [Column(_("Month %(n)d") % {"n": k}, "pct") for k in range(months)]
        rows, cells = [], []
        for y, row in enumerate(result["cohorts"]):
            shares = [share for _n, share in row["cells"]]
            rows.append([month_label(row["cohort"]), row["size"],
                         *shares, *[None] * (months - len(shares))])
            cells += [(k, y, share) for k, share in enumerate(shares) if share is not None]
        index = figures.table(self.title, columns, rows)
        figures.chart("cohorts", heatmap([str(k) for k in range(months)],
                                         [month_label(r["cohort"]) for r in result["cohorts"]],
                                         cells), index, height=420, label=self.title)
        return figures


@panel_register
class MembersTiers(AnalyticsPanel):
    key = "analytics.members_tiers"
    section = "members"
    order = 40
    title = gettext_lazy("Tiers: where members are, and who moved")
    description = gettext_lazy(
        "Moves compare each member's tier at the end of a month with the month before "
        "(months within the period). Members count at their home store, else where they "
        "joined.")

    def compute(self, request, scope: Scope) -> Figures:
        result = selectors.members_tiers(scope)
        tiers = {t.pk: t for t in result["tiers"]}

        def name(tier_id):
            return tiers[tier_id].title if tier_id in tiers else _("no tier")

        figures = Figures()
        now = result["now"]
        order = [t.pk for t in result["tiers"]] + ([None] if None in now else [])
        index = figures.table(_("Members by tier now"), [Column(_("Tier")),
                                                         Column(_("Members"), "int")],
                              [[name(t), now.get(t, 0)] for t in order])
        figures.chart("tiers", bars([name(t) for t in order],
                                    [(_("Members"), [now.get(t, 0) for t in order])], kind="int"),
                      index, height=240, label=_("Members by tier now"))
        rank = result["rank"]
        rows = []
        for from_id, to_id, members in result["moves"]:
            up = rank.get(to_id, -1) > rank.get(from_id, -1)
            rows.append([name(from_id), name(to_id), _("up") if up else _("down"), members])
        figures.table(_("Tier moves in the period"), [Column(pgettext("tier", "From")),
                                                      Column(pgettext("tier", "To")),
                                                      Column(_("Direction")),
                                                      Column(_("Members"), "int")], rows)
        return figures
