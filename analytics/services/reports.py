"""The weekly report: on Monday morning every store manager gets last week's figures of
their stores (against the week before and the same week last year) by email.

Queued by beat (``weekly_reports_enqueue``) through the outbox: one row per manager and
week (dedupe key ``analytics.weekly:<user>:<monday>``), so a second run, or two beats,
queue nothing more. The email is rendered when it is sent (analytics.emails), from the
rollups as they are then.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from o2o.dashboard import Scope
from o2o.models import OutboxMessage
from o2o.outbox import OutboxItem, outbox_enqueue_many
from o2o.quiet_hours import quiet_hours_next
from stores.models import StaffAssignment, StaffRole

from .. import selectors
from ..scope import one_year_before
from .rollups import shop_today, shop_zone

KIND = "analytics.weekly_report"
SEND_AT = time(8, 30)


def last_week(today: date) -> tuple[date, date]:
    """Monday and Sunday of the last complete week before ``today``."""
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


def managers_with_stores() -> dict[int, tuple[object, list[int]]]:
    """Each active staff user who manages at least one store: (user, store ids)."""
    out: dict[int, tuple[object, list[int]]] = {}
    for assignment in (StaffAssignment.objects.filter(role=StaffRole.MANAGER,
                                                      user__is_active=True,
                                                      user__is_staff=True)
                       .exclude(user__email=None).exclude(user__email="")
                       .select_related("user").order_by("user_id", "store_id")):
        user, stores = out.setdefault(assignment.user_id, (assignment.user, []))
        stores.append(assignment.store_id)
    return out


@transaction.atomic
def weekly_reports_enqueue(*, now: datetime | None = None) -> int:
    """Queue last week's report for every store manager (once per manager and week),
    due at SEND_AT this morning, outside quiet hours. Returns how many were new."""
    now = now or timezone.now()
    monday, _sunday = last_week(shop_today(now))
    due = datetime.combine(shop_today(now), SEND_AT, tzinfo=shop_zone())
    due = quiet_hours_next(max(due, now))
    items = [OutboxItem(channel=OutboxMessage.Channel.EMAIL, kind=KIND, recipient=user.email,
                        dedupe_key=f"analytics.weekly:{user_id}:{monday.isoformat()}",
                        payload={"user_id": user_id, "week": monday.isoformat()},
                        due_at=due, about=f"members.user:{user_id}")
             for user_id, (user, _stores) in managers_with_stores().items()]
    return outbox_enqueue_many(items)


def weekly_figures(*, store_ids: list[int], monday: date, today: date) -> list[dict]:
    """Per store: last week's sales and try-ons, the week before and a year before."""
    reader = selectors.Reader(today=today)
    sunday = monday + timedelta(days=6)
    out = []
    for store_id in store_ids:
        week = Scope(store_ids=frozenset({store_id}), start=monday, end=sunday)
        before = replace(week, start=monday - timedelta(days=7), end=sunday - timedelta(days=7))
        year = replace(week, start=one_year_before(monday), end=one_year_before(sunday))
        sales = {name: selectors.sales_totals(reader, s)["now"]
                 for name, s in (("week", week), ("before", before), ("year", year))}
        tryons = selectors.tryons(reader, week)
        slow = len(selectors.slow_movers(week, today=today, limit=200))
        out.append({"store_id": store_id, "sales": sales,
                    "booked": sum(r["booked"] for r in tryons),
                    "bought": sum(r["bought"] for r in tryons), "slow_movers": slow})
    return out
