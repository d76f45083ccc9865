"""Two years of a national chain's business, for the dashboards' bench: by default 50
stores, 200,000 members, 1,000,000 order lines and 10,000,000 product-view events (every
size is a parameter), on top of the bench catalog (load_bench_data: 10,000 products,
40,000 variants).

Written with PostgreSQL's COPY (devtools/history.py: sales in the importer's shape),
with triggers and foreign-key checks off for the session (the rows are made consistent
here), then folded into analytics' rollups by the same code the shop runs
(rollups_rebuild_all, the tier moves month by month, the members' places). This is test
data for a bench database, never the shop's: ``make bench`` runs it on its own database.
"""

from __future__ import annotations

import math
import random
import time
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from analytics.services.members import places_rebuild, tier_moves_fold
from analytics.services.rollups import rollups_rebuild_all, shop_today, shop_zone
from catalog.models import MetalRate, Variant
from devtools.history import (
    Rates,
    Sale,
    batched,
    copy_rows,
    events_write,
    ids_next,
    sales_write,
    stock_history_write,
)
from orders.models import OrderEvent
from stores.models import Store, StoreKind

SOURCE = "chain-history"
PREFIX = "bench-"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CITIES = [("上海市", ["静安区", "徐汇区", "浦东新区", "黄浦区"]), ("北京市", ["朝阳区", "海淀区", "东城区"]),
          ("深圳市", ["福田区", "南山区"]), ("成都市", ["锦江区", "武侯区"]), ("杭州市", ["西湖区", "滨江区"]),
          ("南京市", ["鼓楼区", "玄武区"]), ("武汉市", ["江汉区", "武昌区"]), ("西安市", ["雁塔区"]),
          ("重庆市", ["渝中区", "江北区"]), ("广州市", ["天河区", "越秀区"]), ("苏州市", ["姑苏区"]),
          ("天津市", ["和平区"]), ("长沙市", ["岳麓区"]), ("郑州市", ["金水区"]), ("青岛市", ["市南区"]),
          ("厦门市", ["思明区"]), ("昆明市", ["五华区"]), ("合肥市", ["蜀山区"])]
DEVICES = (("mobile", 62), ("desktop", 29), ("tablet", 5), ("app", 4))


def _weighted(rng, pairs):
    return rng.choices([p for p, _w in pairs], [w for _p, w in pairs])[0]


def _base32(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 32)
        out.append(ALPHABET[r])
    return "".join(reversed(out))


