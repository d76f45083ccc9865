"""The facts and rollups behind the dashboards, and how they are kept current.

Facts (one row per order, paid order line and succeeded refund) are computed from the
orders' tables by the SELECTs below; rollup cells (day x store x channel, ...) are
aggregates of the facts (sales) or of their sources (visits from analytics.Event,
try-ons from appointments, new members from profiles, stock from stock levels). Each
cell's SQL is written once and serves three callers:

- the fold (``orders_fold``, beat every few seconds, any number of workers): orders
  marked dirty in the transaction of their change (analytics.receivers) are claimed with
  ``FOR UPDATE SKIP LOCKED``; their facts are computed again, and the sales cells of the
  days they touch are computed again from the facts under a transaction-level advisory
  lock per day (taken in date order), so two workers folding orders of one day write
  one after the other, each seeing the other's facts;
- the rebuild of a range of days (``rollups_rebuild``: the nightly reconcile of
  yesterday, the demo, the bench, ``manage.py analytics_rebuild``), under the same locks;
- "today", computed live for the dashboards (``cells_live``): the same cell SQL over the
  facts of today's orders computed on the fly, so a sale shows the second it is paid.

Days are shop days (settings.TIME_ZONE).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..routers import reporting_connection

log = logging.getLogger(__name__)

# --- Facts -------------------------------------------------------------------------------

ORDER_FACT_COLUMNS = ("order_id", "placed_on", "paid_on", "handed_over_on", "store_id",
                      "channel", "member_id", "staff_id", "device", "total", "subtotal",
                      "coupon_discount", "points_discount", "units", "refunded")

# One row per order. Handed over: the move to collected or delivered in the audit trail,
# else completed_at (imported history), else the last change of an order imported as
# collected or delivered.
ORDER_FACTS = """
SELECT o.id AS order_id,
       (o.placed_at AT TIME ZONE %(tz)s)::date AS placed_on,
       (o.paid_at AT TIME ZONE %(tz)s)::date AS paid_on,
       (COALESCE(h.at, o.completed_at,
                 CASE WHEN o.status IN ('collected', 'delivered') THEN o.updated_at END)
        AT TIME ZONE %(tz)s)::date AS handed_over_on,
       o.store_id, o.fulfilment AS channel, o.member_id, o.staff_id,
       CASE WHEN o.fulfilment = 'counter' THEN 'store' ELSE COALESCE(d.device, '') END AS device,
       o.total, o.subtotal, o.coupon_discount, o.points_discount,
       COALESCE(l.units, 0) AS units, COALESCE(r.amount, 0) AS refunded
  FROM orders_order o
  LEFT JOIN analytics_orderdevice d ON d.order_id = o.id
  LEFT JOIN LATERAL (SELECT SUM(ol.quantity)::int AS units FROM orders_orderline ol
                      WHERE ol.order_id = o.id) l ON TRUE
  LEFT JOIN LATERAL (SELECT SUM(rf.amount) AS amount
                       FROM orders_refund rf JOIN orders_payment p ON p.id = rf.payment_id
                      WHERE p.order_id = o.id AND rf.status = 'succeeded') r ON TRUE
  LEFT JOIN LATERAL (SELECT MIN(e.at) AS at FROM orders_orderevent e
                      WHERE e.order_id = o.id AND e.kind = 'status'
                        AND e.data->>'to' IN ('collected', 'delivered')) h ON TRUE
 WHERE {where}
"""

LINE_FACT_COLUMNS = ("line_id", "order_id", "day", "store_id", "channel", "variant_id",
                     "product_id", "category_id", "metal", "collection_ids", "units", "gross",
                     "revenue", "gold_g", "cost", "cost_known")

# One row per line of a paid order. Its revenue is its share of what the order was paid
# (after the coupon and the points), in proportion to its price; gold weight counts the
# pieces of gold; cost is the variant's cost price at the time (kept when refolded).
LINE_FACTS = """
SELECT ol.id AS line_id, ol.order_id, (o.paid_at AT TIME ZONE %(tz)s)::date AS day,
       o.store_id, o.fulfilment AS channel, ol.variant_id, v.product_id, p.category_id,
       v.metal,
       ARRAY(SELECT pc.collection_id FROM catalog_product_collections pc
              WHERE pc.product_id = v.product_id ORDER BY 1)::bigint[] AS collection_ids,
       ol.quantity AS units, ol.line_total AS gross,
       CASE WHEN o.subtotal > 0 THEN ROUND(ol.line_total * o.total / o.subtotal, 2)
            ELSE ol.line_total END AS revenue,
       CASE WHEN v.metal = 'gold' THEN COALESCE(v.weight_g, 0) * ol.quantity ELSE 0 END AS gold_g,
       COALESCE(v.cost_price, 0) * ol.quantity AS cost,
       v.cost_price IS NOT NULL AS cost_known
  FROM orders_orderline ol
  JOIN orders_order o ON o.id = ol.order_id
  JOIN catalog_variant v ON v.id = ol.variant_id
  JOIN catalog_product p ON p.id = v.product_id
 WHERE o.paid_at IS NOT NULL AND {where}
