"""The dashboards' reads: every figure within a Scope, from the rollups (days before
today) and from today's cells computed live (analytics.services.rollups.cells_live).

All SQL runs on the reporting connection (the replica when configured, see
analytics.routers). A ``Reader`` lives for one request: it computes today's live cells
once per rollup and hands each query a source that joins them to the stored ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q

from catalog.models import Category, Collection, Product, Variant
from members.models import MemberProfile, Tier, User
from o2o.dashboard import Scope
from stores.models import StaffAssignment, Store, StoreKind

from .models import (
    FunnelDay,
    MemberDay,
    OrderFact,
    OrderLineFact,
    RefundDay,
    SalesCollectionDay,
    SalesDay,
    SalesLineDay,
    StockDay,
    TryonDay,
)
from .routers import reporting_connection
from .services.rollups import (
    FUNNEL_DAY,
    LINE_FACT_COLUMNS,
    LINE_FACTS,
    MEMBER_DAY,
    ORDER_FACT_COLUMNS,
    ORDER_FACTS,
    REFUND_DAY,
    SALES_COLLECTION_DAY,
    SALES_DAY,
    SALES_LINE_DAY,
    STOCK_DAY,
    TRYON_DAY,
    Rollup,
    cells_live,
    day_start,
    shop_today,
)

ZERO = Decimal("0")
ONLINE = ("delivery", "pickup")
MODELS = {SALES_DAY: SalesDay, SALES_LINE_DAY: SalesLineDay,
          SALES_COLLECTION_DAY: SalesCollectionDay, REFUND_DAY: RefundDay,
          FUNNEL_DAY: FunnelDay, TRYON_DAY: TryonDay, MEMBER_DAY: MemberDay,
          STOCK_DAY: StockDay}
SLOW_AGE_DAYS = 180  # a slow mover has been at the store this long...
SLOW_QUIET_DAYS = 90  # ...and has not sold there for this long


def _types(model, columns: Sequence[str]) -> list[str]:
    """The SQL types of a rollup's or a fact's columns (for the live rows' arrays)."""
    connection = reporting_connection()
    return [model._meta.get_field(c).db_type(connection) for c in columns]


def _fetch(sql: str, params: Sequence | dict) -> list[tuple]:
    with reporting_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass
class Source:
    """A FROM clause and its parameters."""

    sql: str
    params: list = field(default_factory=list)


class Reader:
    """One request's reads: today's live cells and facts are computed once."""

    def __init__(self, *, today: date | None = None):
        self.today = today or shop_today()
        self._live: dict[str, list[tuple]] = {}
        self._live_facts: list[tuple] | None = None
        self._live_lines: list[tuple] | None = None

    # -- rollup cells -------------------------------------------------------------------

    def live(self, rollup: Rollup, store_ids: frozenset[int] | None = None) -> list[tuple]:
        key = (rollup.name, store_ids)
        if key not in self._live:
            if rollup is STOCK_DAY:
                self._live[key] = stock_now(day=self.today, store_ids=store_ids)
            else:
                self._live[key] = cells_live(rollup, day=self.today)
        return self._live[key]

    def cells(self, rollup: Rollup, start: date, end: date,
              store_ids: frozenset[int] | None = None) -> Source:
        """Cells of ``rollup`` from ``start`` to ``end``: stored up to yesterday, live today
        (the stock of ``store_ids`` only, when given: the others would be filtered out)."""
        columns = ", ".join(rollup.columns)
        parts, params = [], []
        stored_end = min(end, self.today - timedelta(days=1))
        if start <= stored_end:
            parts.append(f"SELECT {columns} FROM {rollup.table} WHERE day BETWEEN %s AND %s")
            params += [start, stored_end]
        if start <= self.today <= end:
            rows = self.live(rollup, store_ids if rollup is STOCK_DAY else None)
            types = _types(MODELS[rollup], rollup.columns)
            arrays = [list(column) for column in zip(*rows, strict=True)] if rows else [
                [] for _ in rollup.columns]
            parts.append("SELECT * FROM unnest(" + ", ".join(f"%s::{t}[]" for t in types)
                         + f") AS live({columns})")
            params += arrays
        if not parts:
            parts.append(f"SELECT {columns} FROM {rollup.table} WHERE FALSE")
        return Source("(" + " UNION ALL ".join(parts) + ")", params)

    # -- facts -----------------------------------------------------------------------------

    def live_facts(self) -> list[tuple]:
        """Facts of the orders placed or paid today, computed now."""
        if self._live_facts is None:
            start = day_start(self.today)
            window = timedelta(days=settings.PAY_AT_COUNTER_DAYS + 1)
            self._live_facts = _fetch(
                ORDER_FACTS.format(where="o.placed_at >= %(placed_since)s AND "
                                         "(o.placed_at >= %(since)s OR o.paid_at >= %(since)s)"),
                {"tz": settings.TIME_ZONE, "since": start, "placed_since": start - window})
        return self._live_facts

    def order_facts(self, column: str, start: date, end: date) -> Source:
        """Order facts whose ``column`` (paid_on, placed_on) lies in the period."""
        columns = ", ".join(ORDER_FACT_COLUMNS)
        sql = f"SELECT {columns} FROM analytics_orderfact WHERE {column} BETWEEN %s AND %s"
        params: list = [start, end]
        if start <= self.today <= end or end >= self.today - timedelta(
                days=settings.PAY_AT_COUNTER_DAYS + 1):
            rows = self.live_facts()
            ids = [row[0] for row in rows]
            sql += " AND NOT (order_id = ANY(%s))"
            params.append(ids)
            if rows:
                types = _types(OrderFact, ORDER_FACT_COLUMNS)
                sql += (" UNION ALL SELECT * FROM unnest("
                        + ", ".join(f"%s::{t}[]" for t in types) + f") AS live({columns})"
                        f" WHERE {column} BETWEEN %s AND %s")
                params += [list(c) for c in zip(*rows, strict=True)] + [start, end]
        return Source(f"({sql})", params)

    def live_lines(self) -> list[tuple]:
        if self._live_lines is None:
            start = day_start(self.today)
            window = timedelta(days=settings.PAY_AT_COUNTER_DAYS + 1)
            self._live_lines = _fetch(
                LINE_FACTS.format(where="o.placed_at >= %(placed_since)s AND o.paid_at >= %(since)s"),
                {"tz": settings.TIME_ZONE, "since": start, "placed_since": start - window})
        return self._live_lines

    def line_facts(self, start: date, end: date) -> Source:
        """Line facts of the period (without their collections)."""
        names = [c for c in LINE_FACT_COLUMNS if c != "collection_ids"]
        columns = ", ".join(names)
        sql = f"SELECT {columns} FROM analytics_orderlinefact WHERE day BETWEEN %s AND %s"
        params: list = [start, min(end, self.today - timedelta(days=1))]
        if start <= self.today <= end:
            keep = [LINE_FACT_COLUMNS.index(c) for c in names]
            rows = [[row[i] for i in keep] for row in self.live_lines()]
            if rows:
                types = _types(OrderLineFact, names)
                sql += (" UNION ALL SELECT * FROM unnest("
                        + ", ".join(f"%s::{t}[]" for t in types) + f") AS live({columns})")
                params += [list(c) for c in zip(*rows, strict=True)]
        return Source(f"({sql})", params)


# --- Scope conditions ----------------------------------------------------------------------


STOCK_NOW_SECONDS = 300


def stock_now(*, day: date, store_ids: frozenset[int] | None) -> list[tuple]:
    """Today's stock cells, computed from the stock levels at most STOCK_NOW_SECONDS ago
    (the whole chain's take a fifth of a second; stock moves slowly enough for a report)."""
    key = "analytics:stock-now:{}:{}".format(
        day.isoformat(), ",".join(map(str, sorted(store_ids))) if store_ids is not None else "all")
    rows = cache.get(key)
    if rows is None:
        rows = cells_live(STOCK_DAY, day=day, store_ids=store_ids)
        cache.set(key, rows, STOCK_NOW_SECONDS)
    return rows


def _stores(scope: Scope, column: str = "c.store_id") -> tuple[str, list]:
    if scope.store_ids is None:
        return "TRUE", []
    return f"{column} = ANY(%s)", [sorted(scope.store_ids)]


def _channel(scope: Scope, column: str = "c.channel") -> tuple[str, list]:
    if not scope.channel:
        return "TRUE", []
    if scope.channel == "online":
        return f"{column} = ANY(%s)", [list(ONLINE)]
    return f"{column} = %s", [scope.channel]


def _where(scope: Scope, *, store: str | None = "c.store_id",
           channel: str | None = "c.channel") -> tuple[str, list]:
    parts, params = [], []
    for condition, values in ((_stores(scope, store) if store else ("TRUE", [])),
                              (_channel(scope, channel) if channel else ("TRUE", []))):
        parts.append(condition)
        params += values
    return " AND ".join(parts), params


def periods(scope: Scope) -> list[tuple[str, date, date]]:
    out = [("now", scope.start, scope.end)]
    if scope.compare_start and scope.compare_end:
        out.append(("then", scope.compare_start, scope.compare_end))
    return out


def _span(scope: Scope) -> tuple[date, date]:
    starts = [p[1] for p in periods(scope)]
    ends = [p[2] for p in periods(scope)]
    return min(starts), max(ends)


def _period_case(scope: Scope, column: str = "c.day") -> tuple[str, list]:
    """A CASE naming the period (now/then) a day falls in, and the WHERE for both."""
    case, where, params_case, params_where = [], [], [], []
    for name, start, end in periods(scope):
        case.append(f"WHEN {column} BETWEEN %s AND %s THEN '{name}'")
        params_case += [start, end]
        where.append(f"{column} BETWEEN %s AND %s")
        params_where += [start, end]
    return ("CASE " + " ".join(case) + " END", params_case,
            "(" + " OR ".join(where) + ")", params_where)


# --- Sales ---------------------------------------------------------------------------------


SALES_MEASURES = ("orders", "units", "revenue", "subtotal", "coupon_discount", "points_discount")


def sales_totals(reader: Reader, scope: Scope) -> dict[str, dict]:
    """{"now": {...}, "then": {...}}: orders, units, revenue, discounts, refunds, gold
    weight and cost of goods sold, for the period and the one compared with."""
    start, end = _span(scope)
    out = {name: dict.fromkeys((*SALES_MEASURES, "refunds", "gold_g", "cost", "line_revenue", "cost_unknown_units"), ZERO)
           for name, _s, _e in periods(scope)}
    case, pc, where, pw = _period_case(scope)
    condition, params = _where(scope)
    src = reader.cells(SALES_DAY, start, end)
    rows = _fetch(f"""SELECT {case} AS period, SUM(orders), SUM(units), SUM(revenue),
                             SUM(subtotal), SUM(coupon_discount), SUM(points_discount)
                        FROM {src.sql} c WHERE {where} AND {condition} GROUP BY 1""",
                  pc + src.params + pw + params)
    for period, *values in rows:
        out[period].update(zip(SALES_MEASURES, (v or ZERO for v in values), strict=True))
    src = reader.cells(REFUND_DAY, start, end)
    for period, amount in _fetch(f"""SELECT {case}, SUM(amount) FROM {src.sql} c
                                     WHERE {where} AND {condition} GROUP BY 1""",
                                 pc + src.params + pw + params):
        out[period]["refunds"] = amount or ZERO
    src = reader.cells(SALES_LINE_DAY, start, end)
    for period, gold, cost, revenue, unknown in _fetch(
            f"""SELECT {case}, SUM(gold_g), SUM(cost), SUM(revenue), SUM(cost_unknown_units)
                  FROM {src.sql} c WHERE {where} AND {condition} GROUP BY 1""",
            pc + src.params + pw + params):
        out[period].update(gold_g=gold or ZERO, cost=cost or ZERO, line_revenue=revenue or ZERO,
                           cost_unknown_units=unknown or 0)
    for figures in out.values():
        figures["aov"] = (figures["revenue"] / figures["orders"]).quantize(Decimal("0.01")) \
            if figures["orders"] else None
        figures["net"] = figures["revenue"] - figures["refunds"]
        figures["discounts"] = figures["coupon_discount"] + figures["points_discount"]
    return out


def granularity(start: date, end: date) -> str:
    days = (end - start).days + 1
    return "day" if days <= 62 else "week" if days <= 366 else "month"


def bucket_of(day: date, grain: str) -> date:
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def buckets(start: date, end: date, grain: str) -> list[date]:
    out, day = [], bucket_of(start, grain)
    while day <= end:
        out.append(day)
        if grain == "day":
            day += timedelta(days=1)
        elif grain == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def sales_trend(reader: Reader, scope: Scope) -> dict:
    """Revenue and orders per bucket (day, week or month) and channel, and the compared
    period's revenue per bucket, aligned on the current period's buckets."""
    grain = granularity(scope.start, scope.end)
    start, end = _span(scope)
    condition, params = _where(scope)
    src = reader.cells(SALES_DAY, start, end)
    trunc = "c.day" if grain == "day" else f"date_trunc('{grain}', c.day)::date"
    rows = _fetch(f"""SELECT {trunc}, c.channel, SUM(revenue), SUM(orders)
                        FROM {src.sql} c WHERE c.day BETWEEN %s AND %s AND {condition}
                       GROUP BY 1, 2""", src.params + [scope.start, scope.end] + params)
    series: dict[str, dict[date, Decimal]] = defaultdict(dict)
    orders: dict[date, int] = defaultdict(int)
    for bucket, channel, revenue, count in rows:
        series[channel][bucket] = revenue
        orders[bucket] += count
    compared: dict[date, Decimal] = {}
    if scope.compare_start:
        shift = scope.start - scope.compare_start
        rows = _fetch(f"""SELECT c.day, SUM(revenue) FROM {src.sql} c
                           WHERE c.day BETWEEN %s AND %s AND {condition} GROUP BY 1""",
                      src.params + [scope.compare_start, scope.compare_end] + params)
        for day, revenue in rows:
            bucket = bucket_of(day + shift, grain)
            compared[bucket] = compared.get(bucket, ZERO) + revenue
    return {"grain": grain, "buckets": buckets(scope.start, scope.end, grain),
            "by_channel": series, "orders": orders, "compared": compared}


def sales_by_store(reader: Reader, scope: Scope) -> list[dict]:
    """Per store (None: delivered from the online shelf): revenue, orders, units, AOV, and
    the compared period's revenue."""
    start, end = _span(scope)
    case, pc, where, pw = _period_case(scope)
    condition, params = _where(scope)
    src = reader.cells(SALES_DAY, start, end)
    rows = _fetch(f"""SELECT c.store_id, {case}, SUM(revenue), SUM(orders), SUM(units)
                        FROM {src.sql} c WHERE {where} AND {condition} GROUP BY 1, 2""",
                  pc + src.params + pw + params)
    by_store: dict = defaultdict(lambda: {"revenue": ZERO, "orders": 0, "units": 0,
                                          "then": None})
    for store_id, period, revenue, orders, units in rows:
        if period == "now":
            by_store[store_id].update(revenue=revenue, orders=orders, units=units)
        else:
            by_store[store_id]["then"] = revenue
    stores = Store.objects.in_bulk([s for s in by_store if s is not None])
    out = []
    for store_id, figures in by_store.items():
        figures["store"] = stores.get(store_id)
        figures["store_id"] = store_id
        figures["aov"] = (figures["revenue"] / figures["orders"]).quantize(Decimal("0.01")) \
            if figures["orders"] else None
        out.append(figures)
    return sorted(out, key=lambda f: f["revenue"], reverse=True)


@dataclass(frozen=True)
class CategoryTree:
    categories: dict[int, Category]

    @classmethod
    def load(cls) -> CategoryTree:
        return cls({c.pk: c for c in Category.objects.all()})

    def top(self, category_id: int) -> int:
        seen = set()
        while True:
            category = self.categories.get(category_id)
            if category is None or category.parent_id is None or category_id in seen:
                return category_id
            seen.add(category_id)
            category_id = category.parent_id

    def child_under(self, category_id: int, parent_id: int | None) -> int | None:
        """The child of ``parent_id`` (None: a top category) that ``category_id`` is in."""
        path = []
        current, seen = category_id, set()
        while current is not None and current not in seen:
            seen.add(current)
            path.append(current)
            category = self.categories.get(current)
            current = category.parent_id if category else None
        path.reverse()  # top first
        if parent_id is None:
            return path[0] if path else None
        if parent_id in path and path.index(parent_id) + 1 < len(path):
            return path[path.index(parent_id) + 1]
        return parent_id if parent_id in path else None

    def descendants(self, category_id: int) -> set[int]:
        out, frontier = {category_id}, [category_id]
        while frontier:
            parent = frontier.pop()
            for c in self.categories.values():
                if c.parent_id == parent and c.pk not in out:
                    out.add(c.pk)
                    frontier.append(c.pk)
        return out


def sales_by_category(reader: Reader, scope: Scope, *, parent: int | None = None,
                      tree: CategoryTree | None = None) -> list[dict]:
    """Pieces sold per category: the top categories, or the children of ``parent`` (a
    category's own pieces count under it)."""
    tree = tree or CategoryTree.load()
    start, end = _span(scope)
    case, pc, where, pw = _period_case(scope)
    condition, params = _where(scope)
    src = reader.cells(SALES_LINE_DAY, start, end)
    rows = _fetch(f"""SELECT c.category_id, {case}, SUM(units), SUM(revenue), SUM(gold_g),
                             SUM(cost)
                        FROM {src.sql} c WHERE {where} AND {condition} GROUP BY 1, 2""",
                  pc + src.params + pw + params)
    grouped: dict = defaultdict(lambda: {"units": 0, "revenue": ZERO, "gold_g": ZERO,
                                         "cost": ZERO, "then": None})
    for category_id, period, units, revenue, gold, cost in rows:
        key = tree.child_under(category_id, parent)
        if key is None:
            continue
        figures = grouped[key]
        if period == "now":
            figures["units"] += units
            figures["revenue"] += revenue
            figures["gold_g"] += gold
            figures["cost"] += cost
        else:
            figures["then"] = (figures["then"] or ZERO) + revenue
    out = []
    for category_id, figures in grouped.items():
        figures["category"] = tree.categories.get(category_id)
        figures["category_id"] = category_id
        figures["has_children"] = any(c.parent_id == category_id
                                      for c in tree.categories.values())
        out.append(figures)
    return sorted(out, key=lambda f: f["revenue"], reverse=True)


def sales_by_metal(reader: Reader, scope: Scope) -> list[dict]:
    condition, params = _where(scope)
    src = reader.cells(SALES_LINE_DAY, scope.start, scope.end)
    rows = _fetch(f"""SELECT c.metal, SUM(units), SUM(revenue), SUM(gold_g) FROM {src.sql} c
                       WHERE c.day BETWEEN %s AND %s AND {condition} GROUP BY 1 ORDER BY 3 DESC""",
                  src.params + [scope.start, scope.end] + params)
    return [{"metal": metal, "units": units, "revenue": revenue, "gold_g": gold}
            for metal, units, revenue, gold in rows]


def sales_by_collection(reader: Reader, scope: Scope) -> list[dict]:
    condition, params = _where(scope)
    src = reader.cells(SALES_COLLECTION_DAY, scope.start, scope.end)
    rows = _fetch(f"""SELECT c.collection_id, SUM(units), SUM(revenue) FROM {src.sql} c
                       WHERE c.day BETWEEN %s AND %s AND {condition} GROUP BY 1 ORDER BY 3 DESC""",
                  src.params + [scope.start, scope.end] + params)
    collections = Collection.objects.in_bulk([r[0] for r in rows])
    return [{"collection": collections.get(cid), "units": units, "revenue": revenue}
            for cid, units, revenue in rows if cid in collections]


def sales_pieces(reader: Reader, scope: Scope, *, category_ids: Iterable[int] | None,
                 limit: int = 30) -> list[dict]:
    """The pieces (products) that sold best in the scope, within some categories."""
    condition, params = _where(scope)
    src = reader.line_facts(scope.start, scope.end)
    extra, extra_params = "", []
    if category_ids is not None:
        extra, extra_params = " AND c.category_id = ANY(%s)", [sorted(category_ids)]
    rows = _fetch(f"""SELECT c.product_id, SUM(units), SUM(revenue), SUM(gold_g),
                             COUNT(DISTINCT c.order_id)
                        FROM {src.sql} c WHERE c.day BETWEEN %s AND %s AND {condition}{extra}
                       GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT %s""",
                  src.params + [scope.start, scope.end] + params + extra_params + [limit])
    products = Product.objects.in_bulk([r[0] for r in rows])
    return [{"product": products.get(pid), "product_id": pid, "units": units,
             "revenue": revenue, "gold_g": gold, "orders": orders}
            for pid, units, revenue, gold, orders in rows]


# --- Members -------------------------------------------------------------------------------


def _member_channel(scope: Scope) -> tuple[str, list]:
    """New members by where they joined: online for the online channels, in store for the
    counter."""
    if not scope.channel:
        return "TRUE", []
    return "c.channel = %s", ["store" if scope.channel == "counter" else "online"]


def members_totals(reader: Reader, scope: Scope) -> dict[str, dict]:
    """New members, buying members (distinct, from the facts), those who bought twice or
    more, and those who bought both online and at a counter, per period."""
    out = {}
    store_condition, store_params = _stores(scope)
    channel_condition, channel_params = _member_channel(scope)
    start, end = _span(scope)
    src = reader.cells(MEMBER_DAY, start, end)
    case, pc, where, pw = _period_case(scope)
    new = dict(_fetch(f"""SELECT {case}, SUM(new_members) FROM {src.sql} c
                           WHERE {where} AND {store_condition} AND {channel_condition}
                           GROUP BY 1""",
                      pc + src.params + pw + store_params + channel_params))
    condition, params = _where(scope)
    for name, p_start, p_end in periods(scope):
        facts = reader.order_facts("paid_on", p_start, p_end)
        row = _fetch(f"""WITH m AS (
                SELECT c.member_id, COUNT(*) AS n,
                       bool_or(c.channel IN ('delivery', 'pickup')) AS online,
                       bool_or(c.channel = 'counter') AS counter
                  FROM {facts.sql} c
                 WHERE c.member_id IS NOT NULL AND c.paid_on BETWEEN %s AND %s AND {condition}
                 GROUP BY 1)
            SELECT COUNT(*), COUNT(*) FILTER (WHERE n >= 2),
                   COUNT(*) FILTER (WHERE online AND counter) FROM m""",
                     facts.params + [p_start, p_end] + params)[0]
        active, repeat, both = row
        out[name] = {"new": new.get(name) or 0, "active": active, "repeat": repeat,
                     "both": both, "repeat_rate": repeat / active if active else None,
                     "both_share": both / active if active else None}
    return out


def members_new_trend(reader: Reader, scope: Scope) -> dict:
    grain = granularity(scope.start, scope.end)
    store_condition, store_params = _stores(scope)
    channel_condition, channel_params = _member_channel(scope)
    src = reader.cells(MEMBER_DAY, scope.start, scope.end)
    trunc = "c.day" if grain == "day" else f"date_trunc('{grain}', c.day)::date"
    rows = _fetch(f"""SELECT {trunc}, c.channel, SUM(new_members) FROM {src.sql} c
                       WHERE c.day BETWEEN %s AND %s AND {store_condition} AND {channel_condition}
                       GROUP BY 1, 2""",
                  src.params + [scope.start, scope.end] + store_params + channel_params)
    series: dict[str, dict[date, int]] = defaultdict(dict)
    for bucket, channel, count in rows:
        series[channel][bucket] = count
    by_store = _fetch(f"""SELECT c.store_id, c.channel, SUM(new_members) FROM {src.sql} c
                           WHERE c.day BETWEEN %s AND %s AND {store_condition}
                             AND {channel_condition}
                           GROUP BY 1, 2 ORDER BY 3 DESC""",
                      src.params + [scope.start, scope.end] + store_params + channel_params)
    return {"grain": grain, "buckets": buckets(scope.start, scope.end, grain),
            "by_channel": series, "by_store": by_store}


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, 1)


