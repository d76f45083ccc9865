"""Writes ~120 days of past sales through orders.services.order_create_historical.

Counter sales in the four stores, online orders delivered home or picked up in
store, mostly completed, some refunded or cancelled, and the last days' orders
still in flight (paid, shipped, waiting for pickup). Seeded: the same history
on every fresh database. The section runs once: if demo orders exist it is
skipped (order numbers embed the placing date, so a re-run on another day
could not find its earlier rows by number).

``live_orders_load`` then places today's orders through the live services
(order_place, order_pay, order_collect, order_cancel, order_transition): one in
every status, and at each store pickups waiting with their pickup codes and
reserved pieces (paid and ready, and "pay at the counter"), so the pickup desk
has work on first start. Their emails are marked as handled (nobody to send to).
"""

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from catalog.models import PricingMode, Variant
from members.models import User
from orders.emails import order_emails_skip
from orders.models import (
    Fulfilment,
    Order,
    OrderChannel,
    OrderEvent,
    OrderStatus,
    PaymentProvider,
)
from orders.services import (
    order_cancel,
    order_collect,
    order_create_historical,
    order_number_new,
    order_pay,
    order_place,
    order_transition,
)
from stores.models import StockLevel, Store, StoreKind

from .catalog import HISTORY_DAYS, LoadedProduct
from .catalog_data import RATE_BASES

SOURCE = "demo"
S = OrderStatus

# Busy days of a jeweller's year: (month, day) -> how many times the usual orders.
BUSY_DAYS: dict[tuple[int, int], float] = {
    (8, 19): 1.8,  # 七夕 (Qixi) 2026
    (9, 25): 1.4,  # 中秋 (Mid-Autumn) 2026
    **{(10, d): 1.6 for d in range(1, 8)},  # 国庆 (Golden Week)
    (11, 10): 2.0, (11, 11): 3.0,  # 双十一 (Singles' Day), online above all
}
COUNTER_PROVIDERS = ([PaymentProvider.CASH, PaymentProvider.CARD_TERMINAL, PaymentProvider.ALIPAY,
                      PaymentProvider.WECHAT], [8, 22, 32, 38])


def _estimated_price(variant: Variant) -> Decimal:
    if variant.pricing_mode == PricingMode.BY_WEIGHT:
        return variant.weight_g * RATE_BASES[(variant.metal, variant.purity)] + variant.labour_fee
    return variant.list_price


