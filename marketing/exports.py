"""The attribution report as rows of words and figures (the admin page and its CSV)."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from o2o.money import money as format_money

from .models import SkipReason
from .selectors import Attribution


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _points(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}"


def attribution_rows(report: Attribution) -> list[tuple[str, str]]:
    """(what, figure) in the order the report reads."""
    labels = dict(SkipReason.choices)
    rows: list[tuple[str, str]] = [
        (_("Audience"), str(report.audience)),
        (_("Sent"), str(report.sent)),
        (_("Held out (control group)"), str(report.held_out)),
    ]
    rows += [(_("Skipped: %(reason)s") % {"reason": labels.get(reason, reason)}, str(n))
             for reason, n in sorted(report.skipped.items())]
    rows += [
        (_("Messages delivered"), str(report.delivered)),
        (_("Messages failed"), str(report.failed)),
        (_("Messages waiting"), str(report.waiting)),
        (pgettext("email", "Opened"), str(report.opened)),
        (_("Clicked"), str(report.clicked)),
        (_("Coupons issued"), str(report.coupons)),
        (_("Coupons redeemed online"), str(report.redeemed_online)),
    ]
    rows += [(_("Coupons redeemed at %(store)s") % {"store": store}, str(n))
             for store, n in sorted(report.redeemed_by_store.items())]
    rows.append((_("Discount given"), format_money(report.discount)))
    for label, group in ((_("Treated"), report.treated), (_("Holdout"), report.holdout)):
        rows += [
            (_("%(group)s: members") % {"group": label}, str(group.members)),
            (_("%(group)s: members who ordered") % {"group": label}, str(group.converted)),
            (_("%(group)s: conversion") % {"group": label}, _percent(group.conversion)),
            (_("%(group)s: orders") % {"group": label}, str(group.orders)),
            (_("%(group)s: revenue") % {"group": label}, format_money(group.revenue)),
            (_("%(group)s: orders online") % {"group": label}, str(group.orders_online)),
            (_("%(group)s: revenue online") % {"group": label},
             format_money(group.revenue_online)),
        ]
        rows += [(_("%(group)s: orders at %(store)s") % {"group": label, "store": store},
                  f"{n} / {format_money(amount)}")
                 for store, (n, amount) in sorted(group.by_store.items())]
    rows += [
        (_("Lift (percentage points)"), _points(report.lift)),
        (_("Lift: the interval it lies in, 95 times in 100"),
         "—" if report.lift is None else f"{_points(report.lift_low)} … {_points(report.lift_high)}"),
    ]
    return rows


def attribution_csv(report: Attribution, *, title: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title, _("within %(days)s days after the send") % {
        "days": report.window_days}])
    for label, value in attribution_rows(report):
        writer.writerow([label, value])
    return out.getvalue()
