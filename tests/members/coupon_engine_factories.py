"""What the coupon engine, points and tier tests build: definitions, coupons, a known tier
ladder and pieces in a small category tree. Plain functions over the models (issued
through marketing's services where the expiry from issue matters)."""

from decimal import Decimal
from itertools import count

from catalog.models import Category, Collection, Product, Variant
from members.models import Coupon, CouponDefinition, DiscountKind, MemberProfile, Tier

_seq = count(1)

D = Decimal

# code, name, min_spend, multiplier: a ladder the tests know (the migration's may change).
LADDER = [
    ("t-classic", "普卡", D("0.00"), D("1.00")),
    ("t-silver", "银卡", D("10000.00"), D("1.20")),
    ("t-gold", "金卡", D("50000.00"), D("1.50")),
]


def tiers_ladder(ladder=LADDER) -> dict[str, Tier]:
    """Replace the tier table by ``ladder`` (profiles first leave their tier)."""
    MemberProfile.objects.update(tier=None)
    Tier.objects.all().delete()
    return {code: Tier.objects.create(code=code, name=name, name_en=code, min_spend=spend,
                                      points_multiplier=multiplier)
            for code, name, spend, multiplier in ladder}


def definition(*, categories=(), collections=(), products=(), excluded_categories=(),
               excluded_products=(), **fields) -> CouponDefinition:
    fields.setdefault("name", f"Offer {next(_seq)}")
    fields.setdefault("kind", DiscountKind.AMOUNT)
    fields.setdefault("value", D("100.00"))
    fields.setdefault("per_member_limit", 99)
    made = CouponDefinition.objects.create(**fields)
    made.categories.set(categories)
    made.collections.set(collections)
    made.products.set(products)
    made.excluded_categories.set(excluded_categories)
    made.excluded_products.set(excluded_products)
    return made


def coupon(of: CouponDefinition | None = None, *, code: str | None = None, member=None,
           max_uses: int | None = 1, **fields) -> Coupon:
    """A coupon row of ``of`` (a new amount-off definition if None): single use unless
    ``max_uses`` says otherwise (None: a public code)."""
    return Coupon.objects.create(definition=of or definition(),
                                 code=code or f"TESTCODE{next(_seq):06d}",
                                 member=member, max_uses=max_uses, **fields)


def category(name: str, parent: Category | None = None) -> Category:
    n = next(_seq)
    return Category.objects.create(name=name, name_en=name, slug=f"cat-{n}", parent=parent)


def collection(name: str) -> Collection:
    n = next(_seq)
    return Collection.objects.create(name=name, name_en=name, slug=f"col-{n}")


def piece(*, in_category: Category, price: str = "1000.00", collections=()) -> Variant:
    n = next(_seq)
    product = Product.objects.create(name=f"件{n}", name_en=f"Piece {n}", slug=f"piece-{n}",
                                     category=in_category, material="gold")
    product.collections.set(collections)
    return Variant.objects.create(product=product, sku=f"CPN-{n:05d}", pricing_mode="fixed",
                                  list_price=D(price))
