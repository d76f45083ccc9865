"""The feedback panels of the back office's home and dashboards (o2o.dashboard).

    HOME        feedback.open_cases   the viewer's stores' open cases, overdue first
    DASHBOARD   feedback.nps_stores   NPS, ratings, response rate and cases per store
                feedback.nps_staff    the same per clerk
                feedback.nps_trend    NPS week by week
                feedback.verbatims    the shoppers' words, by score group and tag

analytics renders the registry on each role's home; the feedback report
(admin: feedback/feedbackreport/report/) renders the same panels until then, and with
its own period and store choice. Every panel reads only inside ``scope.store_ids``.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from o2o.dashboard import DASHBOARD, HOME, Panel, Scope, Table, panel_register

from .selectors import (
    VERBATIM_GROUPS,
    cases_open,
    figures_by,
    nps_weekly,
    tags_in_use,
    verbatims,
)

CASES_SHOWN = 8


def figures_columns(first) -> tuple:
    return (first, _("Invited"), _("Response rate"), _("Answers"), _("NPS"), _("Promoters"),
            _("Passives"), _("Detractors"), _("Rating"), _("Open cases"))


def figures_row(row) -> tuple:
    """A Figures row as plain values for a download (the label is the store, clerk or week;
    the total row says so)."""
    return (str(row.label or _("Total")), row.invited, row.response_rate, row.answered,
            row.nps, row.promoters, row.passives, row.detractors, row.rating, row.cases_open)


def panel_store_ids(request, scope: Scope):
    """The scope's stores; an empty scope for someone who sees every store (head office
    has no store of its own) means every store."""
    ids = scope.store_ids
    if ids is not None and not ids and request is not None and (
            request.user.is_superuser or request.user.has_perm("stores.view_all_stores")):
        return None
    return ids


@panel_register
class OpenCases(Panel):
    key = "feedback.open_cases"
    title = _("Unhappy shoppers to call back")
    permission = "feedback.view_feedbackcase"
    places = (HOME, DASHBOARD)
    order = 20
    template = "feedback/panels/open_cases.html"

    def context(self, request, scope: Scope) -> dict:
        now = timezone.now()
        cases = list(cases_open(store_ids=panel_store_ids(request, scope)))
        overdue = [c for c in cases if c.due_at <= now]
        return {"cases": cases[:CASES_SHOWN], "count": len(cases), "overdue": len(overdue),
                "more": max(0, len(cases) - CASES_SHOWN), "now": now}

    def tables(self, request, scope: Scope) -> list[Table]:
        now = timezone.now()
        rows = tuple(
            (case.pk, case.store.title if case.store else _("online"),
             case.response.nps, timezone.localtime(case.opened_at).replace(tzinfo=None),
             timezone.localtime(case.due_at).replace(tzinfo=None),
             _("overdue") if case.due_at <= now else "")
            for case in cases_open(store_ids=panel_store_ids(request, scope)))
        return [Table(self.title, (_("Case"), _("Store"), _("NPS"), _("opened"), _("due"),
                                   _("overdue")), rows)]


class _Figures(Panel):
    permission = "feedback.view_surveyresponse"
    places = (DASHBOARD,)
    template = "feedback/panels/figures.html"
    by = "store"

    def context(self, request, scope: Scope) -> dict:
        rows, total = figures_by(by=self.by, store_ids=panel_store_ids(request, scope),
                                 start=scope.start, end=scope.end, channel=scope.channel)
        return {"rows": rows, "total": total, "by": self.by}

    def tables(self, request, scope: Scope) -> list[Table]:
        rows, total = figures_by(by=self.by, store_ids=panel_store_ids(request, scope),
                                 start=scope.start, end=scope.end, channel=scope.channel)
        return [Table(self.title, figures_columns(_("Store") if self.by == "store"
                                                  else _("Clerk")),
                      tuple(figures_row(row) for row in [*rows, total]))]


@panel_register
class NpsByStore(_Figures):
    key = "feedback.nps_stores"
    title = _("Net promoter score by store")
    order = 30
    by = "store"


@panel_register
class NpsByStaff(_Figures):
    key = "feedback.nps_staff"
    title = _("Net promoter score by clerk")
    order = 31
    by = "staff"


@panel_register
class NpsTrend(Panel):
    key = "feedback.nps_trend"
    title = _("Net promoter score, week by week")
    permission = "feedback.view_surveyresponse"
    places = (DASHBOARD,)
    order = 32
    template = "feedback/panels/trend.html"

    WIDTH, HEIGHT, BAR = 640, 160, 0.6
    SLOTS = 12  # bars keep a week's width when the period has fewer weeks

    def context(self, request, scope: Scope) -> dict:
        weeks = nps_weekly(store_ids=panel_store_ids(request, scope), start=scope.start,
                           end=scope.end, channel=scope.channel)
        step = self.WIDTH / max(self.SLOTS, len(weeks))
        middle = self.HEIGHT / 2
        bars = []
        for index, week in enumerate(weeks):
            nps = week.nps
            height = abs(nps or 0) / 100 * (middle - 12)
            bars.append({
                "week": week, "nps": nps, "x": round(index * step + step * (1 - self.BAR) / 2, 1),
                "width": round(step * self.BAR, 1),
                "y": round(middle - height if (nps or 0) >= 0 else middle, 1),
                "height": round(max(height, 1), 1), "negative": (nps or 0) < 0,
                "label_x": round(index * step + step / 2, 1),
            })
        return {"weeks": weeks, "bars": bars, "width": self.WIDTH, "height": self.HEIGHT,
                "middle": middle}

    def tables(self, request, scope: Scope) -> list[Table]:
        weeks = nps_weekly(store_ids=panel_store_ids(request, scope), start=scope.start,
                           end=scope.end, channel=scope.channel)
        return [Table(self.title, figures_columns(_("Week starting")),
                      tuple(figures_row(week) for week in weeks))]


@panel_register
class Verbatims(Panel):
    key = "feedback.verbatims"
    title = _("In the shoppers' words")
    permission = "feedback.view_surveyresponse"
    places = (DASHBOARD,)
    order = 33
    template = "feedback/panels/verbatims.html"

    def context(self, request, scope: Scope) -> dict:
        group = request.GET.get("fb_group", "") if request is not None else ""
        tag = request.GET.get("fb_tag", "")[:40] if request is not None else ""
        group = group if group in VERBATIM_GROUPS else ""
        ids = panel_store_ids(request, scope)
        return {
            "verbatims": verbatims(store_ids=ids, start=scope.start, end=scope.end,
                                   group=group, tag=tag, channel=scope.channel),
            "group": group, "tag": tag,
            "groups": [("detractor", _("unhappy (0-6)")), ("passive", _("passive (7-8)")),
                       ("promoter", _("promoters (9-10)"))],
            "tags": tags_in_use(store_ids=ids, start=scope.start, end=scope.end),
        }