def members_cohorts(reader: Reader, scope: Scope, *, cohorts: int = 12) -> dict:
    """Monthly cohorts: members by the month of their first purchase (within the scope's
    stores and channel, over all history), and how many of them bought again in each
    following month, up to the end of the period. Cell (c, k): members of cohort c who
    bought in month c + k (k = 0 is the cohort itself)."""
    last = month_start(scope.end)
    first = add_months(last, -(cohorts - 1))
    stored = _cohorts_stored(scope, first, last)
    rows = stored if stored is not None else _cohorts_live(reader, scope, first)
    counts: dict[date, dict[int, int]] = defaultdict(dict)
    for cohort, month, n in rows:
        offset = (month.year - cohort.year) * 12 + month.month - cohort.month
        counts[cohort][offset] = n
    table = []
    for index in range(cohorts):
        cohort = add_months(first, index)
        size = counts.get(cohort, {}).get(0, 0)
        span = (last.year - cohort.year) * 12 + last.month - cohort.month
        table.append({"cohort": cohort, "size": size,
                      "cells": [(counts.get(cohort, {}).get(k, 0),
                                 counts.get(cohort, {}).get(k, 0) / size if size else None)
                                for k in range(span + 1)]})
    return {"cohorts": table, "months": cohorts, "nightly": stored is not None}


