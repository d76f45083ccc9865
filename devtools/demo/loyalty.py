"""Writes the demo's loyalty: points for the order history, members in every tier,
consents, the coupons a marketer would set up, and today's orders that use them.

- ``top_spenders_load``: a few members (and the demo shopper) bought big pieces over the
  last months, through the same historical importer as the rest of the history
  (orders.services.order_create_historical), so every tier has members and their
  orders and spend agree.
- ``points_history_load``: every order that reached its member (collected, delivered,
  completed) and has no "earn" entry earns as the real service would (the order's total
  x LOYALTY_POINTS_PER_YUAN, multiplier 1 for the history), dated at the hand-over;
  some members spent points on a later order of the history (the order's total shows
  the points, its payment the rest). Inserted in bulk, then
  members.services.points_balance_rebuild and tiers_refresh_all.
- ``consents_load``: email and SMS consents, given online or at a counter, some withdrawn.
- ``coupons_load``: the definitions (满2000减200, 戒指9折, 新会员礼, 门店专享 with 200
  printed codes, the public code LOVE520, the tiers' birthday gift, a gold members'
  offer, and an offer that has ended), issued through members.services.
- ``loyalty_orders_load``: today's orders with coupons and points, online
  (order_place) and at counters (order_sell_at_counter).

Each part finds its own rows again, so a second run adds nothing.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from catalog.models import Category, PricingMode, Variant
from catalog.pricing import rates_in_force, variant_price
from members.models import (
    Channel,
    Consent,
    ConsentChannel,
    Coupon,
    CouponChannel,
    CouponDefinition,
    DiscountKind,
    MemberProfile,
    PointsEntry,
    PointsKind,
    Redemption,
    Tier,
    User,
)
from members.services import (
    coupon_batch_create,
    coupon_issue,
    coupon_public_create,
    coupons_issue_to_members,
    points_balance,
    points_balance_rebuild,
    points_max_for,
    points_value,
    tiers_refresh_all,
)
from members.services.coupon_issuing import birthday_matches
from members.services.points import points_earned_for
from orders.emails import order_emails_skip
from orders.models import (
    Fulfilment,
    Order,
    OrderChannel,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentProvider,
)
from orders.services import (
    order_create_historical,
    order_number_new,
    order_pay,
    order_place,
    order_transition,
)
from orders.services.counter import order_sell_at_counter
from stores.models import StockLevel, Store, StoreKind

from .catalog import HISTORY_DAYS, LoadedProduct
from .orders import COUNTER_PROVIDERS

S = OrderStatus
SOURCE = "demo-loyalty"  # the top spenders' imported orders
LIVE_VIA = "demo-loyalty"  # today's online orders with coupons and points
REACHED = (S.COLLECTED, S.DELIVERED, S.COMPLETED)
# When a piece reaches its member after the order (the importer's hand-over delays).
HANDOVER = {Fulfilment.COUNTER: timedelta(0), Fulfilment.PICKUP: timedelta(days=2),
            Fulfilment.DELIVERY: timedelta(days=4)}
# Members wanted in each tier above the lowest, from the highest down (the shopper aside).
WANTED_FULL = (3, 6, 15)
WANTED_SMALL = (1, 2, 3)
SHOPPER_TIER = "gold"


def _money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def _channel(order_channel: str) -> str:
    return Channel.STORE if order_channel == OrderChannel.STORE else Channel.ONLINE


def _local(day, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=timezone.get_current_timezone())


# --- Top spenders: every tier has members ---------------------------------------------------


def _reached_spend() -> dict[int, Decimal]:
    return dict(Order.objects.filter(member__isnull=False, status__in=REACHED)
                .values("member_id").annotate(s=Sum("total")).values_list("member_id", "s"))


class _BigPieces:
    """Fixed-price pieces that are not one of a kind, dearest first, with the stores
    that show them (a counter sells what its own showcase holds)."""

    def __init__(self, products: list[LoadedProduct]):
        variants = [v for p in products if not p.spec.unique for v in p.variants
                    if v.pricing_mode == PricingMode.FIXED and v.list_price]
        self.pieces = sorted(variants, key=lambda v: (-v.list_price, v.sku))
        self.shops: dict[int, list[int]] = defaultdict(list)
        for variant_id, store_id in (StockLevel.objects
                                     .filter(variant__in=variants, store__kind=StoreKind.STORE)
                                     .order_by("store_id").values_list("variant_id", "store_id")):
            self.shops[variant_id].append(store_id)

    def choose(self, rng: random.Random, remaining: Decimal, slack: Decimal) -> Variant:
        """One of the dearest pieces that does not overshoot by more than ``slack``."""
        fits = [v for v in self.pieces if v.list_price <= remaining + slack]
        if not fits:
            return self.pieces[-1]
        return rng.choice(fits[:3])


def top_spenders_load(*, now: datetime, members: list[User], shopper: User,
                      stores: dict[str, Store], staff: dict[str, list[User]],
                      products: list[LoadedProduct], small: bool) -> int:
    """Big purchases in the history (once) so that every tier above the lowest has members
    and the demo shopper is a gold member. Returns how many orders were created."""
    if OrderEvent.objects.filter(kind="imported", data__source=SOURCE).exists():
        return 0
    tiers = list(Tier.objects.order_by("min_spend"))
    pieces = _BigPieces(products)
    if len(tiers) < 2 or not pieces.pieces:
        return 0
    rng = random.Random("2026:loyalty:top")
    spend = _reached_spend()
    shops = {s.pk: s for s in stores.values() if s.kind == StoreKind.STORE}

    def ceiling(tier_index: int) -> Decimal | None:
        above = tiers[tier_index + 1] if tier_index + 1 < len(tiers) else None
        return above.min_spend * Decimal("0.97") if above else None

    def top_up(member: User, tier_index: int) -> int:
        low = tiers[tier_index].min_spend
        high = ceiling(tier_index)
        target = low * Decimal(str(round(rng.uniform(1.08, 1.45), 2)))
        if high is not None:
            target = min(target, (low + high) / 2)
        made = 0
        while spend.get(member.pk, Decimal(0)) < target and made < 24:
            remaining = target - spend.get(member.pk, Decimal(0))
            slack = (high - target) if high is not None else remaining
            variant = pieces.choose(rng, remaining, max(slack, Decimal(0)))
            day = (now - timedelta(days=rng.randint(6, HISTORY_DAYS - 5))).date()
            held = [shops[i] for i in pieces.shops.get(variant.pk, []) if i in shops]
            if held and rng.random() < 0.6:  # at a counter that shows it
                store = rng.choice(held)
                minute = rng.randrange(11 * 60, 20 * 60)
                sale = {"channel": OrderChannel.STORE, "fulfilment": Fulfilment.COUNTER,
                        "store": store, "staff": rng.choice(staff.get(store.code) or [None]),
                        "payment_provider": rng.choices(*COUNTER_PROVIDERS)[0]}
            else:
                minute = rng.randrange(8 * 60, 23 * 60)
                sale = {"channel": OrderChannel.ONLINE, "fulfilment": Fulfilment.DELIVERY,
                        "store": None, "staff": None,
                        "payment_provider": PaymentProvider.STRIPE}
            order = order_create_historical(
                status=S.COMPLETED, member=member, lines=[(variant, 1)],
                placed_at=_local(day, time(minute // 60, minute % 60)),
                contact_name=member.name, contact_phone=member.phone or "",
                contact_email=member.email or "",
                number=order_number_new(at=_local(day, time(12)), rng=rng), source=SOURCE,
                **sale)
            spend[member.pk] = spend.get(member.pk, Decimal(0)) + order.total
            made += 1
        return made

    def band(amount: Decimal) -> int:
        reached = [i for i, tier in enumerate(tiers) if tier.min_spend <= amount]
        return reached[-1] if reached else 0

    created = 0
    gold = next((i for i, t in enumerate(tiers) if t.code == SHOPPER_TIER), len(tiers) - 1)
    if band(spend.get(shopper.pk, Decimal(0))) < gold:
        created += top_up(shopper, gold)

    wanted = WANTED_SMALL if small else WANTED_FULL
    people = [m for m in members if m.pk != shopper.pk]
    chosen: set[int] = set()
    for offset, count in enumerate(wanted):
        index = len(tiers) - 1 - offset
        if index < 1:
            break
        have = [m for m in people if band(spend.get(m.pk, Decimal(0))) == index]
        chosen.update(m.pk for m in have)
        # The biggest spenders below the tier are the likeliest to have reached it.
        below = sorted((m for m in people if m.pk not in chosen
                        and band(spend.get(m.pk, Decimal(0))) < index),
                       key=lambda m: (-spend.get(m.pk, Decimal(0)), m.pk))
        for member in below[:max(0, count - len(have))]:
            created += top_up(member, index)
            chosen.add(member.pk)
    return created


# --- Points for the history -----------------------------------------------------------------


@dataclass(frozen=True)
class PointsResult:
    earned: int
    redeemed: int


def points_history_load(*, now: datetime, shopper: User) -> PointsResult:
    """Earn entries for every order that reached its member and has none, and some
    redemptions on later orders of the imported history; then the cached balances and
    the tiers. Returns how many entries of each kind were written."""
    rng = random.Random("2026:loyalty:points")
    earned_refs = PointsEntry.objects.filter(kind=PointsKind.EARN).values("reference")
    orders = list(Order.objects.filter(member__isnull=False, status__in=REACHED, total__gt=0)
                  .exclude(number__in=earned_refs)
                  .order_by("placed_at", "pk")
                  .values("pk", "number", "member_id", "channel", "fulfilment", "placed_at",
                          "completed_at", "subtotal", "total", "points_redeemed",
                          "coupon_discount"))
    if not orders:
        return PointsResult(0, 0)
    imported = set(OrderEvent.objects
                   .filter(kind="imported", order_id__in=[o["pk"] for o in orders])
                   .values_list("order_id", flat=True))

    # Each member's moves in time: a redemption when the order is placed, the earning when
    # the piece reaches them. Points only from what they had earned by then.
    moves: list[tuple[datetime, int, dict]] = []
    for order in orders:
        handed = (order["completed_at"]
                  or min(order["placed_at"] + HANDOVER[order["fulfilment"]], now))
        moves.append((order["placed_at"], 0, order))
        moves.append((handed, 1, order))
    moves.sort(key=lambda m: (m[0], m[1], m[2]["pk"]))

    balance: dict[int, int] = defaultdict(int)
    entries: list[PointsEntry] = []
    changed: list[Order] = []
    payments: dict[int, Decimal] = {}
    redeemed = 0
    for at, kind, order in moves:
        member_id = order["member_id"]
        if kind == 0:
            if (order["pk"] not in imported or order["points_redeemed"]
                    or order["coupon_discount"] or balance[member_id] < 1000):
                continue
            if member_id == shopper.pk:  # she spends them as they come: a few thousand stay
                wanted = balance[member_id] - rng.randint(1500, 3000)
            elif rng.random() < 0.35:
                wanted = int(balance[member_id] * rng.uniform(0.4, 1.0))
            else:
                continue
            points = min(wanted, points_max_for(amount=order["subtotal"],
                                                balance=balance[member_id])) // 100 * 100
            if points <= 0:
                continue
            discount = points_value(points)
            order["total"] = order["subtotal"] - discount
            changed.append(Order(pk=order["pk"], points_redeemed=points, points_discount=discount,
                                 discount=discount, total=order["total"]))
            payments[order["pk"]] = order["total"]
            entries.append(PointsEntry(member_id=member_id, kind=PointsKind.REDEEM, points=-points,
                                       reference=order["number"],
                                       channel=_channel(order["channel"]), created_at=at))
            balance[member_id] -= points
            redeemed += 1
        else:
            spend = _money(order["total"])
            points = points_earned_for(spend=spend, multiplier=Decimal(1))
            entries.append(PointsEntry(member_id=member_id, kind=PointsKind.EARN, points=points,
                                       spend=spend, reference=order["number"],
                                       channel=_channel(order["channel"]), created_at=at))
            balance[member_id] += points

    Order.objects.bulk_update(changed, ["points_redeemed", "points_discount", "discount",
                                        "total"], batch_size=500)
    paid = list(Payment.objects.filter(order_id__in=payments))
    for payment in paid:
        payment.amount = payments[payment.order_id]
    Payment.objects.bulk_update(paid, ["amount"], batch_size=500)
    PointsEntry.objects.bulk_create(entries, batch_size=1000)
    points_balance_rebuild(member_ids=sorted(balance))
    tiers_refresh_all(now=now)
    return PointsResult(len(entries) - redeemed, redeemed)


def tiers_summary() -> str:
    counts = dict(MemberProfile.objects.values("tier_id").annotate(n=Count("pk"))
                  .values_list("tier_id", "n"))
    return ", ".join(f"{tier.name} {counts.get(tier.pk, 0)}"
                     for tier in Tier.objects.order_by("min_spend"))


# --- Consents -------------------------------------------------------------------------------


def consents_load(*, now: datetime, members: list[User], shopper: User,
                  stores: dict[str, Store], staff: dict[str, list[User]]) -> int:
    """Consents of members who have none yet: about 60% of those with an email address
    said yes to email, 40% of everyone to text messages; given online or at a counter
    (the store and the clerk recorded), about one in eight withdrawn later, and some of
    those given again. Returns how many rows were written."""
    people = [shopper, *members]
    have = set(Consent.objects.filter(member__in=people).values_list("member_id", flat=True))
    channels = dict(MemberProfile.objects.filter(user__in=people)
                    .values_list("user_id", "registered_channel"))
    shops = sorted((s for s in stores.values() if s.kind == StoreKind.STORE), key=lambda s: s.code)
    rows: list[Consent] = []
    for member in people:
        if member.pk in have:
            continue
        # Seeded per member: one who said no says no again on the next run.
        rng = random.Random(f"2026:consents:{member.phone or member.pk}")
        is_shopper = member.pk == shopper.pk
        wanted = []
        if member.email and (is_shopper or rng.random() < 0.6):
            wanted.append(ConsentChannel.EMAIL)
        if is_shopper or rng.random() < 0.4:
            wanted.append(ConsentChannel.SMS)
        for channel in wanted:
            source = channels.get(member.pk, Channel.ONLINE)
            store = clerk = None
            if source == Channel.STORE and shops:
                store = rng.choice(shops)
                clerk = rng.choice(staff.get(store.code) or [None])
            granted = min(member.date_joined + timedelta(minutes=rng.randint(1, 90)), now)
            withdrawn = None
            if not is_shopper and rng.random() < 0.12:
                withdrawn = granted + (now - granted) * rng.uniform(0.2, 0.9)
            rows.append(Consent(member=member, channel=channel, granted_at=granted,
                                withdrawn_at=withdrawn, source=source, store=store,
                                recorded_by=clerk))
            if withdrawn is not None and rng.random() < 0.3:  # changed their mind again
                again = withdrawn + (now - withdrawn) * rng.uniform(0.1, 0.9)
                rows.append(Consent(member=member, channel=channel, source=Channel.ONLINE,
                                    granted_at=again))
    Consent.objects.bulk_create(rows)
    return len(rows)


# --- Coupons --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    key: str
    name: str
    description: str
    kind: str
    value: str
    min_spend: str = "0"
    cap: str | None = None
    channel: str = CouponChannel.BOTH
    days: tuple[int, int] | None = None  # the window, in days from the load (-20, 60)
    valid_days: int | None = None
    total_limit: int | None = None
    per_member_limit: int = 1
    stacks_with_points: bool = True
    categories: tuple[str, ...] = ()
    birthday_tiers: tuple[str, ...] = ()


OFFERS = [
    Offer("threshold", "满2000减200", "全场满¥2,000立减¥200，线上线下通用。",
          DiscountKind.THRESHOLD, "200", min_spend="2000", days=(-20, 60)),
    Offer("rings", "戒指9折（最高减¥500）", "戒指类商品9折，每单最高优惠¥500。",
          DiscountKind.PERCENT, "10", cap="500", days=(-10, 45), categories=("rings",)),
    Offer("welcome", "新会员礼：满800减100", "欢迎加入！网店下单满¥800立减¥100，领取后30天内有效。",
          DiscountKind.AMOUNT, "100", min_spend="800", channel=CouponChannel.ONLINE,
          valid_days=30),
    Offer("store", "门店专享：满3000减300", "凭券到店消费满¥3,000立减¥300，不与积分同享。",
          DiscountKind.THRESHOLD, "300", min_spend="3000", channel=CouponChannel.STORE,
          days=(-5, 90), stacks_with_points=False),
    Offer("love520", "520告白季：满520减52", "输入优惠码 LOVE520，满¥520立减¥52，限量520份。",
          DiscountKind.THRESHOLD, "52", min_spend="520", days=(-3, 27), total_limit=520),
    Offer("birthday", "生日礼遇：9折（最高减¥800）", "金卡及钻石卡会员生日当天发放，30天内有效。",
          DiscountKind.PERCENT, "10", cap="800", valid_days=30,
          birthday_tiers=("gold", "diamond")),
    # Every tier has its own birthday gift (the birthday journey sends each its tier's).
    Offer("birthday_classic", "生日礼遇：满1000减100", "普卡及银卡会员生日礼，30天内有效。",
          DiscountKind.THRESHOLD, "100", min_spend="1000", valid_days=30,
          birthday_tiers=("classic", "silver")),
    Offer("winback", "好久不见：满1500减200", "一年未购的老朋友回归礼，30天内有效。",
          DiscountKind.THRESHOLD, "200", min_spend="1500", valid_days=30),
    Offer("gold", "金卡专享：满5000减500", "金卡及钻石卡会员专享，线上线下通用，每人限用两次。",
          DiscountKind.THRESHOLD, "500", min_spend="5000", days=(-30, 60), per_member_limit=2),
    Offer("ended", "会员日：满1500减150", "会员日限时优惠（已结束）。",
          DiscountKind.THRESHOLD, "150", min_spend="1500", days=(-40, -10)),
]
PUBLIC_CODE = "LOVE520"
BATCH_SIZE = 200


def _definition_of(offer: Offer) -> CouponDefinition | None:
    return CouponDefinition.objects.filter(name=offer.name).order_by("pk").first()


def definitions_load(*, now: datetime, marketer: User | None) -> dict[str, CouponDefinition]:
    """The offers, found again by name."""
    today = timezone.localdate(now)
    categories = {c.slug: c for c in Category.objects.all()}
    tiers = {t.code: t for t in Tier.objects.all()}
    found: dict[str, CouponDefinition] = {}
    for offer in OFFERS:
        definition = _definition_of(offer)
        if definition is None:
            window = {}
            if offer.days:
                window = {"valid_from": _local(today + timedelta(days=offer.days[0]), time(0)),
                          "valid_until": _local(today + timedelta(days=offer.days[1]), time(0))}
            definition = CouponDefinition.objects.create(
                name=offer.name, description=offer.description, kind=offer.kind,
                value=Decimal(offer.value), min_spend=Decimal(offer.min_spend),
                cap=Decimal(offer.cap) if offer.cap else None, channel=offer.channel,
                valid_days=offer.valid_days, total_limit=offer.total_limit,
                per_member_limit=offer.per_member_limit,
                stacks_with_points=offer.stacks_with_points, created_by=marketer, **window)
            definition.categories.set([categories[s] for s in offer.categories if s in categories])
            definition.birthday_tiers.set([tiers[c] for c in offer.birthday_tiers if c in tiers])
        found[offer.key] = definition
    return found


@dataclass(frozen=True)
class CouponsResult:
    definitions: int
    issued: int


def coupons_load(*, now: datetime, members: list[User], shopper: User,
                 marketer: User | None) -> CouponsResult:
    """The offers and their coupons: 200 printed codes, the public code, wallets (the
    shopper's, about 30% of the members), birthday gifts of the last two weeks. Each
    offer is issued once (skipped when it has coupons)."""
    rng = random.Random("2026:loyalty:coupons")
    offers = definitions_load(now=now, marketer=marketer)
    before = Coupon.objects.count()
    issued = set(Coupon.objects.filter(definition__in=offers.values())
                 .values_list("definition_id", flat=True).distinct())

    def fresh(key: str) -> CouponDefinition | None:
        return None if offers[key].pk in issued else offers[key]

    people = sorted(members, key=lambda m: m.pk)
    tiers = dict(MemberProfile.objects.filter(user__in=people + [shopper])
                 .values_list("user_id", "tier__code"))
    if definition := fresh("store"):
        coupon_batch_create(definition=definition, quantity=BATCH_SIZE,
                            note="门店周年庆 · 各店收银台派发", actor=marketer)
        coupon_issue(definition=definition, member=shopper, actor=marketer)
    if (definition := fresh("love520")) and not Coupon.objects.filter(code=PUBLIC_CODE).exists():
        coupon_public_create(definition=definition, code=PUBLIC_CODE, actor=marketer)
    if definition := fresh("threshold"):
        chosen = [m for m in people if rng.random() < 0.18]
        coupons_issue_to_members(definition=definition, members=[shopper, *chosen],
                                 actor=marketer)
    if definition := fresh("rings"):
        ringed = set(MemberProfile.objects.filter(user__in=people).exclude(ring_size="")
                     .values_list("user_id", flat=True))
        chosen = [m for m in people if m.pk in ringed and rng.random() < 0.2]
        coupons_issue_to_members(definition=definition, members=[shopper, *chosen],
                                 actor=marketer)
    if definition := fresh("welcome"):
        recent = [m for m in people if m.date_joined >= now - timedelta(days=30)]
        coupons_issue_to_members(definition=definition, members=recent, actor=None)
    if definition := fresh("gold"):
        # The member day's invitation list: the shopper and about half of the gold and
        # diamond members (the marketer's pick; most members hold no coupon at all).
        vip = [shopper, *(m for m in people
                          if tiers.get(m.pk) in ("gold", "diamond") and rng.random() < 0.5)]
        coupons_issue_to_members(definition=definition, members=vip, actor=marketer)
        coupon_issue(definition=definition, member=shopper, actor=marketer)  # she has two
    if definition := fresh("ended"):
        # Issued while it ran; the shopper never used hers: it shows as expired.
        start = definition.valid_from or now - timedelta(days=40)
        for member in [shopper, *(m for m in people if rng.random() < 0.1)]:
            coupon = coupon_issue(definition=definition, member=member, actor=marketer,
                                  now=start + timedelta(hours=10))
            Coupon.objects.filter(pk=coupon.pk).update(issued_at=start + timedelta(hours=10))
    if definition := fresh("birthday"):
        _birthdays_load(definition=definition, now=now)
    return CouponsResult(len(offers), Coupon.objects.count() - before)


def _birthdays_load(*, definition: CouponDefinition, now: datetime) -> None:
    """The birthday gifts given over the last two weeks (dated then); today's are the
    birthday journey's (devtools.demo.journeys)."""
    today = timezone.localdate(now)
    for back in range(14, 0, -1):
        day = today - timedelta(days=back)
        at = _local(day, time(8))
        # The nightly task's own rule for whose birthday it is (Feb 29 included).
        for profile in (MemberProfile.objects
                        .filter(birthday_matches(day), tier__in=definition.birthday_tiers.all())
                        .select_related("user").order_by("user_id")):
            coupon = coupon_issue(definition=definition, member=profile.user,
                                  occasion=f"birthday-{day.year}", now=at)
            Coupon.objects.filter(pk=coupon.pk).update(issued_at=at)


# --- Today's orders with coupons and points ---------------------------------------------------


@dataclass(frozen=True)
class LoyaltyOrders:
    online: int
    counter: int


class _Pieces:
    """Pieces a loyalty order can take: active, priced today, in a price range (and a
    category), at least one available at the place; never one of a kind; each once."""

    def __init__(self, *, products: list[LoadedProduct], rng: random.Random):
        self.rng = rng
        self.unique = {v.pk for p in products if p.spec.unique for v in p.variants}
        self.used: set[int] = set()
        self.rates = rates_in_force()

    def find(self, store: Store, *, low: int, high: int, category: str = "",
             wanted: int = 1) -> tuple[Variant, Decimal] | None:
        levels = (StockLevel.objects
                  .filter(store=store, on_hand__gte=F("reserved") + wanted,
                          variant__is_active=True, variant__product__is_active=True)
                  .exclude(variant_id__in=self.used | self.unique)
                  .select_related("variant__product").order_by("variant__sku"))
        if category:
            levels = levels.filter(Q(variant__product__category__slug=category)
                                   | Q(variant__product__category__parent__slug=category))
        found = []
        for level in levels:
            variant = level.variant
            if variant.pricing_mode == PricingMode.BY_WEIGHT and (
                    (variant.metal, variant.purity) not in self.rates or not variant.weight_g):
                continue
            price = variant_price(variant=variant, rates=self.rates).amount
            if low <= price <= high:
                found.append((variant, price))
        if not found:
            return None
        variant, price = self.rng.choice(found[:8])
        self.used.add(variant.pk)
        return variant, price


def _holders(definition: CouponDefinition, people: list[User]) -> list[tuple[User, str]]:
    """Members (of ``people``) holding an unused coupon of ``definition``, with its code."""
    by_pk = {m.pk: m for m in people}
    rows = (Coupon.objects.filter(definition=definition, member__in=people, status="issued")
            .order_by("member_id", "pk").values_list("member_id", "code"))
    seen, found = set(), []
    for member_id, code in rows:
        if member_id not in seen:
            seen.add(member_id)
            found.append((by_pk[member_id], code))
    return found


def loyalty_orders_load(*, stores: dict[str, Store], staff: dict[str, list[User]],
                        shopper: User, members: list[User],
                        products: list[LoadedProduct]) -> LoyaltyOrders:
    """Today's orders that use coupons and points, once (found again by their "placed"
    event's ``via``): online through order_place (wallet coupons, the public code, points),
    at the counters through order_sell_at_counter (printed codes, a wallet coupon, points).
    The shopper pays part of a ring with her 戒指9折 coupon and points, and a gold
    members' coupon on a pickup in Shanghai. Returns how many of each were made."""
    if OrderEvent.objects.filter(kind="placed", data__via=LIVE_VIA).exists():
        return LoyaltyOrders(0, 0)
    offers = {o.key: _definition_of(o) for o in OFFERS}
    if any(d is None for d in offers.values()):
        return LoyaltyOrders(0, 0)
    rng = random.Random("2026:loyalty:orders")
    pieces = _Pieces(products=products, rng=rng)
    shops = {s.code: s for s in stores.values() if s.kind == StoreKind.STORE}
    order_shops = sorted(shops.values(), key=lambda s: s.code)
    depot = next(s for s in stores.values() if s.kind == StoreKind.WAREHOUSE)
    people = sorted(members, key=lambda m: m.pk)
    made: list[Order] = []
    online = counter = 0

    def points_for(member: User, amount: Decimal, share: float = 0.6, keep: int = 0) -> int:
        balance = points_balance(member=member)
        most = points_max_for(amount=amount, balance=max(balance - keep, 0))
        return int(most * (1 if keep else share)) // 100 * 100

    def place(member: User | None, *, at: Store, pickup: bool, low: int, high: int,
              code: str = "", category: str = "", use_points: bool = False, keep: int = 0,
              discount: Decimal = Decimal(0)) -> Order | None:
        nonlocal online
        piece = pieces.find(at, low=low, high=high, category=category)
        if piece is None:
            return None
        variant, price = piece
        points = points_for(member, price - discount, keep=keep) if use_points and member else 0
        contact = {} if member else {"contact_name": "何女士",
                                     "contact_phone": f"+86139{rng.randrange(10**8):08d}"}
        order = order_place(lines=[(variant, 1)],
                            fulfilment=Fulfilment.PICKUP if pickup else Fulfilment.DELIVERY,
                            store=at if pickup else None, stock_from=None if pickup else at,
                            member=member, coupon_code=code, points=points, via=LIVE_VIA,
                            **contact)
        order = order_pay(order=order, provider=PaymentProvider.TEST,
                          reference=f"DEMO-{order.number}", amount=order.total,
                          currency=order.currency, via=LIVE_VIA)
        made.append(order)
        online += 1
        return order

    def move(order: Order | None, *steps: str) -> None:
        for to in steps:
            if order is not None:
                order = order_transition(order=order, to=to, via=LIVE_VIA)

    def sell(store: Store | None, member: User | None, *, low: int, high: int, code: str = "",
             use_points: bool = False) -> Order | None:
        nonlocal counter
        clerks = staff.get(store.code) if store else None
        piece = pieces.find(store, low=low, high=high) if clerks else None
        if piece is None:
            return None
        variant, price = piece
        points = points_for(member, price, share=0.5) if use_points and member else 0
        provider = rng.choice([PaymentProvider.CARD_TERMINAL, PaymentProvider.ALIPAY,
                               PaymentProvider.WECHAT])
        order = order_sell_at_counter(
            store=store, staff=rng.choice(clerks), lines=[(variant, 1)], member=member,
            payment_provider=provider, payment_reference=f"POS{rng.randrange(10**10):010d}",
            contact_name="" if member else "郑先生", coupon_code=code, points=points)
        made.append(order)
        counter += 1
        return order

    shanghai = shops.get("sh-njxl") or order_shops[0]
    # The shopper: a ring with her 戒指9折 coupon and most of her points, to be sent; a
    # piece with one of her two gold members' coupons, waiting in Shanghai. Neither has
    # reached her yet, so a few thousand points stay until they earn her more.
    ring = _holders(offers["rings"], [shopper])
    if ring:
        place(shopper, at=depot, pickup=False, low=3000, high=20000, category="rings",
                  code=ring[0][1], use_points=True, keep=rng.randint(30, 45) * 100,
                  discount=Decimal(500))
    gold = _holders(offers["gold"], [shopper])
    if gold:
        place(shopper, at=shanghai, pickup=True, low=5200, high=30000, code=gold[0][1])

    # Members online: a wallet coupon, the public code (with points too), a new member's
    # gift picked up in a store, points alone. (Guests may not use a public code.)
    holders = _holders(offers["threshold"], people)
    if holders:
        member, code = holders[0]
        move(place(member, at=depot, pickup=False, low=2100, high=9000, code=code), S.SHIPPED)
    place(people[len(people) // 3], at=depot, pickup=False, low=600, high=3000,
          code=PUBLIC_CODE)  # a public code needs a signed-in member
    rich = list(MemberProfile.objects.filter(user__in=people, points_balance__gte=3000)
                .order_by("user_id").values_list("user_id", flat=True))
    by_pk = {m.pk: m for m in people}
    if rich:
        move(place(by_pk[rich[0]], at=depot, pickup=False, low=800, high=6000, code=PUBLIC_CODE,
                   use_points=True, discount=Decimal(52)), S.SHIPPED, S.DELIVERED)
    welcome = _holders(offers["welcome"], people)
    if welcome:
        member, code = welcome[0]
        place(member, at=rng.choice(order_shops), pickup=True, low=850, high=4000, code=code)
    if len(rich) > 1:
        store = rng.choice(order_shops)
        move(place(by_pk[rich[1]], at=store, pickup=True, low=1000, high=8000, use_points=True),
             S.COLLECTED)

    # At the counters: printed codes (a walk-in, and a member), a wallet coupon, points.
    printed = list(Coupon.objects.filter(definition=offers["store"], batch__isnull=False,
                                         status="issued").order_by("pk")
                   .values_list("code", flat=True)[:2])
    if printed:
        sell(shanghai, None, low=3100, high=20000, code=printed[0])
    if len(printed) > 1:
        sell(shops.get("cd-taikooli"), people[len(people) // 2], low=3100, high=20000,
             code=printed[1])
    if len(rich) > 2:
        sell(shops.get("bj-guomao"), by_pk[rich[2]], low=1000, high=20000, use_points=True)
    if len(holders) > 1:
        member, code = holders[1]
        sell(shops.get("sz-mixc"), member, low=2100, high=12000, code=code)

    for order in made:
        order_emails_skip(order=order, reason="demo")
    return LoyaltyOrders(online, counter)


def loyalty_summary() -> str:
    redemptions = dict(Redemption.objects.filter(reversed_at__isnull=True)
                       .values("channel").annotate(n=Count("pk")).values_list("channel", "n"))
    points = dict(PointsEntry.objects.filter(kind=PointsKind.REDEEM).values("channel")
                  .annotate(n=Count("pk")).values_list("channel", "n"))
    return (f"coupons online {redemptions.get('online', 0)}, in store "
            f"{redemptions.get('store', 0)}; points online {points.get('online', 0)}, "
            f"in store {points.get('store', 0)}")
