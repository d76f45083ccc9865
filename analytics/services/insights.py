"""The computations the catalog shows: popularity and "often viewed/bought together"."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from catalog.models import AffinityKind
from catalog.services import product_affinities_replace, product_popularity_set

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