def _cohorts_stored(scope: Scope, first: date, last: date) -> list[tuple] | None:
    """The nightly cells (analytics.services.members.cohorts_rebuild) when the scope is
    the chain or one store; None otherwise, or before the first night."""
    if scope.store_ids is not None and len(scope.store_ids) != 1:
        return None
    if not _fetch("SELECT EXISTS (SELECT 1 FROM analytics_cohortcell)", [])[0][0]:
        return None
    store = None if scope.store_ids is None else next(iter(scope.store_ids))
    return _fetch("""SELECT cohort, month, members FROM analytics_cohortcell
                      WHERE store_id IS NOT DISTINCT FROM %s AND channel = %s
                        AND cohort >= %s AND month <= %s""",
                  [store, scope.channel, first, last])


def _cohorts_live(reader: Reader, scope: Scope, first: date) -> list[tuple]:
    condition, params = _where(scope)
    facts = reader.order_facts("paid_on", date(2000, 1, 1), scope.end)
    return _fetch(f"""
        WITH months AS (
            SELECT c.member_id, date_trunc('month', c.paid_on)::date AS month
              FROM {facts.sql} c
             WHERE c.member_id IS NOT NULL AND c.paid_on IS NOT NULL AND c.paid_on <= %s
               AND {condition}
             GROUP BY 1, 2),
        firsts AS (SELECT member_id, MIN(month) AS cohort FROM months GROUP BY 1)
        SELECT f.cohort, m.month, COUNT(*)
          FROM months m JOIN firsts f ON f.member_id = m.member_id
         WHERE f.cohort >= %s
         GROUP BY 1, 2""", facts.params + [scope.end] + params + [first])


