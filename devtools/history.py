"""Past business written in bulk with PostgreSQL's COPY: the demo's older sales and the
chain-sized history of the bench (manage.py generate_chain_history).

A sale is written in the shape ``orders.services.order_create_historical`` gives it (a
test compares the two field by field): every line priced by catalog.pricing's one
function at the rates in force when it was placed, subtotal = total, no discount, paid
at placing for every status past payment, completed after the fulfilment's hand-over
delay, one Payment of the total (refunded for a refunded order), one "imported" audit
row. Nothing here runs a transition or moves stock: this is history, as imported.
"""

from __future__ import annotations

import bisect
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice

from django.conf import settings
from django.db import connection

from catalog.models import MetalRate, Variant
from catalog.pricing import variant_price
from orders.models import OrderStatus
from orders.services import COMPLETED_STATUSES, PAID_STATUSES

# How long after the order an imported sale reached its customer (as the importer says).
HANDOVER_AFTER = {"counter": timedelta(0), "pickup": timedelta(days=2),
                  "delivery": timedelta(days=4)}


class Rates:
    """Every metal rate, to find the ones in force at any moment without a query."""

    def __init__(self):
        self.by_key: dict[tuple[str, str], tuple[list[datetime], list[Decimal]]] = {}
        rows = MetalRate.objects.order_by("metal", "purity", "valid_from").values_list(
            "metal", "purity", "valid_from", "rate_per_gram")
        grouped: dict = defaultdict(lambda: ([], []))
        for metal, purity, valid_from, rate in rows:
            grouped[(metal, purity)][0].append(valid_from)
            grouped[(metal, purity)][1].append(rate)
        self.by_key = dict(grouped)
        self._cache: dict[datetime, dict] = {}

    def at(self, moment: datetime) -> dict[tuple[str, str], Decimal]:
        key = moment.replace(minute=0, second=0, microsecond=0)
        if key not in self._cache:
            out = {}
            for pair, (moments, values) in self.by_key.items():
                index = bisect.bisect_right(moments, moment) - 1
                if index >= 0:
                    out[pair] = values[index]
            self._cache[key] = out
        return self._cache[key]


@dataclass
class Sale:
    number: str
    channel: str
    fulfilment: str
    status: str
    placed_at: datetime
    lines: list[tuple[Variant, int]]
    provider: str
    member_id: int | None = None
    store_id: int | None = None
    staff_id: int | None = None
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    address: dict = field(default_factory=dict)
    device: str = ""  # the device an online order was placed from (analytics)


def _text(value) -> str:
    """One field of COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return (str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY ``rows`` into ``table`` on Django's connection (inside its transaction, if
    any); returns how many."""
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(_text(v) for v in row))
        buffer.write("\n")
        count += 1
    if not count:
        return 0
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())
    return count


def ids_next(table: str, count: int) -> list[int]:
    """``count`` fresh ids from ``table``'s sequence."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                       "FROM generate_series(1, %s)", [count])
        return [row[0] for row in cursor.fetchall()]


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


ORDER_COLUMNS = ("id", "number", "channel", "fulfilment", "status", "member_id", "store_id",
                 "staff_id", "contact_name", "contact_phone", "contact_email", "address",
                 "currency", "subtotal", "discount", "total", "coupon_code", "coupon_discount",
                 "points_redeemed", "points_discount", "language", "pay_at_counter",
                 "pickup_code", "expires_at", "placed_at", "paid_at", "completed_at",
                 "updated_at")
LINE_COLUMNS = ("order_id", "variant_id", "product_name", "sku", "quantity", "unit_price",
                "line_total")
PAYMENT_COLUMNS = ("order_id", "provider", "reference", "amount", "currency", "status",
                   "refunded_amount", "created_at")
EVENT_COLUMNS = ("order_id", "kind", "actor_id", "at", "data")


def sales_write(sales: Iterable[Sale], *, source: str, now: datetime, rates: Rates,
                batch: int = 20000) -> tuple[int, int]:
    """Write ``sales`` (orders, lines, payments, audit rows, and the devices of online
    orders); returns (orders, lines)."""
    orders = lines = 0
    currency = settings.CURRENCY
    for chunk in batched(sales, batch):
        ids = ids_next("orders_order", len(chunk))
        order_rows, line_rows, payment_rows, event_rows, devices = [], [], [], [], []
        for order_id, sale in zip(ids, chunk, strict=True):
            prices = rates.at(sale.placed_at)
            subtotal = Decimal("0.00")
            for variant, quantity in sale.lines:
                unit = variant_price(variant=variant, at=sale.placed_at, rates=prices).amount
                subtotal += unit * quantity
                line_rows.append((order_id, variant.pk, variant.product.name, variant.sku,
                                  quantity, unit, unit * quantity))
            paid_at = sale.placed_at if sale.status in PAID_STATUSES else None
            completed_at = None
            if sale.status in COMPLETED_STATUSES:
                completed_at = min(sale.placed_at + HANDOVER_AFTER[sale.fulfilment], now)
            order_rows.append((
                order_id, sale.number, sale.channel, sale.fulfilment, sale.status,
                sale.member_id, sale.store_id, sale.staff_id, sale.contact_name,
                sale.contact_phone, sale.contact_email, sale.address or {}, currency, subtotal,
                Decimal("0.00"), subtotal, "", Decimal("0.00"), 0, Decimal("0.00"),
                settings.LANGUAGE_CODE, False, "", None, sale.placed_at, paid_at, completed_at,
                now))
            if paid_at is not None:
                payment_rows.append((order_id, sale.provider, f"HIST-{sale.number}", subtotal,
                                     currency,
                                     "refunded" if sale.status == OrderStatus.REFUNDED
                                     else "succeeded", Decimal("0.00"), now))
            event_rows.append((order_id, "imported", None, now,
                               {"status": sale.status, "source": source,
                                "placed_at": sale.placed_at.isoformat()}))
            if sale.device:
                devices.append((order_id, sale.device))
        copy_rows("orders_order", ORDER_COLUMNS, order_rows)
        copy_rows("orders_orderline", LINE_COLUMNS, line_rows)
        copy_rows("orders_payment", PAYMENT_COLUMNS, payment_rows)
        copy_rows("orders_orderevent", EVENT_COLUMNS, event_rows)
        copy_rows("analytics_orderdevice", ("order_id", "device"), devices)
        orders += len(order_rows)
        lines += len(line_rows)
    return orders, lines


EVENT_FIELDS = ("kind", "user_id", "session_key", "product_id", "store_id", "channel", "at",
                "data")


def events_write(rows: Iterable[tuple], *, batch: int = 200_000) -> int:
    """analytics.Event rows (kind, user_id, session_key, product_id, store_id, channel,
    at, data)."""
    return sum(copy_rows("analytics_event", EVENT_FIELDS, chunk) for chunk in batched(rows, batch))


# Stock as the nightly snapshot would have seen it on each past day, derived from the
# stock of today and the sales since: the pieces sold after a day were on the shelf that
# day (counted young), the pieces here now were there since they arrived. Receipts and
# transfers before today are not replayed: the history is a sketch, for the demo and the
# bench, of what the nightly job (analytics.services.rollups.stock_snapshot) builds day
# by day in a running shop.
STOCK_HISTORY_SQL = """
WITH cur AS (
    SELECT s.store_id, p.category_id, date_trunc('month', s.arrived_on)::date AS arrived,
           SUM(s.on_hand)::bigint AS units, SUM(s.on_hand * COALESCE(v.cost_price, 0)) AS value
      FROM stores_stocklevel s
      JOIN catalog_variant v ON v.id = s.variant_id
      JOIN catalog_product p ON p.id = v.product_id
     WHERE s.on_hand > 0
     GROUP BY 1, 2, 3),
