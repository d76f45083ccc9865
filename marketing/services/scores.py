"""RFM scores, nightly: recency, frequency and monetary value of each member's paid
orders over the last RFM_DAYS, each cut into quintiles (5 best) in one statement."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from orders.models import Order, OrderStatus

from ..models import MemberScore

RFM_DAYS = 730


def member_scores_refresh(*, now: datetime | None = None) -> int:
    """Recompute every member's RFM scores; members without a paid order in the period
    lose theirs. Safe to run twice. Returns how many members were scored."""
    now = now or timezone.now()
    scores, orders = MemberScore._meta.db_table, Order._meta.db_table
    unpaid = [OrderStatus.PENDING_PAYMENT.value, OrderStatus.CANCELLED.value]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"""
            WITH per_member AS (
                SELECT member_id, max(placed_at) AS last_at, count(*) AS orders,
                       sum(total) AS spend
                FROM {orders}
                WHERE member_id IS NOT NULL AND NOT (status = ANY(%(unpaid)s))
                  AND placed_at > %(since)s
                GROUP BY member_id)
            INSERT INTO {scores} (member_id, recency, frequency, monetary, computed_at)
            SELECT member_id, ntile(5) OVER (ORDER BY last_at, member_id),
                   ntile(5) OVER (ORDER BY orders, member_id),
                   ntile(5) OVER (ORDER BY spend, member_id), %(now)s
            FROM per_member
            ON CONFLICT (member_id) DO UPDATE SET recency = EXCLUDED.recency,
                frequency = EXCLUDED.frequency, monetary = EXCLUDED.monetary,
                computed_at = EXCLUDED.computed_at""",
                       {"unpaid": unpaid, "since": now - timedelta(days=RFM_DAYS), "now": now})
        scored = cursor.rowcount
        MemberScore.objects.filter(computed_at__lt=now).delete()
    return scored