def members_tiers(scope: Scope) -> dict:
    """Tier moves of the period (from the month-end snapshots) and the members of each
    tier now, by their store (home store, else where they joined)."""
    condition, params = _stores(scope)
    moves = _fetch(f"""SELECT c.from_tier_id, c.to_tier_id, SUM(c.members)
                         FROM analytics_tiermove c
                        WHERE c.month BETWEEN %s AND %s AND {condition}
                        GROUP BY 1, 2 ORDER BY 3 DESC""",
                   [month_start(scope.start), month_start(scope.end)] + params)
    profiles = MemberProfile.objects.all()
    if scope.store_ids is not None:
        ids = sorted(scope.store_ids)
        profiles = profiles.filter(Q(home_store_id__in=ids)
                                   | Q(home_store__isnull=True, registered_store_id__in=ids))
    now = dict(profiles.values_list("tier_id").annotate(n=Count("pk")).values_list("tier_id", "n"))
    tiers = list(Tier.objects.order_by("min_spend"))
    return {"moves": moves, "now": now, "tiers": tiers,
            "rank": {t.pk: i for i, t in enumerate(tiers)}}


# --- Funnels -------------------------------------------------------------------------------


def funnel_visits(reader: Reader, scope: Scope) -> dict[str, dict]:
    """Visits (a visitor a day) of the web shop by device: views, bag, checkout."""
    src = reader.cells(FUNNEL_DAY, scope.start, scope.end)
    rows = _fetch(f"""SELECT c.device, SUM(views), SUM(viewers), SUM(adds), SUM(adders),
                             SUM(checkouts)
                        FROM {src.sql} c WHERE c.day BETWEEN %s AND %s GROUP BY 1""",
                  src.params + [scope.start, scope.end])
    return {device: {"views": v, "viewers": vr, "adds": a, "adders": ar, "checkouts": ch}
            for device, v, vr, a, ar, ch in rows}