"""

REFUND_FACT_COLUMNS = ("refund_id", "order_id", "day", "store_id", "channel", "amount")

REFUND_FACTS = """
SELECT rf.id AS refund_id, p.order_id, (rf.created_at AT TIME ZONE %(tz)s)::date AS day,
       o.store_id, o.fulfilment AS channel, rf.amount
  FROM orders_refund rf
  JOIN orders_payment p ON p.id = rf.payment_id
  JOIN orders_order o ON o.id = p.order_id
 WHERE rf.status = 'succeeded' AND {where}
"""

# --- Rollup cells ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rollup:
    """A rollup table: its cell SQL (``{src}`` the source, ``{where}`` the days), the
    columns it yields, and what it is made from ("facts" are kept by the fold)."""

    name: str
    table: str
    columns: tuple[str, ...]
    sql: str
    from_facts: bool = False
    fact_day: str = "day"  # the source's day column (fact-based rollups)


SALES_DAY = Rollup(
    "sales", "analytics_salesday",
    ("day", "store_id", "channel", "orders", "units", "revenue", "subtotal",
     "coupon_discount", "points_discount"),
    """
    SELECT f.paid_on AS day, f.store_id, f.channel, COUNT(*)::int, COALESCE(SUM(f.units), 0)::int,
           SUM(f.total), SUM(f.subtotal), SUM(f.coupon_discount), SUM(f.points_discount)
      FROM {src} f WHERE f.paid_on IS NOT NULL AND {where}
     GROUP BY 1, 2, 3
    """, from_facts=True, fact_day="paid_on")

SALES_LINE_DAY = Rollup(
    "sales_lines", "analytics_saleslineday",
    ("day", "store_id", "channel", "category_id", "metal", "units", "gross", "revenue",
     "gold_g", "cost", "cost_unknown_units"),
    """
    SELECT f.day, f.store_id, f.channel, f.category_id, f.metal, SUM(f.units)::int,
           SUM(f.gross), SUM(f.revenue), SUM(f.gold_g), SUM(f.cost),
           COALESCE(SUM(f.units) FILTER (WHERE NOT f.cost_known), 0)::int
      FROM {src} f WHERE {where}
     GROUP BY 1, 2, 3, 4, 5
    """, from_facts=True)

SALES_COLLECTION_DAY = Rollup(
    "sales_collections", "analytics_salescollectionday",
    ("day", "store_id", "channel", "collection_id", "units", "revenue"),
    """
    SELECT f.day, f.store_id, f.channel, c.collection_id, SUM(f.units)::int, SUM(f.revenue)
      FROM {src} f CROSS JOIN LATERAL unnest(f.collection_ids) AS c(collection_id)
     WHERE {where}
     GROUP BY 1, 2, 3, 4
    """, from_facts=True)

REFUND_DAY = Rollup(
    "refunds", "analytics_refundday",
    ("day", "store_id", "channel", "refunds", "amount"),
    """
    SELECT f.day, f.store_id, f.channel, COUNT(*)::int, SUM(f.amount)
      FROM {src} f WHERE {where}
     GROUP BY 1, 2, 3
    """, from_facts=True)

# A visitor is the member, else the session; a view made before the visitor's session
# existed (a first page) counts as a visitor of its own. Each counts once a day.
_VISITOR = "COALESCE(e.user_id::text, NULLIF(e.session_key, ''), 'event:' || e.id::text)"

FUNNEL_DAY = Rollup(
    "funnel", "analytics_funnelday",
    ("day", "device", "views", "viewers", "adds", "adders", "checkouts"),
    f"""
    SELECT (e.at AT TIME ZONE %(tz)s)::date, COALESCE(e.data->>'device', ''),
           COUNT(*) FILTER (WHERE e.kind = 'product.viewed')::int,
           COUNT(DISTINCT {_VISITOR}) FILTER (WHERE e.kind = 'product.viewed')::int,
           COUNT(*) FILTER (WHERE e.kind = 'shop.bag')::int,
           COUNT(DISTINCT {_VISITOR}) FILTER (WHERE e.kind = 'shop.bag')::int,
           COUNT(DISTINCT {_VISITOR}) FILTER (WHERE e.kind = 'shop.checkout')::int
      FROM analytics_event e
     WHERE e.kind IN ('product.viewed', 'shop.bag', 'shop.checkout')
       AND e.at >= %(from)s AND e.at < %(to)s
     GROUP BY 1, 2
    """)

TRYON_DAY = Rollup(
    "tryons", "analytics_tryonday",
    ("day", "store_id", "staff_id", "booked", "checked_in", "no_show", "cancelled", "bought"),
    """
    SELECT (a.starts_at AT TIME ZONE %(tz)s)::date, a.store_id, a.staff_id, COUNT(*)::int,
           COUNT(*) FILTER (WHERE a.status IN ('checked_in', 'completed'))::int,
           COUNT(*) FILTER (WHERE a.status = 'no_show')::int,
           COUNT(*) FILTER (WHERE a.status = 'cancelled')::int,
           COUNT(*) FILTER (WHERE a.outcome = 'bought')::int
      FROM stores_appointment a
     WHERE a.starts_at >= %(from)s AND a.starts_at < %(to)s
     GROUP BY 1, 2, 3
    """)

MEMBER_DAY = Rollup(
    "members", "analytics_memberday",
    ("day", "store_id", "channel", "new_members"),
    """
    SELECT (u.date_joined AT TIME ZONE %(tz)s)::date, m.registered_store_id,
           m.registered_channel, COUNT(*)::int
      FROM members_memberprofile m JOIN members_user u ON u.id = m.user_id
     WHERE u.date_joined >= %(from)s AND u.date_joined < %(to)s
     GROUP BY 1, 2, 3
    """)

# Stock as it is now, dated %(day)s, aged from that day. Pieces without a cost price
# count in units, not in value.
STOCK_DAY = Rollup(
    "stock", "analytics_stockday",
    ("day", "store_id", "category_id", "units", "value", "units_young", "value_young",
     "units_mid", "value_mid", "units_old", "value_old"),
    """
    SELECT %(day)s::date, s.store_id, p.category_id, SUM(s.on_hand)::int,
           SUM(s.on_hand * COALESCE(v.cost_price, 0)),
           COALESCE(SUM(s.on_hand) FILTER (WHERE s.arrived_on > %(young)s), 0)::int,
           COALESCE(SUM(s.on_hand * COALESCE(v.cost_price, 0))
                    FILTER (WHERE s.arrived_on > %(young)s), 0),
           COALESCE(SUM(s.on_hand) FILTER (WHERE s.arrived_on <= %(young)s
                                            AND s.arrived_on > %(old)s), 0)::int,
           COALESCE(SUM(s.on_hand * COALESCE(v.cost_price, 0))
                    FILTER (WHERE s.arrived_on <= %(young)s AND s.arrived_on > %(old)s), 0),
           COALESCE(SUM(s.on_hand) FILTER (WHERE s.arrived_on <= %(old)s), 0)::int,
           COALESCE(SUM(s.on_hand * COALESCE(v.cost_price, 0))
                    FILTER (WHERE s.arrived_on <= %(old)s), 0)
      FROM stores_stocklevel s
      JOIN catalog_variant v ON v.id = s.variant_id
      JOIN catalog_product p ON p.id = v.product_id
     WHERE s.on_hand > 0
     GROUP BY 1, 2, 3
    """)

FACT_ROLLUPS = (SALES_DAY, SALES_LINE_DAY, SALES_COLLECTION_DAY, REFUND_DAY)
SOURCE_ROLLUPS = (FUNNEL_DAY, TRYON_DAY, MEMBER_DAY)
ROLLUPS = {r.name: r for r in (*FACT_ROLLUPS, *SOURCE_ROLLUPS, STOCK_DAY)}
_FACT_SOURCE = {SALES_DAY: "analytics_orderfact", SALES_LINE_DAY: "analytics_orderlinefact",
                SALES_COLLECTION_DAY: "analytics_orderlinefact",
                REFUND_DAY: "analytics_refundfact"}

LOCK_SEED = 1717  # hashtextextended's seed for this module's advisory locks
GLOBAL_LOCK = "analytics.rollups"


# --- Small helpers --------------------------------------------------------------------


def shop_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=shop_zone())


def shop_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(shop_zone()).date()


def age_limits(day: date) -> tuple[date, date]:
    """The arrival dates that make stock 6 and 12 months old on ``day``."""
    def months_back(months: int) -> date:
        year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
        month += 1
        last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
        return date(year, month, min(day.day, last))
    return months_back(6), months_back(12)


def _params(**extra) -> dict:
    return {"tz": settings.TIME_ZONE, **extra}


def _lock(cursor, keys: Iterable[str], *, shared_global: bool = True) -> None:
    """Transaction-level advisory locks: the global one shared (a whole rebuild takes it
    alone), then ``keys`` in sorted order (two lockers never wait on each other in a
    cycle)."""
    ordered = sorted(set(keys))
    sql = ["pg_advisory_xact_lock_shared(hashtextextended(%s, %s))" if shared_global
           else "pg_advisory_xact_lock(hashtextextended(%s, %s))"]
    args: list = [GLOBAL_LOCK, LOCK_SEED]
    for key in ordered:
        sql.append("pg_advisory_xact_lock(hashtextextended(%s, %s))")
        args += [key, LOCK_SEED]
    cursor.execute("SELECT " + ", ".join(sql), args)


def _day_key(day: date) -> str:
    return f"analytics.day:{day.isoformat()}"


# --- Facts: written ---------------------------------------------------------------------


def _facts_write(cursor, order_ids: Sequence[int]) -> None:
    """Compute the facts of ``order_ids`` again from the orders' tables (inside the
    caller's transaction and locks). A line's cost stays what it was when first folded."""
    params = _params(ids=list(order_ids))
    cursor.execute("DELETE FROM analytics_orderfact WHERE order_id = ANY(%(ids)s)", params)
    cursor.execute(
        f"INSERT INTO analytics_orderfact ({', '.join(ORDER_FACT_COLUMNS)}) "
        + ORDER_FACTS.format(where="o.id = ANY(%(ids)s)"), params)
    columns = ", ".join(LINE_FACT_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in LINE_FACT_COLUMNS
                        if c not in ("line_id", "cost", "cost_known"))
    cursor.execute(
        f"""WITH new AS ({LINE_FACTS.format(where="o.id = ANY(%(ids)s)")}),
                 gone AS (DELETE FROM analytics_orderlinefact
                           WHERE order_id = ANY(%(ids)s)
                             AND line_id NOT IN (SELECT line_id FROM new))
            INSERT INTO analytics_orderlinefact ({columns}) SELECT {columns} FROM new
            ON CONFLICT (line_id) DO UPDATE SET {updates}""", params)
    cursor.execute("DELETE FROM analytics_refundfact WHERE order_id = ANY(%(ids)s)", params)
    cursor.execute(
        f"INSERT INTO analytics_refundfact ({', '.join(REFUND_FACT_COLUMNS)}) "
        + REFUND_FACTS.format(where="o.id = ANY(%(ids)s)"), params)


def _fact_days(cursor, order_ids: Sequence[int], *, stored: bool) -> set[date]:
    """The days whose sales cells the orders count in: as stored in the facts, or as the
    orders' tables say now."""
    params = _params(ids=list(order_ids))
    if stored:
        cursor.execute("""
            SELECT paid_on FROM analytics_orderfact WHERE order_id = ANY(%(ids)s)
               AND paid_on IS NOT NULL
            UNION SELECT day FROM analytics_orderlinefact WHERE order_id = ANY(%(ids)s)
            UNION SELECT day FROM analytics_refundfact WHERE order_id = ANY(%(ids)s)""", params)
    else:
        cursor.execute("""
            SELECT (o.paid_at AT TIME ZONE %(tz)s)::date FROM orders_order o
             WHERE o.id = ANY(%(ids)s) AND o.paid_at IS NOT NULL
            UNION SELECT (rf.created_at AT TIME ZONE %(tz)s)::date
              FROM orders_refund rf JOIN orders_payment p ON p.id = rf.payment_id
             WHERE p.order_id = ANY(%(ids)s) AND rf.status = 'succeeded'""", params)
    return {row[0] for row in cursor.fetchall()}