days AS (SELECT generate_series(%(start)s::date, %(end)s::date, '1 day')::date AS day),
sold AS (
    SELECT f.day, f.store_id, f.category_id, SUM(f.units)::bigint AS units, SUM(f.cost) AS cost
      FROM analytics_orderlinefact f
     WHERE f.store_id IS NOT NULL AND f.day > %(start)s
     GROUP BY 1, 2, 3),
keys AS (SELECT DISTINCT store_id, category_id FROM cur),
after AS (
    SELECT d.day, k.store_id, k.category_id,
           COALESCE(SUM(s.units) OVER w, 0) AS units, COALESCE(SUM(s.cost) OVER w, 0) AS cost
      FROM days d CROSS JOIN keys k
      LEFT JOIN sold s ON s.day = d.day AND s.store_id = k.store_id
                      AND s.category_id = k.category_id
    WINDOW w AS (PARTITION BY k.store_id, k.category_id ORDER BY d.day DESC
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
here AS (
    SELECT d.day, c.store_id, c.category_id,
           SUM(c.units) FILTER (WHERE c.arrived > d.day - interval '6 months') AS young_units,
           SUM(c.value) FILTER (WHERE c.arrived > d.day - interval '6 months') AS young_value,
           SUM(c.units) FILTER (WHERE c.arrived <= d.day - interval '6 months'
                                  AND c.arrived > d.day - interval '12 months') AS mid_units,
           SUM(c.value) FILTER (WHERE c.arrived <= d.day - interval '6 months'
                                  AND c.arrived > d.day - interval '12 months') AS mid_value,
           SUM(c.units) FILTER (WHERE c.arrived <= d.day - interval '12 months') AS old_units,
           SUM(c.value) FILTER (WHERE c.arrived <= d.day - interval '12 months') AS old_value
      FROM days d JOIN cur c ON c.arrived <= d.day
     GROUP BY 1, 2, 3)
INSERT INTO analytics_stockday (day, store_id, category_id, units, value, units_young,
                                value_young, units_mid, value_mid, units_old, value_old)
SELECT a.day, a.store_id, a.category_id,
       (COALESCE(h.young_units, 0) + COALESCE(h.mid_units, 0) + COALESCE(h.old_units, 0)
        + a.units)::int,
       COALESCE(h.young_value, 0) + COALESCE(h.mid_value, 0) + COALESCE(h.old_value, 0) + a.cost,
       (COALESCE(h.young_units, 0) + a.units)::int, COALESCE(h.young_value, 0) + a.cost,
       COALESCE(h.mid_units, 0)::int, COALESCE(h.mid_value, 0),
       COALESCE(h.old_units, 0)::int, COALESCE(h.old_value, 0)
  FROM after a LEFT JOIN here h USING (day, store_id, category_id)
 WHERE COALESCE(h.young_units, 0) + COALESCE(h.mid_units, 0) + COALESCE(h.old_units, 0)
       + a.units > 0
ON CONFLICT (day, store_id, category_id) DO NOTHING
"""


def stock_history_write(*, start, end) -> int:
    """Daily stock snapshots from ``start`` to ``end`` (see STOCK_HISTORY_SQL); days that
    have one already keep it. Needs the line facts (analytics' rollups) first."""
    with connection.cursor() as cursor:
        cursor.execute(STOCK_HISTORY_SQL, {"start": start, "end": end})
        return cursor.rowcount
