"""Writers of analytics rows, and the computations the catalog shows (popularity, affinity)."""

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import AffinityKind
from catalog.services import product_affinities_replace, product_popularity_set
from members.models import User

from . import buffer
from .models import Event


def event_record(*, kind: str, user=None, session_key: str = "", product_id: int | None = None,
                 store_id: int | None = None, channel: str = "", data: dict | None = None) -> Event:
    """Append one event now. The one direct writer of analytics.Event."""
    return Event.objects.create(
        kind=kind,
        user=user if user is not None and user.is_authenticated else None,
        session_key=session_key or "",
        product_id=product_id,
        store_id=store_id,
        channel=channel,
        at=timezone.now(),
        data=data or {},
    )


def _users_still_there(rows: list[dict]) -> set[int]:
    """The buffered events' members that still exist: one who erased their account while
    their events waited in Redis must not make the batch fail for ever (the event is
    kept without the person, and without the session key that would tie it to their
    other events: as analytics.privacy erases them)."""
    ids = {row["user_id"] for row in rows if row.get("user_id")}
    return set(User.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()


def _event_from_buffer(row: dict, users: set[int]) -> Event:
    gone = bool(row["user_id"]) and row["user_id"] not in users
    return Event(kind=row["kind"], user_id=None if gone else row["user_id"],
                 session_key="" if gone else row["session_key"], product_id=row["product_id"],
                 store_id=row["store_id"], channel=row["channel"], data=row["data"],
                 at=parse_datetime(row["at"]))


def events_flush(*, max_batches: int = 50) -> int:
    """Move buffered events (analytics.buffer) into the table in bulk. Safe to run twice."""
    moved = 0
    for _ in range(max_batches):
        rows = buffer.events_pop()
        if not rows:
            break
        try:
            with transaction.atomic():
                users = _users_still_there(rows)
                Event.objects.bulk_create(_event_from_buffer(row, users) for row in rows)
        except Exception:
            buffer.events_push_back(rows)
            raise
        moved += len(rows)
    return moved


VIEWED_TOGETHER_SQL = """
    WITH seen AS (
        SELECT DISTINCT COALESCE(user_id::text, NULLIF(session_key, '')) AS who, product_id
          FROM analytics_event
         WHERE kind = 'product.viewed' AND product_id IS NOT NULL AND at >= %s
           -- a view outlives a deleted product (events keep a plain id, no foreign key)
           AND product_id IN (SELECT id FROM catalog_product)
    )
    SELECT a.product_id, b.product_id, COUNT(*)
      FROM seen a JOIN seen b ON a.who = b.who AND a.product_id <> b.product_id
     WHERE a.who IS NOT NULL
     GROUP BY 1, 2
"""

BOUGHT_TOGETHER_SQL = """
    WITH bought AS (
        SELECT DISTINCT l.order_id, v.product_id
          FROM orders_orderline l
          JOIN orders_order o ON o.id = l.order_id
          JOIN catalog_variant v ON v.id = l.variant_id
         WHERE o.placed_at >= %s AND o.status NOT IN ('pending_payment', 'cancelled')
    )
    SELECT a.product_id, b.product_id, COUNT(*)
      FROM bought a JOIN bought b ON a.order_id = b.order_id AND a.product_id <> b.product_id
     GROUP BY 1, 2
"""

POPULARITY_SQL = """
    SELECT product_id, SUM(score)::int FROM (
        SELECT product_id, COUNT(*) AS score FROM analytics_event
         WHERE kind = 'product.viewed' AND product_id IS NOT NULL AND at >= %s
         GROUP BY product_id
        UNION ALL
        SELECT v.product_id, 5 * SUM(l.quantity) AS score
          FROM orders_orderline l
          JOIN orders_order o ON o.id = l.order_id
          JOIN catalog_variant v ON v.id = l.variant_id
         WHERE o.placed_at >= %s AND o.status NOT IN ('pending_payment', 'cancelled')
         GROUP BY v.product_id
    ) scores GROUP BY product_id
"""


def _pairs(sql: str, since) -> dict[tuple[int, int], int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [since])
        return {(a, b): n for a, b, n in cursor.fetchall()}


def product_insights_refresh(*, days: int = 90) -> dict[str, int]:
    """Recompute "often viewed/bought together" and popularity from the loop's data.

    Whole-table replacement inside catalog.services; safe to run twice.
    """
    now = timezone.now()
    since = now - timedelta(days=days)
    viewed = product_affinities_replace(kind=AffinityKind.VIEWED,
                                        pairs=_pairs(VIEWED_TOGETHER_SQL, since))
    bought = product_affinities_replace(kind=AffinityKind.BOUGHT,
                                        pairs=_pairs(BOUGHT_TOGETHER_SQL, since))
    with connection.cursor() as cursor:
        cursor.execute(POPULARITY_SQL, [now - timedelta(days=30), since])
        scores = dict(cursor.fetchall())
    product_popularity_set(scores=scores)
    return {"viewed_pairs": viewed, "bought_pairs": bought, "popular": len(scores)}
