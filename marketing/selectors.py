"""Marketing's shared reads: the member's inbox, and what a campaign or journey earned
(attribution).

Attribution reads the Touch ledger of one source (a campaign, a journey step...):

- audience, sent, skipped by reason, held out; delivered / failed / waiting from the
  outbox rows of the reaches; opened and clicked (the pixel, the tracked links);
- coupons of the reaches redeemed (not reversed), online and per store;
- orders and revenue attributed: paid orders (not cancelled or refunded) a member placed
  within ``window_days`` (default MARKETING_ATTRIBUTION_DAYS) after their reach, for the
  treated group (everyone not held out: sent and skipped alike, so that the comparison is
  fair) and the holdout, online and per store;
- lift: the treated conversion (members with at least one such order) minus the
  holdout's, in percentage points, with a 95% confidence interval (normal
  approximation of the difference of two proportions). No holdout: no lift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Count, Value
from django.db.models.functions import Cast, Concat

from members.models import Redemption, User
from o2o.models import OutboxMessage
from orders.models import Order, OrderStatus
from stores.models import Store

from .models import InboxItem, Touch, TouchOutcome

INBOX_SHOWN = 50
Z95 = 1.959964


def inbox_for(*, member: User, limit: int = INBOX_SHOWN) -> list[InboxItem]:
    return list(InboxItem.objects.filter(member=member).order_by("-created_at", "-id")[:limit])


def inbox_unread_count(*, member: User) -> int:
    return InboxItem.objects.filter(member=member, read_at__isnull=True).count()


@dataclass(frozen=True)
class Group:
    """Orders of one group (treated or holdout) within the window."""

    members: int = 0
    converted: int = 0          # members with at least one order
    orders: int = 0
    revenue: Decimal = Decimal("0.00")
    orders_online: int = 0
    revenue_online: Decimal = Decimal("0.00")
    by_store: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # name: (n, ¥)

    @property
    def conversion(self) -> float | None:
        return self.converted / self.members if self.members else None


@dataclass(frozen=True)
class Attribution:
    source: str
    source_id: int
    window_days: int
    audience: int
    sent: int
    held_out: int
    skipped: dict[str, int]
    delivered: int
    failed: int
    waiting: int
    opened: int
    clicked: int
    coupons: int
    redeemed_online: int
    redeemed_by_store: dict[str, int]
    discount: Decimal
    treated: Group
    holdout: Group
    lift: float | None            # percentage points, treated minus holdout conversion
    lift_low: float | None        # 95% confidence interval
    lift_high: float | None

    @property
    def redeemed(self) -> int:
        return self.redeemed_online + sum(self.redeemed_by_store.values())

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def lift_interval(converted_t: int, n_t: int, converted_h: int,
                  n_h: int) -> tuple[float | None, float | None, float | None]:
    """(lift, low, high) in percentage points; None without both groups."""
    if not n_t or not n_h:
        return None, None, None
    p_t, p_h = converted_t / n_t, converted_h / n_h
    diff = p_t - p_h
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_h * (1 - p_h) / n_h)
    return diff * 100, (diff - Z95 * se) * 100, (diff + Z95 * se) * 100


_EXCLUDED = [OrderStatus.PENDING_PAYMENT.value, OrderStatus.CANCELLED.value,
             OrderStatus.REFUNDED.value]


def _orders(source: str, source_id: int, window: timedelta) -> dict[bool, Group]:
    touches, orders = Touch._meta.db_table, Order._meta.db_table
    sql = f"""
        SELECT t.outcome = 'holdout' AS held, o.store_id, o.channel,
               count(DISTINCT o.member_id), count(o.id), coalesce(sum(o.total), 0)
        FROM {touches} t
        JOIN {orders} o ON o.member_id = t.member_id AND o.placed_at >= t.at
                        AND o.placed_at < t.at + %s
        WHERE t.source = %s AND t.source_id = %s AND NOT (o.status = ANY(%s))
        GROUP BY 1, 2, 3"""
    converted_sql = f"""
        SELECT t.outcome = 'holdout', count(DISTINCT t.member_id)
        FROM {touches} t
        WHERE t.source = %s AND t.source_id = %s AND EXISTS (
            SELECT 1 FROM {orders} o WHERE o.member_id = t.member_id AND o.placed_at >= t.at
              AND o.placed_at < t.at + %s AND NOT (o.status = ANY(%s)))
        GROUP BY 1"""
    with connection.cursor() as cursor:  # psycopg sends the window as an interval
        cursor.execute(sql, [window, source, source_id, _EXCLUDED])  # type: ignore[list-item]
        rows = cursor.fetchall()
        cursor.execute(converted_sql,
                       [source, source_id, window, _EXCLUDED])  # type: ignore[list-item]
        converted = dict(cursor.fetchall())
    members = dict(Touch.objects.filter(source=source, source_id=source_id)
                   .values_list("outcome").annotate(n=Count("pk")).values_list("outcome", "n"))
    held_n = members.get(TouchOutcome.HOLDOUT, 0)
    treated_n = sum(members.values()) - held_n
    stores = dict(Store.objects.filter(pk__in={r[1] for r in rows if r[1]})
                  .values_list("pk", "name"))
    groups: dict[bool, Group] = {}
    for held in (False, True):
        mine = [r for r in rows if r[0] is held]
        by_store: dict[str, tuple[int, Decimal]] = {}
        for _h, store_id, channel, _m, n, amount in mine:
            if channel == "store" and store_id:
                name = stores.get(store_id, str(store_id))
                before = by_store.get(name, (0, Decimal("0")))
                by_store[name] = (before[0] + n, before[1] + amount)
        groups[held] = Group(
            members=held_n if held else treated_n, converted=converted.get(held, 0),
            orders=sum(r[4] for r in mine), revenue=sum((r[5] for r in mine), Decimal("0.00")),
            orders_online=sum(r[4] for r in mine if r[2] != "store"),
            revenue_online=sum((r[5] for r in mine if r[2] != "store"), Decimal("0.00")),
            by_store=by_store)
    return groups


def attribution(*, source: str, source_id: int, window_days: int | None = None) -> Attribution:
    """What one source's reaches earned (see the module's docstring). A handful of
    queries whatever the audience."""
    window_days = window_days if window_days is not None else getattr(
        settings, "MARKETING_ATTRIBUTION_DAYS", 7)
    touches = Touch.objects.filter(source=source, source_id=source_id)
    outcomes = dict(touches.values_list("outcome").annotate(n=Count("pk"))
                    .values_list("outcome", "n"))
    skipped = dict(touches.filter(outcome=TouchOutcome.SKIPPED).values_list("reason")
                   .annotate(n=Count("pk")).values_list("reason", "n"))
    engaged = touches.aggregate(opened=Count("opened_at"), clicked=Count("clicked_at"),
                                coupons=Count("coupon_id"))
    abouts = touches.annotate(about=Concat(Value("marketing.touch:"),
                                           Cast("pk", CharField()))).values("about")
    states = dict(OutboxMessage.objects.filter(about__in=abouts).values_list("state")
                  .annotate(n=Count("pk")).values_list("state", "n"))
    redemptions = (Redemption.objects.filter(reversed_at__isnull=True,
                                             coupon_id__in=touches.exclude(coupon=None)
                                             .values("coupon_id"))
                   .values_list("channel", "store__name").annotate(n=Count("pk")))
    by_store: dict[str, int] = {}
    online = 0
    for _channel, store_name, n in redemptions:
        if store_name:
            by_store[store_name] = by_store.get(store_name, 0) + n
        else:
            online += n
    discount = (Redemption.objects.filter(reversed_at__isnull=True,
                                          coupon_id__in=touches.exclude(coupon=None)
                                          .values("coupon_id"))
                .values_list("discount", flat=True))
    groups = _orders(source, source_id, timedelta(days=window_days))
    treated, holdout = groups[False], groups[True]
    lift, low, high = lift_interval(treated.converted, treated.members, holdout.converted,
                                    holdout.members)
    S = OutboxMessage.State
    return Attribution(
        source=source, source_id=source_id, window_days=window_days,
        audience=sum(outcomes.values()), sent=outcomes.get(TouchOutcome.SENT, 0),
        held_out=outcomes.get(TouchOutcome.HOLDOUT, 0), skipped=skipped,
        delivered=states.get(S.SENT, 0), failed=states.get(S.FAILED, 0),
        waiting=states.get(S.PENDING, 0) + states.get(S.SENDING, 0),
        opened=engaged["opened"], clicked=engaged["clicked"], coupons=engaged["coupons"],
        redeemed_online=online, redeemed_by_store=by_store,
        discount=sum(discount, Decimal("0.00")), treated=treated, holdout=holdout,
        lift=lift, lift_low=low, lift_high=high)