class _History:
    """The seeded choices behind one demo history."""

    def __init__(self, *, now: datetime, members: list[User], stores: dict[str, Store],
                 staff: dict[str, list[User]], products: list[LoadedProduct]):
        self.rng = random.Random("2026:orders")
        self.now = now
        self.members = members
        self.shops = sorted((s for s in stores.values() if s.kind == StoreKind.STORE),
                            key=lambda s: s.code)
        self.staff = staff
        # One-of-a-kind pieces are still for sale: the history never sold them.
        variants = sorted((v for p in products if not p.spec.unique for v in p.variants),
                          key=lambda v: v.sku)
        # Cheaper pieces sell more often: weight ~ 1 / sqrt(price).
        self.variants = variants
        self.weights = [1 / math.sqrt(float(_estimated_price(v))) for v in variants]
        in_shop = defaultdict(set)
        for store_id, variant_id in StockLevel.objects.filter(
                variant__in=variants, store__kind=StoreKind.STORE).values_list("store_id", "variant_id"):
            in_shop[store_id].add(variant_id)
        self.in_shop = in_shop

    def lines(self, store: Store | None = None) -> list[tuple[Variant, int]]:
        count = self.rng.choices((1, 2, 3), (78, 18, 4))[0]
        chosen: dict[int, tuple[Variant, int]] = {}
        for _ in range(count * 4):
            variant = self.rng.choices(self.variants, self.weights)[0]
            if store is not None and variant.pk not in self.in_shop[store.pk]:
                continue  # a counter sells what its own showcase holds
            cheap = _estimated_price(variant) < 1500
            chosen.setdefault(variant.pk, (variant, 2 if cheap and self.rng.random() < 0.1 else 1))
            if len(chosen) == count:
                break
        if not chosen:  # an empty showcase draw: fall back to any piece
            variant = self.rng.choices(self.variants, self.weights)[0]
            chosen[variant.pk] = (variant, 1)
        return list(chosen.values())

    def store_for(self, lines: list[tuple[Variant, int]]) -> Store:
        """A pickup store that holds the first piece, else any store."""
        holding = [s for s in self.shops if lines[0][0].pk in self.in_shop[s.pk]]
        return self.rng.choice(holding or self.shops)

    def moment(self, day, opens: time, closes: time) -> datetime:
        start = opens.hour * 60 + opens.minute
        minute = self.rng.randrange(start, closes.hour * 60 + closes.minute)
        return datetime.combine(day, time(minute // 60, minute % 60, self.rng.randrange(60)),
                                tzinfo=timezone.get_current_timezone())

    def member(self, channel: str) -> User | None:
        if channel == OrderChannel.STORE and self.rng.random() < 0.35:
            return None  # a walk-in who did not join
        return self.rng.choice(self.members)

    def status(self, fulfilment: str, age: timedelta) -> str:
        roll = self.rng.random()
        days = age.total_seconds() / 86400
        if fulfilment == Fulfilment.COUNTER:
            if days > 3 and roll < 0.04:
                return S.REFUNDED
            if days > 3 and roll < 0.06:
                return S.PARTIALLY_REFUNDED
            return S.COMPLETED
        if roll < 0.05:
            return S.CANCELLED  # never paid
        if fulfilment == Fulfilment.DELIVERY:
            if days < 1:
                return S.PAID if roll < 0.6 else S.SHIPPED
            if days < 3:
                return S.SHIPPED if roll < 0.5 else S.DELIVERED
            if days < 8:
                return S.DELIVERED if roll < 0.4 else S.COMPLETED
        else:
            if days < 2:
                return S.PAID if roll < 0.4 else S.READY_FOR_PICKUP
            if days < 7:
                return (S.READY_FOR_PICKUP if roll < 0.25
                        else S.COLLECTED if roll < 0.5 else S.COMPLETED)
        if roll < 0.09:
            return S.REFUNDED
        if roll < 0.11:
            return S.PARTIALLY_REFUNDED
        return S.COMPLETED


def _create(history: _History, *, channel: str, fulfilment: str, status: str, member: User | None,
            store: Store | None, lines: list[tuple[Variant, int]], placed_at: datetime,
            provider: str) -> None:
    staff = None
    if fulfilment == Fulfilment.COUNTER and history.staff.get(store.code):
        staff = history.rng.choice(history.staff[store.code])
    order_create_historical(
        channel=channel, fulfilment=fulfilment, status=status, member=member, store=store,
        staff=staff, lines=lines, placed_at=placed_at,
        contact_name=member.name if member else "",
        contact_phone=(member.phone or "") if member else "",
        contact_email=(member.email or "") if member else "",
        payment_provider=provider,
        number=order_number_new(at=placed_at, rng=history.rng),
        source=SOURCE,
    )


def orders_load(*, now: datetime, members: list[User], shopper: User, stores: dict[str, Store],
                staff: dict[str, list[User]], products: list[LoadedProduct], per_day: float,
                progress: Callable[[int], None] | None = None) -> int:
    """Create the demo's order history once; returns how many orders were created."""
    if OrderEvent.objects.filter(kind="imported", data__source=SOURCE).exists():
        return 0
    history = _History(now=now, members=members, stores=stores, staff=staff, products=products)
    rng = history.rng
    today = timezone.localtime(now).date()
    latest = now - timedelta(minutes=10)
    created = 0

    for offset in range(HISTORY_DAYS, -1, -1):
        day = today - timedelta(days=offset)
        busy = BUSY_DAYS.get((day.month, day.day), 1.0)
        expected = per_day * (1.5 if day.weekday() >= 5 else 1.0) * busy
        count = max(0, round(rng.gauss(expected, math.sqrt(expected))))
        for _ in range(count):
            kind = rng.choices(("counter", "delivery", "pickup"),
                               (45, 35 * (busy if busy >= 2 else 1), 20))[0]
            if kind == "counter":
                store = rng.choice(history.shops)
                placed_at = history.moment(day, time(10, 30), time(21, 0))
                channel, fulfilment = OrderChannel.STORE, Fulfilment.COUNTER
                lines = history.lines(store)
                provider = rng.choices(*COUNTER_PROVIDERS)[0]
            else:
                placed_at = history.moment(day, time(7, 0), time(23, 59))
                channel = OrderChannel.ONLINE
                fulfilment = Fulfilment.DELIVERY if kind == "delivery" else Fulfilment.PICKUP
                lines = history.lines()
                store = history.store_for(lines) if kind == "pickup" else None
                provider = PaymentProvider.STRIPE
            if placed_at > latest:
                continue
            status = history.status(fulfilment, now - placed_at)
            _create(history, channel=channel, fulfilment=fulfilment, status=status,
                    member=history.member(channel), store=store, lines=lines,
                    placed_at=placed_at, provider=provider)
            created += 1
        if progress:
            progress(created)

    # The demo shopper's own history: a delivery and a counter sale. What is still in
    # flight (pickups waiting at the stores, the shopper's too) is made live by
    # ``live_orders_load`` through the real services, with pickup codes and reserved pieces.
    shanghai = next(s for s in history.shops if s.code == "sh-njxl")
    for fulfilment, status, days_ago in ((Fulfilment.DELIVERY, S.COMPLETED, 62),
                                         (Fulfilment.COUNTER, S.COMPLETED, 27)):
        counter = fulfilment == Fulfilment.COUNTER
        store = shanghai if counter else None
        _create(history,
                channel=OrderChannel.STORE if counter else OrderChannel.ONLINE,
                fulfilment=fulfilment, status=status, member=shopper, store=store,
                lines=history.lines(store),
                placed_at=latest - timedelta(days=days_ago, hours=rng.uniform(0, 6)),
                provider=PaymentProvider.WECHAT if counter else PaymentProvider.STRIPE)
        created += 1
    return created


# --- Today's orders, live --------------------------------------------------------------

LIVE_VIA = "demo"


@dataclass(frozen=True)
class LiveResult:
    created: int
    waiting: int  # pickups waiting at a store (ready, or to pay at the counter)


class _Shelf:
    """Pieces a live order can take: active, priced, with at least two available at the
    place (one-of-a-kind pieces stay on sale), each used once."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[int] = set()

    def piece(self, store: Store) -> Variant | None:
        levels = (StockLevel.objects
                  .filter(store=store, on_hand__gte=F("reserved") + 2,
                          variant__is_active=True, variant__product__is_active=True)
                  .exclude(variant_id__in=self.used)
                  .select_related("variant__product").order_by("variant__sku"))
        candidates = [level.variant for level in levels[:60]]
        if not candidates:
            return None
        variant = self.rng.choice(candidates)
        self.used.add(variant.pk)
        return variant


def live_orders_load(*, stores: dict[str, Store], staff: dict[str, list[User]],
                     shopper: User, members: list[User]) -> LiveResult:
    """Today's orders through the live services, once (found again by their "placed"
    event's ``via``). Returns how many were made and how many pickups wait."""
    if OrderEvent.objects.filter(kind="placed", data__via=LIVE_VIA).exists():
        return LiveResult(0, 0)
    rng = random.Random("2026:live-orders")
    shelf = _Shelf(rng)
    shops = sorted((s for s in stores.values() if s.kind == StoreKind.STORE), key=lambda s: s.code)
    depot = next(s for s in stores.values() if s.kind == StoreKind.WAREHOUSE)
    people = sorted(members, key=lambda m: m.pk)
    made: list[Order] = []
    waiting = 0

    def place(place_at: Store, *, pickup: bool, member: User | None = None,
              pay_at_counter: bool = False, language: str = "zh-hans") -> Order | None:
        variant = shelf.piece(place_at)
        if variant is None:
            return None
        contact = {}
        if member is None:
            contact = {"contact_name": rng.choice(["林小姐", "周先生", "Ms Chen", "赵女士"]),
                       "contact_phone": f"+86139{rng.randrange(10**8):08d}"}
        order = order_place(
            lines=[(variant, 1)], fulfilment=Fulfilment.PICKUP if pickup else Fulfilment.DELIVERY,
            store=place_at if pickup else None, stock_from=None if pickup else place_at,
            member=member, language=language, pay_at_counter=pay_at_counter, via=LIVE_VIA,
            **contact)
        made.append(order)
        return order

    def paid(order: Order | None) -> Order | None:
        if order is None:
            return None
        return order_pay(order=order, provider=PaymentProvider.TEST,
                         reference=f"DEMO-{order.number}", amount=order.total,
                         currency=order.currency, via=LIVE_VIA)

    def move(order: Order | None, *steps: str, **data) -> None:
        for to in steps:
            if order is not None:
                order_transition(order=order, to=to, via=LIVE_VIA, data=data or None)

    # At every store: two paid pickups ready at the desk and one to pay at the counter.
    for store in shops:
        for _ in range(2):
            waiting += paid(place(store, pickup=True, member=rng.choice(people))) is not None
        waiting += place(store, pickup=True, pay_at_counter=True) is not None

    # The demo shopper: a pickup ready in Shanghai, one to pay there, a parcel on its way.
    shanghai = next((s for s in shops if s.code == "sh-njxl"), shops[0])
    waiting += paid(place(shanghai, pickup=True, member=shopper)) is not None
    waiting += place(shanghai, pickup=True, member=shopper, pay_at_counter=True) is not None
    move(paid(place(depot, pickup=False, member=shopper)), S.SHIPPED, carrier="顺丰速运",
         tracking="SF1029384756")

    # One order in every other status.
    place(depot, pickup=False, language="en")  # awaiting online payment
    paid(place(depot, pickup=False, member=rng.choice(people)))  # paid, to be shipped
    move(paid(place(depot, pickup=False, member=rng.choice(people))), S.SHIPPED, S.DELIVERED)
    move(paid(place(depot, pickup=False, member=rng.choice(people))), S.SHIPPED, S.DELIVERED,
         S.COMPLETED)
    move(paid(place(depot, pickup=False, member=rng.choice(people))), S.SHIPPED, S.DELIVERED,
         S.PARTIALLY_REFUNDED, reason="demo: a goodwill partial refund")
    cancelled = place(depot, pickup=False, member=rng.choice(people))
    if cancelled is not None:
        order_cancel(order=cancelled, via=LIVE_VIA, reason="demo: changed my mind")
    for index, store in enumerate(shops[:2]):
        clerk = rng.choice(staff.get(store.code) or [None]) or shopper
        handed = paid(place(store, pickup=True, member=rng.choice(people)))
        if handed is None:
            continue
        if index == 0:
            move(handed, S.COLLECTED)  # handed over, not yet closed
        else:
            order_collect(order=handed, store=store, actor=clerk)  # collected and completed
            move(handed, S.REFUNDED, reason="demo: returned within the window")

    for order in made:
        order_emails_skip(order=order, reason="demo")
    return LiveResult(len(made), waiting)
