"""Two years of history for the dashboards, so every panel has a story on first start.

The detailed last months (orders.py, loyalty.py) stay as they are; this adds, seeded and
once (each part finds its own rows again):

- cost prices for the pieces without one (the rule of migration catalog/0003);
- the older sales, from two years ago up to the detailed months, growing year on year,
  busier at weekends, 520, 七夕, 中秋, 国庆, 双十一 and Chinese New Year, written in bulk in
  the importer's shape (devtools/history.py); refunds for the refunded sales;
- the devices online orders were placed from, and the web shop's visits (product views,
  bags, checkouts) for two years;
- a year of try-ons at every store, served by its staff, bought or not;
- where members live (addresses in cities with and without a store), where they joined
  and their home store;
- when the stock arrived (some of it long ago: slow movers to move on);
- then the rollups from scratch, two years of stock snapshots sketched from today's
  stock and the sales since, the tier moves month by month and the members' places.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.utils import timezone

from analytics.models import OrderDevice
from analytics.services.members import places_rebuild, tier_moves_fold
from analytics.services.rollups import rollups_rebuild_all, shop_today
from catalog.models import Variant
from members.models import Address, Channel, MemberProfile, User
from orders.models import (
    Fulfilment,
    Order,
    OrderChannel,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentProvider,
)
from orders.services import order_number_new
from stores.models import Appointment, StaffAssignment, StockLevel, Store, StoreKind

from ..history import Rates, Sale, copy_rows, events_write, sales_write, stock_history_write
from .catalog import HISTORY_DAYS, LoadedProduct
from .orders import BUSY_DAYS, COUNTER_PROVIDERS, _estimated_price

SOURCE = "demo-history"
YEARS_DAYS = 730
DEVICES = (("mobile", 62), ("desktop", 29), ("tablet", 5), ("app", 4))

# Cities members live in: the four with a store, and others where none is yet (the
# places panel's story). (city, districts, weight)
PLACES = [
    ("上海市", ["静安区", "徐汇区", "浦东新区", "黄浦区", "长宁区", "闵行区"], 30),
    ("北京市", ["朝阳区", "海淀区", "东城区", "西城区", "丰台区"], 20),
    ("深圳市", ["福田区", "南山区", "罗湖区", "宝安区"], 14),
    ("成都市", ["锦江区", "武侯区", "青羊区", "高新区"], 10),
    ("杭州市", ["西湖区", "上城区", "滨江区", "余杭区"], 9),
    ("南京市", ["鼓楼区", "玄武区", "建邺区"], 5),
    ("苏州市", ["姑苏区", "工业园区", "吴中区"], 4),
    ("广州市", ["天河区", "越秀区", "海珠区"], 4),
    ("武汉市", ["江汉区", "武昌区", "洪山区"], 2),
    ("重庆市", ["渝中区", "江北区"], 1),
    ("西安市", ["雁塔区", "碑林区"], 1),
]
PROVINCES = {"上海市": "上海", "北京市": "北京", "深圳市": "广东", "成都市": "四川", "杭州市": "浙江",
             "南京市": "江苏", "苏州市": "江苏", "广州市": "广东", "武汉市": "湖北",
             "重庆市": "重庆", "西安市": "陕西"}
STORE_CITY = {"上海市": "sh-njxl", "北京市": "bj-guomao", "深圳市": "sz-mixc",
              "成都市": "cd-taikooli"}


@dataclass
class Story:
    costs: int = 0
    sales: int = 0
    lines: int = 0
    refunds: int = 0
    devices: int = 0
    events: int = 0
    tryons: int = 0
    places: int = 0
    arrivals: int = 0

    def __str__(self) -> str:
        return (f"{self.sales} older sales ({self.lines} lines), {self.events} visits' events, "
                f"{self.tryons} try-ons, {self.places} addresses")


def costs_fill() -> int:
    """Cost prices where a piece has none, by catalog/0003's rule."""
    with connection.cursor() as cursor:
        cursor.execute("""
            UPDATE catalog_variant SET cost_price = ROUND(list_price * 0.55, 2)
             WHERE cost_price IS NULL AND pricing_mode = 'fixed' AND list_price IS NOT NULL""")
        fixed = cursor.rowcount
        cursor.execute("""
            UPDATE catalog_variant v SET cost_price = ROUND(v.weight_g * r.rate_per_gram, 2)
              FROM (SELECT DISTINCT ON (metal, purity) metal, purity, rate_per_gram
                      FROM catalog_metalrate WHERE valid_from <= NOW()
                     ORDER BY metal, purity, valid_from DESC) r
             WHERE v.cost_price IS NULL AND v.pricing_mode = 'by_weight'
               AND r.metal = v.metal AND r.purity = v.purity""")
        return fixed + cursor.rowcount