def funnel_orders(reader: Reader, scope: Scope) -> dict[tuple[str, str], dict]:
    """Online orders placed in the period by (device, channel): placed, paid, handed over
    (so far)."""
    condition, params = _where(scope)
    facts = reader.order_facts("placed_on", scope.start, scope.end)
    rows = _fetch(f"""SELECT c.device, c.channel, COUNT(*),
                             COUNT(*) FILTER (WHERE c.paid_on IS NOT NULL),
                             COUNT(*) FILTER (WHERE c.handed_over_on IS NOT NULL)
                        FROM {facts.sql} c
                       WHERE c.placed_on BETWEEN %s AND %s AND c.channel IN ('delivery', 'pickup')
                         AND {condition}
                       GROUP BY 1, 2""", facts.params + [scope.start, scope.end] + params)
    return {(device, channel): {"placed": placed, "paid": paid, "handed_over": handed}
            for device, channel, placed, paid, handed in rows}


def tryons(reader: Reader, scope: Scope, *, by: str = "store") -> list[dict]:
    """Try-ons of the period by store or by staff member: booked, checked in, no-shows,
    cancelled, bought."""
    condition, params = _stores(scope)
    src = reader.cells(TRYON_DAY, scope.start, scope.end)
    key = "c.store_id" if by == "store" else "c.staff_id"
    rows = _fetch(f"""SELECT {key}, SUM(booked), SUM(checked_in), SUM(no_show), SUM(cancelled),
                             SUM(bought)
                        FROM {src.sql} c WHERE c.day BETWEEN %s AND %s AND {condition}
                       GROUP BY 1 ORDER BY 2 DESC""",
                  src.params + [scope.start, scope.end] + params)
    return [{"key": k, "booked": b, "checked_in": ci, "no_show": ns, "cancelled": ca,
             "bought": bo} for k, b, ci, ns, ca, bo in rows]