class Command(BaseCommand):
    help = ("Generate two years of a chain's history for the dashboards' bench (COPY-fast): "
            "stores, members, order lines, product-view events, try-ons; then the rollups.")

    def add_arguments(self, parser):
        parser.add_argument("--stores", type=int, default=50)
        parser.add_argument("--members", type=int, default=200_000)
        parser.add_argument("--lines", type=int, default=1_000_000)
        parser.add_argument("--events", type=int, default=10_000_000)
        parser.add_argument("--days", type=int, default=730)
        parser.add_argument("--if-empty", action="store_true",
                            help="Stop if the chain history is there already.")

    def say(self, message: str) -> None:
        self.stdout.write(f"[chain] {message}")
        self.stdout.flush()

    def step(self, name: str, started: float) -> float:
        now = time.monotonic()
        self.timings[name] = round(now - started, 1)
        self.say(f"{name}: {now - started:.1f}s")
        return now

    def handle(self, *args, stores, members, lines, events, days, if_empty, **options):
        if OrderEvent.objects.filter(kind="imported", data__source=SOURCE).exists():
            self.say("already generated")
            if if_empty:
                return
            raise SystemExit("the chain history is there already (use a fresh database)")
        self.timings: dict[str, float] = {}
        self.rng = random.Random(2026)
        self.now = timezone.now()
        self.today = shop_today(self.now)
        self.days = days
        begun = started = time.monotonic()
        call_command("load_bench_data", stores=stores)
        started = self.step("catalog", started)
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")  # no triggers, no FK checks
        try:
            self.places = self._places(stores)
            self._rates_and_costs()
            self._collections()
            self._staff()
            started = self.step("stores, rates, costs, staff", started)
            self.members = self._members(members)
            started = self.step(f"{members} members", started)
            orders, written = self._sales(lines)
            started = self.step(f"{orders} orders, {written} lines", started)
            self._refunds_and_points()
            started = self.step("refunds and points", started)
            made = self._events(events)
            started = self.step(f"{made} events", started)
            self._tryons()
            self._arrivals()
            started = self.step("try-ons, stock ages", started)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        counts = rollups_rebuild_all(log_to=self.say)
        started = self.step("rollups", started)
        snapshots = stock_history_write(start=self.today - timedelta(days=days),
                                        end=self.today - timedelta(days=1))
        started = self.step(f"{snapshots} stock snapshots", started)
        months = tier_moves_fold(now=self.now, back_to=self.today - timedelta(days=min(days, 366)))
        started = self.step(f"{months} months of tier moves", started)
        places_rebuild(now=self.now)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # index-only scans need the visibility map
        self.step("places", started)
        self.say(f"done in {time.monotonic() - begun:.0f}s: {counts}")

    # --- the parts ------------------------------------------------------------------------

    def _places(self, count: int) -> list[Store]:
        shops = list(Store.objects.filter(code__startswith=PREFIX, kind=StoreKind.STORE)
                     .order_by("code"))[:count]
        for index, store in enumerate(shops):  # the bench stores are in ten cities
            city, _districts = CITIES[index % 10]
            Store.objects.filter(pk=store.pk).update(city=city.removesuffix("市"))
        Store.objects.get_or_create(code=f"{PREFIX}wh", defaults={
            "name": "全国中心仓", "name_en": "National warehouse", "city": "苏州",
            "address": "苏州工业园区1号", "kind": StoreKind.WAREHOUSE})
        return shops

    def _collections(self) -> None:
        """Three collections holding about a third of the pieces."""
        from catalog.models import Collection

        rng = self.rng
        ids = [Collection.objects.get_or_create(slug=f"{PREFIX}{slug}", defaults={
            "name": name, "name_en": name_en})[0].pk for slug, name, name_en in (
            ("classic", "经典", "Classic"), ("bridal", "婚嫁", "Bridal"),
            ("zodiac", "生肖", "Zodiac"))]
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM catalog_product WHERE slug LIKE %s", [PREFIX + "%"])
            products = [r[0] for r in cursor.fetchall()]
        copy_rows("catalog_product_collections", ("product_id", "collection_id"),
                  [(p, rng.choice(ids)) for p in products if rng.random() < 0.35])

    def _rates_and_costs(self) -> None:
        first = (self.today - timedelta(days=self.days + 31)).replace(day=1)
        wanted = []
        month = first
        while month <= self.today:
            for metal, purity, rate in (("gold", "999", 780), ("gold", "750", 585),
                                        ("platinum", "950", 330)):
                swing = 1 + 0.08 * math.sin((month - first).days / 365 * 2 * math.pi)
                wanted.append(MetalRate(
                    metal=metal, purity=purity, rate_per_gram=Decimal(str(round(rate * swing, 2))),
                    valid_from=datetime.combine(month, datetime.min.time(), tzinfo=shop_zone())))
            month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        MetalRate.objects.bulk_create(wanted, ignore_conflicts=True)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE catalog_variant SET cost_price = ROUND(list_price * 0.55, 2) "
                           "WHERE cost_price IS NULL AND pricing_mode = 'fixed'")
            cursor.execute("""
                UPDATE catalog_variant v SET cost_price = ROUND(v.weight_g * r.rate_per_gram, 2)
                  FROM (SELECT DISTINCT ON (metal, purity) metal, purity, rate_per_gram
                          FROM catalog_metalrate WHERE valid_from <= NOW()
                         ORDER BY metal, purity, valid_from DESC) r
                 WHERE v.cost_price IS NULL AND v.pricing_mode = 'by_weight'
                   AND r.metal = v.metal AND r.purity = v.purity""")

    def _staff(self) -> None:
        self.staff: dict[int, list[int]] = {}
        ids = ids_next("members_user", len(self.places) * 3)
        rows, assignments = [], []
        for index, store in enumerate(self.places):
            mine = ids[index * 3:index * 3 + 3]
            self.staff[store.pk] = mine
            for n, user_id in enumerate(mine):
                rows.append((user_id, "!", False, f"staff{user_id}@bench.example", None, False,
                             f"店员{user_id}", "zh-hans", True, True, self.now))
                assignments.append((user_id, store.pk, "manager" if n == 0 else "staff",
                                    self.now))
        copy_rows("members_user", ("id", "password", "is_superuser", "email", "phone",
                                   "phone_verified", "name", "language", "is_staff", "is_active",
                                   "date_joined"), rows)
        copy_rows("stores_staffassignment", ("user_id", "store_id", "role", "created_at"),
                  assignments)

    def _members(self, count: int) -> list[tuple[int, datetime]]:
        """(id, joined) of every member, joined over the period (more of late)."""
        rng = self.rng
        ids = ids_next("members_user", count)
        start = self.now - timedelta(days=self.days)
        tier = None
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM members_tier ORDER BY min_spend LIMIT 1")
            row = cursor.fetchone()
            tier = row[0] if row else None
        users, profiles, addresses, out = [], [], [], []
        for n, user_id in enumerate(ids):
            joined = start + timedelta(seconds=self.days * 86400 * rng.random() ** 0.8)
            at_store = rng.random() < 0.5
            city_index = min(int(rng.expovariate(0.25)), len(CITIES) - 1)
            home = self.places[(city_index + 10 * rng.randrange(5)) % len(self.places)] \
                if city_index < 10 else None
            users.append((user_id, "!", False, None, f"+86150{n:08d}", True, f"会员{n}",
                          "zh-hans", False, True, joined))
            profiles.append((user_id, rng.choice("fmf"), "", "store" if at_store else "online",
                             home.pk if at_store and home else None, home.pk if home else None,
                             Decimal("0"), 0, joined, tier))
            if rng.random() < 0.7:
                city, districts = CITIES[city_index]
                addresses.append((user_id, f"会员{n}", f"150{n:08d}", "省", city,
                                  rng.choice(districts), "1号", "100000", True, joined))
            out.append((user_id, joined))
        copy_rows("members_user", ("id", "password", "is_superuser", "email", "phone",
                                   "phone_verified", "name", "language", "is_staff", "is_active",
                                   "date_joined"), users)
        copy_rows("members_memberprofile", (
            "user_id", "gender", "ring_size", "registered_channel", "registered_store_id",
            "home_store_id", "spend_12m", "points_balance", "created_at", "tier_id"), profiles)
        copy_rows("members_address", ("member_id", "recipient", "phone", "province", "city",
                                      "district", "street", "postcode", "is_default",
                                      "created_at"), addresses)
        out.sort(key=lambda m: m[1])
        return out

    def _sales(self, target_lines: int) -> tuple[int, int]:
        rng = self.rng
        variants = list(Variant.objects.filter(product__slug__startswith=PREFIX)
                        .select_related("product").order_by("pk"))
        weights = [1 / math.sqrt(float(v.list_price or 2000)) for v in variants]
        cumulative = []
        total = 0.0
        for w in weights:
            total += w
            cumulative.append(total)
        orders_wanted = int(target_lines / 1.25)
        day_weights = []
        for offset in range(self.days, 0, -1):
            day = self.today - timedelta(days=offset)
            factor = (1.5 if day.weekday() >= 5 else 1.0) / (1.18 ** (offset / 365))
            if (day.month, day.day) in ((2, 14), (5, 20), (11, 11)):
                factor *= 2.5
            day_weights.append((day, factor))
        scale = orders_wanted / sum(f for _d, f in day_weights)
        joins = [j for _m, j in self.members]
        serial = [0]

        def sales():
            import bisect
            for day, factor in day_weights:
                for _ in range(int(round(factor * scale + rng.random() - 0.5))):
                    serial[0] += 1
                    kind = rng.choices(("counter", "delivery", "pickup"), (45, 35, 20))[0]
                    store = rng.choice(self.places) if kind != "delivery" else None
                    count = rng.choices((1, 2, 3), (80, 15, 5))[0]
                    picked = {}
                    for _n in range(count):
                        v = variants[bisect.bisect_left(cumulative, rng.random() * total)]
                        picked[v.pk] = (v, 1)
                    minute = rng.randrange(9 * 60, 22 * 60)
                    placed = datetime.combine(day, datetime.min.time(), tzinfo=shop_zone()) \
                        + timedelta(minutes=minute, seconds=rng.randrange(60))
                    joined = bisect.bisect_right(joins, placed)
                    member = self.members[rng.randrange(joined)][0] \
                        if joined and rng.random() < 0.65 else None
                    roll = rng.random()
                    status = ("cancelled" if kind != "counter" and roll < 0.04 else
                              "refunded" if roll < 0.08 else
                              "partially_refunded" if roll < 0.10 else "completed")
                    yield Sale(
                        number="O" + placed.strftime("%y%m%d") + _base32(serial[0], 6),
                        channel="store" if kind == "counter" else "online", fulfilment=kind,
                        status=status, placed_at=placed, lines=list(picked.values()),
                        provider="card" if kind == "counter" else "stripe",
                        member_id=member, store_id=store.pk if store else None,
                        staff_id=rng.choice(self.staff[store.pk]) if kind == "counter" else None,
                        device="" if kind == "counter" else _weighted(rng, DEVICES))
        with transaction.atomic():
            return sales_write(sales(), source=SOURCE, now=self.now, rates=Rates())

    def _refunds_and_points(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("""
                INSERT INTO orders_refund (payment_id, amount, reference, status, reason, created_at)
                SELECT p.id, CASE WHEN o.status = 'refunded' THEN p.amount
                                  ELSE ROUND(p.amount * 0.3, 2) END, '', 'succeeded', 'bench',
                       LEAST(o.completed_at + interval '3 days', NOW())
                  FROM orders_payment p JOIN orders_order o ON o.id = p.order_id
                 WHERE o.status IN ('refunded', 'partially_refunded')""")
            cursor.execute("""
                INSERT INTO members_pointsentry (member_id, kind, points, spend, reference,
                                                 channel, note, created_at)
                SELECT o.member_id, 'earn', FLOOR(o.total)::int, o.total, o.number,
                       CASE WHEN o.channel = 'store' THEN 'store' ELSE 'online' END, '',
                       o.completed_at
                  FROM orders_order o
                 WHERE o.member_id IS NOT NULL AND o.completed_at IS NOT NULL AND o.total > 0""")

    def _events(self, count: int) -> int:
        """Product views (and the bags and checkouts that follow some), spread over the days
        like the online orders, with devices; a visitor views about three pieces."""
        rng = self.rng
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM catalog_product WHERE slug LIKE %s", [PREFIX + "%"])
            products = [r[0] for r in cursor.fetchall()]
        per_day = count / self.days
        members = [m for m, _j in self.members]
        zone = shop_zone()

        def rows():
            made = 0
            serial = 0
            for offset in range(self.days, 0, -1):
                day = self.today - timedelta(days=offset)
                factor = (1.3 if day.weekday() >= 5 else 1.0) / (1.18 ** ((offset - self.days / 2)
                                                                          / 365))
                views_today = int(per_day * factor)
                midnight = datetime.combine(day, datetime.min.time(), tzinfo=zone)
                done = 0
                while done < views_today and made < count:
                    serial += 1
                    member = rng.choice(members) if rng.random() < 0.2 else None
                    session = "" if member else f"s{serial:09d}"
                    data = {"device": _weighted(rng, DEVICES[:3])}
                    at = midnight + timedelta(seconds=rng.randrange(86400))
                    for view in range(min(rng.choice((1, 2, 3, 3, 4, 5)), views_today - done)):
                        yield ("product.viewed", member, session, rng.choice(products), None,
                               "online", at + timedelta(seconds=30 * view), data)
                        done += 1
                        made += 1
                    if rng.random() < 0.2:
                        yield ("shop.bag", member, session, None, None, "online",
                               at + timedelta(minutes=4), data)
                        made += 1
                        if rng.random() < 0.35:
                            yield ("shop.checkout", member, session, None, None, "online",
                                   at + timedelta(minutes=6), data)
                            made += 1
        return events_write(rows())

    def _tryons(self) -> None:
        rng = self.rng
        rows = []
        serial = 0
        for store in self.places:
            for offset in range(min(self.days, 365), 0, -1):
                day = self.today - timedelta(days=offset)
                for seat in range(1, 1 + rng.choice((1, 2, 2, 3))):
                    serial += 1
                    starts = datetime.combine(day, datetime.min.time(), tzinfo=shop_zone()) \
                        + timedelta(hours=rng.randrange(10, 20))
                    roll = rng.random()
                    status = ("cancelled" if roll < 0.12 else "no_show" if roll < 0.25
                              else "completed")
                    outcome = ("bought" if rng.random() < 0.45 else "not_bought") \
                        if status == "completed" else ""
                    staff = rng.choice(self.staff[store.pk]) if status == "completed" else None
                    rows.append(("B" + _base32(serial, 7), store.pk, starts,
                                 starts + timedelta(hours=1), seat, status, None, "顾客",
                                 "+8613900000000", "", "zh-hans", "", outcome, "", "", staff, 0,
                                 starts - timedelta(days=2), starts, None, None, None, ""))
        for chunk in batched(rows, 100_000):
            copy_rows("stores_appointment", (
                "number", "store_id", "starts_at", "ends_at", "seat", "status", "member_id",
                "contact_name", "contact_phone", "contact_email", "language", "note", "outcome",
                "outcome_reason", "order_reference", "staff_id", "sequence", "created_at",
                "updated_at", "checked_in_at", "completed_at", "cancelled_at", "cancel_reason"),
                chunk)

    def _arrivals(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.2026)")
            cursor.execute("UPDATE stores_stocklevel SET arrived_on = %s - "
                           "(power(random(), 1.4) * %s)::int", [self.today, self.days - 30])