def _busy(day: date) -> float:
    factor = BUSY_DAYS.get((day.month, day.day), 1.0)
    if (day.month, day.day) == (5, 20):  # 520, "I love you"
        factor = max(factor, 1.8)
    if day.month == 2 and day.day <= 14 or day.month == 1 and day.day >= 20:
        factor *= 1.4  # Chinese New Year: gold for the family
    return factor


def _growth(days_ago: int) -> float:
    """The house grows about 18% a year: two years ago it sold ~70% of today."""
    return 1.0 / (1.18 ** (days_ago / 365))


def _status(rng: random.Random, fulfilment: str) -> str:
    roll = rng.random()
    if fulfilment != Fulfilment.COUNTER and roll < 0.05:
        return OrderStatus.CANCELLED
    if roll < 0.10:
        return OrderStatus.REFUNDED
    if roll < 0.12:
        return OrderStatus.PARTIALLY_REFUNDED
    return OrderStatus.COMPLETED


def _pick(rng: random.Random, weighted):
    return rng.choices([v for v, _w in weighted], [w for _v, w in weighted])[0]


def older_sales_load(*, now: datetime, members: list[User], stores: dict[str, Store],
                     staff: dict[str, list[User]], products: list[LoadedProduct],
                     per_day: float) -> tuple[int, int]:
    """Sales from YEARS_DAYS ago to the detailed history's start; once."""
    if OrderEvent.objects.filter(kind="imported", data__source=SOURCE).exists():
        return 0, 0
    rng = random.Random("2026:dashboards:sales")
    shops = sorted((s for s in stores.values() if s.kind == StoreKind.STORE),
                   key=lambda s: s.code)
    variants = sorted((v for p in products if not p.spec.unique for v in p.variants),
                      key=lambda v: v.sku)
    for variant in variants:  # the history reads the product's name
        variant.product = next(p.product for p in products if p.product.pk == variant.product_id)
    weights = [1 / math.sqrt(float(_estimated_price(v))) for v in variants]
    in_shop: dict[int, set[int]] = {s.pk: set() for s in shops}
    for store_id, variant_id in StockLevel.objects.filter(
            store__in=shops).values_list("store_id", "variant_id"):
        in_shop[store_id].add(variant_id)
    by_join = sorted(members, key=lambda m: (m.date_joined, m.pk))
    join_times = [m.date_joined for m in by_join]
    today = timezone.localtime(now).date()
    zone = timezone.get_current_timezone()
    numbers: set[str] = set()
    sales: list[Sale] = []
    for offset in range(YEARS_DAYS, HISTORY_DAYS, -1):
        day = today - timedelta(days=offset)
        expected = per_day * (1.5 if day.weekday() >= 5 else 1.0) * _busy(day) * _growth(offset)
        for _ in range(max(0, round(rng.gauss(expected, math.sqrt(expected))))):
            kind = rng.choices(("counter", "delivery", "pickup"),
                               (45, 35 * (2 if _busy(day) >= 2 else 1), 20))[0]
            store = rng.choice(shops) if kind != "delivery" else None
            count = rng.choices((1, 2, 3), (78, 18, 4))[0]
            chosen: dict[int, tuple[Variant, int]] = {}
            for _try in range(count * 4):
                variant = rng.choices(variants, weights)[0]
                if kind == "counter" and variant.pk not in in_shop[store.pk]:
                    continue
                chosen.setdefault(variant.pk, (variant, 1))
                if len(chosen) == count:
                    break
            if not chosen:
                continue
            opens, closes = (10 * 60 + 30, 21 * 60) if kind == "counter" else (7 * 60, 23 * 60 + 59)
            minute = rng.randrange(opens, closes)
            placed = datetime.combine(day, time(minute // 60, minute % 60, rng.randrange(60)),
                                      tzinfo=zone)
            number = order_number_new(at=placed, rng=rng)
            while number in numbers:
                number = order_number_new(at=placed, rng=rng)
            numbers.add(number)
            member = None
            joined = bisect.bisect_right(join_times, placed)  # members who had joined by then
            if joined and (kind != "counter" or rng.random() > 0.35):
                member = by_join[rng.randrange(joined)]
            clerk = rng.choice(staff.get(store.code) or [None]) if kind == "counter" else None
            sales.append(Sale(
                number=number, fulfilment=kind, status=_status(rng, kind), placed_at=placed,
                channel=OrderChannel.STORE if kind == "counter" else OrderChannel.ONLINE,
                lines=list(chosen.values()), store_id=store.pk if store else None,
                member_id=member.pk if member else None, staff_id=clerk.pk if clerk else None,
                provider=(_pick(rng, list(zip(*COUNTER_PROVIDERS, strict=True)))
                          if kind == "counter" else PaymentProvider.STRIPE),
                contact_name=member.name if member else "",
                contact_phone=(member.phone or "") if member else "",
                device="" if kind == "counter" else _pick(rng, DEVICES)))
    return sales_write(sales, source=SOURCE, now=now, rates=Rates())


def refunds_load(*, now: datetime) -> int:
    """A succeeded refund for each refunded sale of the history that has none: all of it,
    or a part, a few days after the hand-over."""
    rng = random.Random("2026:dashboards:refunds")
    payments = list(Payment.objects.filter(
        order__status__in=[OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED],
        refunds__isnull=True).select_related("order").order_by("pk"))
    rows = []
    for payment in payments:
        order = payment.order
        full = order.status == OrderStatus.REFUNDED
        amount = payment.amount if full else (payment.amount * Decimal("0.3")).quantize(
            Decimal("0.01"))
        at = min((order.completed_at or order.placed_at) + timedelta(days=rng.randint(1, 6)), now)
        rows.append((payment.pk, amount, "", "succeeded",
                     "demo: returned" if full else "demo: a goodwill partial refund", None, at))
    copy_rows("orders_refund", ("payment_id", "amount", "reference", "status", "reason",
                                "actor_id", "created_at"), rows)
    for payment in payments:
        if payment.order.status == OrderStatus.PARTIALLY_REFUNDED:
            Payment.objects.filter(pk=payment.pk).update(
                refunded_amount=(payment.amount * Decimal("0.3")).quantize(Decimal("0.01")))
        else:
            Payment.objects.filter(pk=payment.pk).update(refunded_amount=F("amount"))
    return len(rows)


def devices_load() -> int:
    """The device of every online order that has none (the detailed months' orders)."""
    rng = random.Random("2026:dashboards:devices")
    have = set(OrderDevice.objects.values_list("order_id", flat=True))
    rows = [(pk, _pick(rng, DEVICES)) for pk in Order.objects.filter(
        channel=OrderChannel.ONLINE).order_by("pk").values_list("pk", flat=True) if pk not in have]
    return copy_rows("analytics_orderdevice", ("order_id", "device"), rows)


def visits_load(*, now: datetime, members: list[User], products: list[LoadedProduct]) -> int:
    """Two years of the web shop's visits, in step with the online orders of each day:
    about thirty visitors an order, three views a visitor, one in four adding to the bag,
    one in three of those opening the checkout."""
    from analytics.models import Event

    if Event.objects.filter(kind="product.viewed", data__demo=True).exists():
        return 0
    rng = random.Random("2026:dashboards:visits")
    today = timezone.localtime(now).date()
    zone = timezone.get_current_timezone()
    online = {}
    for placed in Order.objects.filter(channel=OrderChannel.ONLINE).values_list("placed_at",
                                                                                flat=True):
        day = timezone.localtime(placed).date()
        online[day] = online.get(day, 0) + 1
    product_ids = [p.product.pk for p in products]

    def rows():
        serial = 0
        for offset in range(YEARS_DAYS, -1, -1):
            day = today - timedelta(days=offset)
            visitors = max(4, int(rng.gauss(online.get(day, 1) * 30, 6)))
            for _ in range(visitors):
                serial += 1
                member = rng.choice(members) if rng.random() < 0.25 else None
                session = "" if member else f"demo{serial:08d}"
                device = _pick(rng, DEVICES[:3])
                minute = rng.randrange(7 * 60, 24 * 60)
                at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
                if at > now:
                    continue
                data = {"device": device, "demo": True}
                for view in range(rng.choice((1, 1, 2, 3, 3, 4, 6))):
                    yield ("product.viewed", member.pk if member else None, session,
                           rng.choice(product_ids), None, "online",
                           at + timedelta(seconds=40 * view), data)
                if rng.random() < 0.25:
                    yield ("shop.bag", member.pk if member else None, session, None, None,
                           "online", at + timedelta(minutes=5), data)
                    if rng.random() < 0.35:
                        yield ("shop.checkout", member.pk if member else None, session, None,
                               None, "online", at + timedelta(minutes=7), data)
    return events_write(rows())


def tryons_history_load(*, now: datetime, stores: dict[str, Store], members: list[User]) -> int:
    """A year of try-ons at every store (before the demo's live week): about one a day,
    two at weekends; most come, about half of those buy."""
    if Appointment.objects.filter(note="demo-history").exists():
        return 0
    rng = random.Random("2026:dashboards:tryons")
    clerks: dict[int, list[int]] = {}
    for assignment in StaffAssignment.objects.all():
        clerks.setdefault(assignment.store_id, []).append(assignment.user_id)
    shops = sorted((s for s in stores.values() if s.kind == StoreKind.STORE), key=lambda s: s.code)
    today = timezone.localtime(now).date()
    rows = []
    for store in shops:
        for offset in range(365, 5, -1):
            day = today - timedelta(days=offset)
            for seat in range(1, 1 + rng.choice((0, 1, 1, 1, 2) if day.weekday() < 5
                                                   else (1, 2, 2, 3))):
                hour = rng.randrange(11, 20)
                starts = datetime.combine(day, time(hour), tzinfo=store.zone)
                ends = starts + timedelta(minutes=store.tryon_minutes)
                roll = rng.random()
                status = ("cancelled" if roll < 0.12 else "no_show" if roll < 0.25
                          else "completed")
                outcome = ("bought" if rng.random() < 0.48 else "not_bought") \
                    if status == "completed" else ""
                member = rng.choice(members) if rng.random() < 0.6 else None
                staff_id = rng.choice(clerks.get(store.pk, [None])) if status == "completed" \
                    else None
                booked = starts - timedelta(days=rng.randint(1, 10))
                rows.append([store.pk, starts, ends, seat, status,
                             member.pk if member else None,
                             member.name if member else "顾客", (member.phone if member else
                                                                "+8613900000000") or "",
                             "", "zh-hans", "demo-history", outcome, "", "", staff_id, 0, booked,
                             booked, starts if status == "completed" else None,
                             ends if status == "completed" else None,
                             booked + timedelta(hours=5) if status == "cancelled" else None,
                             "demo: plans changed" if status == "cancelled" else ""])
    numbers: set[str] = set(Appointment.objects.values_list("number", flat=True))
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    for row in rows:
        number = ""
        while not number or number in numbers:
            number = "A" + "".join(rng.choice(alphabet) for _ in range(7))
        numbers.add(number)
        row.insert(0, number)
    return copy_rows("stores_appointment", (
        "number", "store_id", "starts_at", "ends_at", "seat", "status", "member_id",
        "contact_name", "contact_phone", "contact_email", "language", "note", "outcome",
        "outcome_reason", "order_reference", "staff_id", "sequence", "created_at", "updated_at",
        "checked_in_at", "completed_at", "cancelled_at", "cancel_reason"), rows)


def places_load(*, members: list[User], stores: dict[str, Store]) -> int:
    """Where members live (seven in ten have an address), where those who joined at a
    counter joined, and each member's home store: the store of their city, if any."""
    rng = random.Random("2026:dashboards:places")
    with_address = set(Address.objects.filter(member__in=members)
                       .values_list("member_id", flat=True))
    addresses, homes = [], {}
    for member in members:
        if rng.random() > 0.7:
            continue
        city, districts, _w = rng.choices(PLACES, [w for *_x, w in PLACES])[0]
        if member.pk not in with_address:
            addresses.append(Address(
                member=member, recipient=member.name or "会员", phone=(member.phone or "")[-11:],
                province=PROVINCES[city], city=city, district=rng.choice(districts),
                street=f"{rng.randint(1, 999)}号", postcode=f"{rng.randint(100000, 999999)}",
                is_default=True))
        if city in STORE_CITY and STORE_CITY[city] in stores:
            homes[member.pk] = stores[STORE_CITY[city]]
    Address.objects.bulk_create(addresses)
    shops = [s for s in stores.values() if s.kind == StoreKind.STORE]
    profiles = list(MemberProfile.objects.filter(user__in=members))
    for profile in profiles:
        if profile.registered_channel == Channel.STORE and profile.registered_store_id is None:
            profile.registered_store = homes.get(profile.user_id) or rng.choice(shops)
        if profile.home_store_id is None and profile.user_id in homes:
            profile.home_store = homes[profile.user_id]
    MemberProfile.objects.bulk_update(profiles, ["registered_store", "home_store"])
    return len(addresses)


def arrivals_load(*, now: datetime) -> int:
    """When the stock arrived: spread over two years, a stable date per row (seeded by
    place and piece), the warehouse's newer on the whole."""
    today = shop_today(now)
    levels = list(StockLevel.objects.select_related("store", "variant").order_by("pk"))
    for level in levels:
        rng = random.Random(f"2026:arrived:{level.store.code}:{level.variant.sku}")
        span = 420 if level.store.kind == StoreKind.WAREHOUSE else YEARS_DAYS - 30
        level.arrived_on = today - timedelta(days=int(span * rng.random() ** 1.4))
    StockLevel.objects.bulk_update(levels, ["arrived_on"], batch_size=2000)
    return len(levels)


def dashboards_load(*, now: datetime, members: list[User], stores: dict[str, Store],
                    staff: dict[str, list[User]], products: list[LoadedProduct], per_day: float,
                    small: bool = False) -> Story:
    story = Story()
    story.costs = costs_fill()
    first = not OrderEvent.objects.filter(kind="imported", data__source=SOURCE).exists()
    story.sales, story.lines = older_sales_load(now=now, members=members, stores=stores,
                                                staff=staff, products=products,
                                                per_day=per_day)
    story.refunds = refunds_load(now=now)
    story.devices = devices_load()
    if not small:
        story.events = visits_load(now=now, members=members, products=products)
        story.tryons = tryons_history_load(now=now, stores=stores, members=members)
    story.places = places_load(members=members, stores=stores)
    if first:
        story.arrivals = arrivals_load(now=now)
    return story


def rollups_load(*, now: datetime) -> str:
    """Everything the demo wrote, folded: the rollups from scratch, two years of stock
    snapshots sketched back from today's stock, the tier moves month by month and the
    members' places. Runs last, after today's live orders."""
    counts = rollups_rebuild_all()
    today = shop_today(now)
    snapshots = stock_history_write(start=today - timedelta(days=YEARS_DAYS),
                                    end=today - timedelta(days=1))
    months = tier_moves_fold(now=now, back_to=today - timedelta(days=YEARS_DAYS))
    places = places_rebuild(now=now)
    return (f"{counts['sales']} sales cells, {snapshots} stock snapshots, "
            f"{months} months of tier moves, {places} places")