def _cells_write(cursor, rollups: Iterable[Rollup], *, where: str, params: dict,
                 src: str | None = None) -> None:
    """Replace the cells ``where`` selects (a condition on ``{day}``) by the aggregate of
    their source. Fact-based rollups read the fact tables unless ``src`` says otherwise."""
    for rollup in rollups:
        source = src or _FACT_SOURCE.get(rollup, "")
        fact_where = where.format(day=f"f.{rollup.fact_day}")
        cursor.execute(f"DELETE FROM {rollup.table} WHERE {where.format(day='day')}", params)
        cursor.execute(f"INSERT INTO {rollup.table} ({', '.join(rollup.columns)}) "
                       + rollup.sql.format(src=source, where=fact_where), params)


# --- The fold: changed orders, as they happen ---------------------------------------------


def orders_mark_dirty(*, order_ids: Iterable[int]) -> None:
    """Mark orders for the fold, in the caller's transaction (the change's own)."""
    ids = sorted(set(order_ids))
    if ids:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO analytics_dirtyorder (order_id, marked_at) "
                           "SELECT unnest(%s::bigint[]), NOW() ON CONFLICT DO NOTHING", [ids])


def orders_fold(*, limit: int = 500, now: datetime | None = None) -> int:
    """Fold up to ``limit`` changed orders into the facts and the sales cells of the days
    they touch; returns how many. One transaction: the claimed marks go with the writes
    they caused (a worker killed half way leaves them marked). Workers run side by side:
    each claims its own orders (SKIP LOCKED), and one day's cells are written by one
    worker at a time (advisory lock per day, in date order)."""
    today = shop_today(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("""
            DELETE FROM analytics_dirtyorder WHERE order_id IN (
                SELECT order_id FROM analytics_dirtyorder ORDER BY order_id
                 LIMIT %s FOR UPDATE SKIP LOCKED)
            RETURNING order_id""", [limit])
        ids = sorted(row[0] for row in cursor.fetchall())
        if not ids:
            return 0
        days = _fact_days(cursor, ids, stored=True) | _fact_days(cursor, ids, stored=False)
        days.add(today)  # a payment or refund racing this fold lands on today
        _lock(cursor, map(_day_key, days))
        _facts_write(cursor, ids)
        late = _fact_days(cursor, ids, stored=True) - days
        if late:  # the orders changed between the read and the write (rare): lock those too
            _lock(cursor, map(_day_key, late))
            days |= late
        _cells_write(cursor, FACT_ROLLUPS, where="{day} = ANY(%(days)s)",
                     params=_params(days=sorted(days)))
    return len(ids)


def orders_fold_all(*, now: datetime | None = None, batch: int = 500) -> int:
    """Fold until no order is left marked (the beat's task)."""
    folded = 0
    while True:
        done = orders_fold(limit=batch, now=now)
        folded += done
        if done < batch:
            return folded


# --- Rebuilds ----------------------------------------------------------------------------


def _orders_touching(cursor, start: date, end: date) -> list[int]:
    """Orders placed, paid or refunded between ``start`` and ``end`` (shop days). Paid
    orders were placed at most PAY_AT_COUNTER_DAYS (+ a day) before their payment (an
    unpaid order expires), which bounds the scan by the placed_at index."""
    window = timedelta(days=settings.PAY_AT_COUNTER_DAYS + 1)
    params = _params(since=day_start(start), until=day_start(end + timedelta(days=1)),
                     placed_since=day_start(start) - window)
    cursor.execute("""
        SELECT o.id FROM orders_order o
         WHERE o.placed_at >= %(placed_since)s AND o.placed_at < %(until)s
           AND (o.placed_at >= %(since)s OR (o.paid_at >= %(since)s AND o.paid_at < %(until)s))
        UNION
        SELECT p.order_id FROM orders_refund rf JOIN orders_payment p ON p.id = rf.payment_id
         WHERE rf.created_at >= %(since)s AND rf.created_at < %(until)s""", params)
    return [row[0] for row in cursor.fetchall()]


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def rollups_rebuild(*, start: date, end: date, names: Sequence[str] | None = None,
                    now: datetime | None = None) -> dict[str, int]:
    """Compute the facts of the orders of ``start``..``end`` and every cell of those days
    again (stock: only today's state can be seen, so only a day from yesterday on is
    snapshotted). Under the days' locks; safe beside the fold and on several workers.
    Returns the cells written per rollup."""
    wanted = [ROLLUPS[n] for n in (names or ROLLUPS)]
    today = shop_today(now)
    written: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, map(_day_key, _days(start, end)))
        if any(r.from_facts for r in wanted):
            ids = _orders_touching(cursor, start, end)
            for chunk in range(0, len(ids), 5000):
                _facts_write(cursor, ids[chunk:chunk + 5000])
        params = _params(start=start, end=end, **{"from": day_start(start)},
                         to=day_start(end + timedelta(days=1)))
        for rollup in wanted:
            if rollup is STOCK_DAY:
                if end >= today - timedelta(days=1):
                    written[rollup.name] = _stock_snapshot(cursor, min(end, today))
                continue
            _cells_write(cursor, [rollup], where="{day} BETWEEN %(start)s AND %(end)s",
                         params=params)
            written[rollup.name] = cursor.rowcount
    return written