# --- Staff ----------------------------------------------------------------------------------


def staff_figures(reader: Reader, scope: Scope) -> list[dict]:
    """Per staff member of the scope's stores: counter sales (orders they rang up) and
    try-ons they served, with conversion."""
    condition, params = _where(scope)
    facts = reader.order_facts("paid_on", scope.start, scope.end)
    sales = _fetch(f"""SELECT c.staff_id, COUNT(*), SUM(c.total), SUM(c.units)
                         FROM {facts.sql} c
                        WHERE c.staff_id IS NOT NULL AND c.paid_on BETWEEN %s AND %s
                          AND {condition}
                        GROUP BY 1""", facts.params + [scope.start, scope.end] + params)
    by_staff: dict = defaultdict(lambda: {"orders": 0, "revenue": ZERO, "units": 0,
                                          "served": 0, "bought": 0})
    for staff_id, orders, revenue, units in sales:
        by_staff[staff_id].update(orders=orders, revenue=revenue, units=units or 0)
    if scope.channel in ("", "counter"):
        for row in tryons(reader, scope, by="staff"):
            if row["key"] is not None:
                by_staff[row["key"]].update(served=row["checked_in"], bought=row["bought"])
    users = User.objects.in_bulk(list(by_staff))
    works_at: dict[int, list[str]] = defaultdict(list)
    for assignment in (StaffAssignment.objects.filter(user_id__in=list(by_staff))
                       .select_related("store").order_by("store__code")):
        if scope.sees_store(assignment.store_id):
            works_at[assignment.user_id].append(assignment.store.title)
    out = []
    for staff_id, figures in by_staff.items():
        figures["user"] = users.get(staff_id)
        figures["stores"] = ", ".join(works_at.get(staff_id, []))
        figures["aov"] = (figures["revenue"] / figures["orders"]).quantize(Decimal("0.01")) \
            if figures["orders"] else None
        figures["conversion"] = figures["bought"] / figures["served"] if figures["served"] \
            else None
        out.append(figures)
    return sorted(out, key=lambda f: f["revenue"], reverse=True)