def _stock_snapshot(cursor, day: date) -> int:
    young, old = age_limits(day)
    params = _params(day=day, young=young, old=old)
    cursor.execute("DELETE FROM analytics_stockday WHERE day = %(day)s", params)
    cursor.execute(f"INSERT INTO analytics_stockday ({', '.join(STOCK_DAY.columns)}) "
                   + STOCK_DAY.sql, params)
    return cursor.rowcount


def stock_snapshot(*, day: date | None = None, now: datetime | None = None) -> int:
    """Write the stock as it is now as the stock of ``day`` (the nightly: yesterday's
    close). Returns the cells written."""
    day = day or shop_today(now) - timedelta(days=1)
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, [f"analytics.stock:{day.isoformat()}"])
        return _stock_snapshot(cursor, day)


def rollups_rebuild_all(*, log_to=None) -> dict[str, int]:
    """Everything from scratch (the demo, the bench, a repair): every fact, every cell of
    every day, set-based. Takes the global lock alone: folds wait meanwhile."""
    say = log_to or (lambda _line: None)
    counts: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, [], shared_global=False)
        cursor.execute("TRUNCATE analytics_orderfact, analytics_orderlinefact, "
                       "analytics_refundfact, analytics_dirtyorder")
        params = _params()
        cursor.execute(f"INSERT INTO analytics_orderfact ({', '.join(ORDER_FACT_COLUMNS)}) "
                       + ORDER_FACTS.format(where="TRUE"), params)
        say(f"order facts: {cursor.rowcount}")
        cursor.execute(f"INSERT INTO analytics_orderlinefact ({', '.join(LINE_FACT_COLUMNS)}) "
                       + LINE_FACTS.format(where="TRUE"), params)
        say(f"line facts: {cursor.rowcount}")
        cursor.execute(f"INSERT INTO analytics_refundfact ({', '.join(REFUND_FACT_COLUMNS)}) "
                       + REFUND_FACTS.format(where="TRUE"), params)
        cursor.execute("SELECT MIN(placed_on), MAX(placed_on) FROM analytics_orderfact")
        first, _last = cursor.fetchone()
        cursor.execute("SELECT MIN(date_joined) FROM members_user")
        joined = cursor.fetchone()[0]
        cursor.execute("SELECT MIN(at) FROM analytics_event")
        viewed = cursor.fetchone()[0]
        today = shop_today()
        starts = [d for d in (first, joined and joined.astimezone(shop_zone()).date(),
                              viewed and viewed.astimezone(shop_zone()).date()) if d]
        start = min(starts, default=today)
        window = _params(start=start, end=today, **{"from": day_start(start)},
                         to=day_start(today + timedelta(days=1)))
        for rollup in (*FACT_ROLLUPS, *SOURCE_ROLLUPS):
            cursor.execute(f"TRUNCATE {rollup.table}")
            cursor.execute(f"INSERT INTO {rollup.table} ({', '.join(rollup.columns)}) "
                           + rollup.sql.format(src=_FACT_SOURCE.get(rollup, ""),
                                               where="TRUE"), window)
            counts[rollup.name] = cursor.rowcount
            say(f"{rollup.name}: {cursor.rowcount} cells")
        counts["stock"] = _stock_snapshot(cursor, today)
    counts["cohorts"] = cohorts_rebuild()
    return counts


def reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """The nightly: yesterday again from the sources (whatever a fold missed or a late
    event changed), yesterday's closing stock, and the monthly cohorts."""
    yesterday = shop_today(now) - timedelta(days=1)
    written = rollups_rebuild(start=yesterday, end=yesterday, now=now)
    written["cohorts"] = cohorts_rebuild()
    return written


# Monthly cohorts for the whole chain and for each store, for every channel choice: the
# dashboards read them instead of going through every order fact (a second for the chain).
COHORT_CHANNELS: dict[str, tuple[str, ...] | None] = {
    "": None, "online": ("delivery", "pickup"), "delivery": ("delivery",),
    "pickup": ("pickup",), "counter": ("counter",)}

_MONTHS = """
CREATE TEMP TABLE analytics_member_months ON COMMIT DROP AS
SELECT member_id, store_id, channel, date_trunc('month', paid_on)::date AS month
  FROM analytics_orderfact
 WHERE member_id IS NOT NULL AND paid_on IS NOT NULL
 GROUP BY 1, 2, 3, 4
"""

_COHORTS = """
INSERT INTO analytics_cohortcell (store_id, channel, cohort, month, members)
WITH m AS (SELECT DISTINCT member_id{key}, month FROM analytics_member_months WHERE {where}),
     f AS (SELECT member_id{key}, MIN(month) AS cohort FROM m GROUP BY member_id{key})
SELECT {store}, %(channel)s, f.cohort, m.month, COUNT(*)
  FROM m JOIN f USING (member_id{key})
 GROUP BY 1, 2, 3, 4
"""