# --- Stock ------------------------------------------------------------------------------------


def _top_categories(tree: CategoryTree) -> Source:
    """A table (category_id, top_id): each category and the top category it is in."""
    ids = sorted(tree.categories)
    return Source("(SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS t(category_id, top_id))",
                  [ids, [tree.top(i) for i in ids]])


def stock_figures(reader: Reader, scope: Scope, *, by: str = "store",
                  tree: CategoryTree | None = None) -> list[dict]:
    """Per store (or top category): stock at the end of the period (the last snapshot in
    it: pieces, value at cost, by age), the average stock value over the period's daily
    snapshots, and the units sold and cost of goods sold in the period; turnover (cost of
    goods sold / average stock at cost), sell-through (sold / (sold + on hand at the end))
    and weeks of cover (on hand at the end / units sold a week)."""
    tree = tree or CategoryTree.load()
    store_condition, store_params = _stores(scope)
    tops = _top_categories(tree)
    if by == "store":
        key, join, join_params = "c.store_id", "", []
    else:
        key, join, join_params = "t.top_id", f" JOIN {tops.sql} t ON t.category_id = c.category_id", tops.params
    src = reader.cells(STOCK_DAY, scope.start, scope.end, scope.store_ids)
    last_day = _fetch(f"SELECT MAX(c.day) FROM {src.sql} c WHERE c.day BETWEEN %s AND %s",
                      src.params + [scope.start, scope.end])[0][0]
    end_rows = []
    if last_day is not None:
        end_rows = _fetch(f"""SELECT {key}, SUM(units), SUM(value), SUM(units_young),
                                     SUM(value_young), SUM(units_mid), SUM(value_mid),
                                     SUM(units_old), SUM(value_old)
                                FROM {src.sql} c{join}
                               WHERE c.day = %s AND {store_condition} GROUP BY 1""",
                          src.params + join_params + [last_day] + store_params)
    average = _fetch(f"""SELECT key, AVG(value) FROM (
                             SELECT {key} AS key, c.day, SUM(value) AS value
                               FROM {src.sql} c{join}
                              WHERE c.day BETWEEN %s AND %s AND {store_condition}
                              GROUP BY 1, 2) per_day GROUP BY 1""",
                     src.params + join_params + [scope.start, scope.end] + store_params)
    condition, params = _where(scope)
    sales_src = reader.cells(SALES_LINE_DAY, scope.start, scope.end)
    sold = _fetch(f"""SELECT {key}, SUM(units), SUM(cost) FROM {sales_src.sql} c{join}
                       WHERE c.day BETWEEN %s AND %s AND {condition} GROUP BY 1""",
                  sales_src.params + join_params + [scope.start, scope.end] + params)
    merge: dict = defaultdict(lambda: {"units": 0, "value": ZERO,
                                       "ages": [0, ZERO, 0, ZERO, 0, ZERO],
                                       "avg_value": ZERO, "sold": 0, "cogs": ZERO})
    for raw, units, value, *ages in end_rows:
        merge[raw].update(units=units, value=value, ages=list(ages))
    for raw, value in average:
        merge[raw]["avg_value"] = Decimal(value).quantize(Decimal("0.01"))
    shelf = online_shelf() if by == "store" else None
    for raw, units, cost in sold:
        if raw is None:  # delivered: from the online shelf's stock
            if shelf is None or not scope.sees_store(shelf.pk):
                continue
            raw = shelf.pk
        merge[raw]["sold"] += units
        merge[raw]["cogs"] += cost
    weeks = Decimal((scope.end - scope.start).days + 1) / 7
    names = (Store.objects.in_bulk([k for k in merge if k is not None]) if by == "store"
             else tree.categories)
    out = []
    for raw, figures in merge.items():
        figures["key"] = raw
        figures["name"] = names.get(raw)
        figures["turnover"] = (figures["cogs"] / figures["avg_value"]
                               if figures["avg_value"] else None)
        total = figures["sold"] + figures["units"]
        figures["sell_through"] = figures["sold"] / total if total else None
        per_week = Decimal(figures["sold"]) / weeks
        figures["weeks_cover"] = (Decimal(figures["units"]) / per_week) if per_week else None
        out.append(figures)
    return sorted(out, key=lambda f: f["value"], reverse=True)


@dataclass
class SlowMover:
    stock_id: int
    store: Store
    variant: Variant
    on_hand: int
    free: int
    arrived_on: date
    value: Decimal | None
    best_store: Store | None = None
    best_sold: int = 0


SLOW_CACHE = "analytics:slow-movers"


def slow_movers_changed() -> None:
    """Forget the slow movers kept in the cache (a transfer took some away)."""
    try:
        cache.incr(f"{SLOW_CACHE}:version")
    except ValueError:
        cache.set(f"{SLOW_CACHE}:version", 1, None)


def slow_movers(scope: Scope, *, today: date, limit: int = 40) -> list[SlowMover]:
    """Pieces at a store (not the warehouse) for SLOW_AGE_DAYS or more with no sale there
    for SLOW_QUIET_DAYS, the costliest first; each with the store where that piece sold
    most meanwhile (a place to send it), if any. The candidates are kept
    STOCK_NOW_SECONDS (the whole chain's take a sixth of a second), and forgotten as soon
    as a slow mover's transfer is requested."""
    version = cache.get(f"{SLOW_CACHE}:version", 0)
    stores = ",".join(map(str, sorted(scope.store_ids))) if scope.store_ids is not None else "all"
    key = f"{SLOW_CACHE}:{version}:{today.isoformat()}:{limit}:{stores}"
    rows = cache.get(key)
    if rows is None:
        rows = _slow_rows(scope, today=today, limit=limit)
        cache.set(key, rows, STOCK_NOW_SECONDS)
    return _slow_movers(rows, today=today)


def _slow_rows(scope: Scope, *, today: date, limit: int) -> list[tuple]:
    condition, params = _stores(scope, "s.store_id")
    quiet_since = today - timedelta(days=SLOW_QUIET_DAYS)
    return _fetch(f"""
        SELECT s.id, s.store_id, s.variant_id, s.on_hand, s.on_hand - s.reserved, s.arrived_on,
               s.on_hand * v.cost_price AS value
          FROM stores_stocklevel s
          JOIN stores_store st ON st.id = s.store_id
          JOIN catalog_variant v ON v.id = s.variant_id
         WHERE st.kind = 'store' AND st.is_active AND s.on_hand > s.reserved
           AND s.arrived_on <= %s AND {condition}
           AND NOT EXISTS (SELECT 1 FROM analytics_orderlinefact f
                            WHERE f.store_id = s.store_id AND f.variant_id = s.variant_id
                              AND f.day >= %s)
         ORDER BY value DESC NULLS LAST, s.id LIMIT %s""",
                  [today - timedelta(days=SLOW_AGE_DAYS)] + params + [quiet_since, limit])


def _slow_movers(rows: list[tuple], *, today: date) -> list[SlowMover]:
    if not rows:
        return []
    quiet_since = today - timedelta(days=SLOW_QUIET_DAYS)
    variant_ids = sorted({r[2] for r in rows})
    best = _fetch("""
        SELECT DISTINCT ON (f.variant_id, f.store_id) f.variant_id, f.store_id, SUM(f.units)
          FROM analytics_orderlinefact f JOIN stores_store st ON st.id = f.store_id
         WHERE f.variant_id = ANY(%s) AND f.day >= %s AND st.kind = 'store' AND st.is_active
         GROUP BY 1, 2""", [variant_ids, quiet_since])
    sold_at: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for variant_id, store_id, units in best:
        sold_at[variant_id].append((units, store_id))
    stores = Store.objects.in_bulk({r[1] for r in rows} | {s for v in sold_at.values()
                                                          for _u, s in v})
    variants = Variant.objects.select_related("product").in_bulk(variant_ids)
    out = []
    for stock_id, store_id, variant_id, on_hand, free, arrived_on, value in rows:
        mover = SlowMover(stock_id=stock_id, store=stores[store_id], variant=variants[variant_id],
                          on_hand=on_hand, free=free, arrived_on=arrived_on, value=value)
        elsewhere = sorted(((u, s) for u, s in sold_at.get(variant_id, []) if s != store_id),
                           reverse=True)
        if elsewhere:
            mover.best_sold, best_store = elsewhere[0]
            mover.best_store = stores.get(best_store)
        out.append(mover)
    return out


def online_shelf() -> Store | None:
    """The warehouse that stocks the web shop (the first active one)."""
    return Store.objects.filter(kind=StoreKind.WAREHOUSE, is_active=True).order_by("pk").first()


# --- Places ---------------------------------------------------------------------------------


def places(scope: Scope, *, city: str | None = None) -> dict:
    """Members by city (or by district of ``city``), against the stores there."""
    condition, params = _stores(scope)
    if city is None:
        rows = _fetch(f"""SELECT c.city, SUM(members), SUM(buyers) FROM analytics_placecell c
                           WHERE {condition} GROUP BY 1 ORDER BY c.city = '', 2 DESC, 1""",
                      params)
    else:
        rows = _fetch(f"""SELECT c.district, SUM(members), SUM(buyers)
                            FROM analytics_placecell c
                           WHERE c.city = %s AND {condition}
                           GROUP BY 1 ORDER BY c.district = '', 2 DESC, 1""",
                      [city] + params)
    as_of = _fetch("SELECT MAX(as_of) FROM analytics_placecell", [])[0][0]
    shops = Store.objects.filter(kind=StoreKind.STORE, is_active=True)
    stores_by_city: dict[str, list[Store]] = defaultdict(list)
    for store in shops:
        stores_by_city[normalise_city(store.city)].append(store)
    return {"rows": rows, "as_of": as_of, "stores_by_city": stores_by_city}


def normalise_city(name: str) -> str:
    name = (name or "").strip()
    return name[:-1] if len(name) > 2 and name.endswith("市") else name