def cohorts_rebuild() -> int:
    """Every cohort cell again, from the order facts (nightly, and after a rebuild)."""
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, ["analytics.cohorts"])
        cursor.execute("DELETE FROM analytics_cohortcell")
        # (Inside a longer transaction, e.g. a test's, an earlier rebuild's table is there.)
        cursor.execute("DROP TABLE IF EXISTS analytics_member_months")
        cursor.execute(_MONTHS)
        for channel, channels in COHORT_CHANNELS.items():
            where = "channel = ANY(%(channels)s)" if channels else "TRUE"
            params = {"channel": channel, "channels": list(channels or ())}
            cursor.execute(_COHORTS.format(key="", where=where, store="NULL::bigint"), params)
            written += cursor.rowcount
            cursor.execute(_COHORTS.format(key=", store_id", where=f"{where} AND store_id IS "
                                           "NOT NULL", store="m.store_id"), params)
            written += cursor.rowcount
    return written


# --- Today, live --------------------------------------------------------------------------


def cells_live(rollup: Rollup, *, day: date, now: datetime | None = None,
               store_ids: Iterable[int] | None = None) -> list[tuple]:
    """The cells of ``day`` (today) computed now from the sources, without writing: the
    same SQL as the rollup, over facts computed on the fly for fact-based rollups.
    ``store_ids`` narrows the stock (the one rollup read whole from its source)."""
    window = timedelta(days=settings.PAY_AT_COUNTER_DAYS + 1)
    start, end = day_start(day), day_start(day + timedelta(days=1))
    params = _params(start=day, end=day, since=start, until=end, placed_since=start - window,
                     **{"from": start, "to": end})
    if rollup is STOCK_DAY:
        young, old = age_limits(day)
        params.update(day=day, young=young, old=old)
        sql = rollup.sql
        if store_ids is not None:
            params["stores"] = sorted(store_ids)
            sql = sql.replace("WHERE s.on_hand > 0", "WHERE s.on_hand > 0 AND s.store_id = ANY(%(stores)s)")
    elif rollup.from_facts:
        if rollup is SALES_DAY:
            src = ORDER_FACTS.format(where="o.placed_at >= %(placed_since)s "
                                           "AND o.paid_at >= %(since)s AND o.paid_at < %(until)s")
        elif rollup is REFUND_DAY:
            src = REFUND_FACTS.format(where="rf.created_at >= %(since)s "
                                            "AND rf.created_at < %(until)s")
        else:
            src = LINE_FACTS.format(where="o.placed_at >= %(placed_since)s "
                                          "AND o.paid_at >= %(since)s AND o.paid_at < %(until)s")
        sql = rollup.sql.format(src=f"({src})", where=f"f.{rollup.fact_day} = %(start)s")
    else:
        sql = rollup.sql
    with reporting_connection().cursor() as cursor:  # a read: the replica when reporting
        cursor.execute(sql, params)
        return cursor.fetchall()
