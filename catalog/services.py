"""Every write to the catalog. The admin, the API, tasks and the demo loader call these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from o2o.errors import ApplicationError

from .cache import catalog_changed
from .facet_counts import facets_refresh, word_popularity_refresh
from .floor import floor_rebuild
from .models import (
    AffinityKind,
    Category,
    Gemstone,
    Material,
    Metal,
    MetalRate,
    PricingMode,
    Product,
    ProductAffinity,
    Variant,
    VariantPriceChange,
    WishlistItem,
)
from .pricing import PriceUnavailable, rates_in_force, variant_price

BATCH = 2000


# --- Prices ------------------------------------------------------------------------


def prices_refresh(*, variant_ids: Iterable[int] | None = None, reason: str = "refresh",
                   at: datetime | None = None) -> int:
    """Bring ``Variant.current_price`` and ``Product.price_from`` up to the price in force.

    Prices come from ``variant_price`` with the rates in force at ``at`` (one rate
    query for the whole run). Each variant whose price changed, or stopped being
    sellable, gets a ``VariantPriceChange`` row. Works in batches by id; safe to run
    twice (the second run finds nothing to change). Returns how many changed.
    """
    at = at or timezone.now()
    rates = rates_in_force(at)
    queryset = Variant.objects.order_by("id").only(
        "id", "product_id", "pricing_mode", "list_price", "metal", "purity", "weight_g",
        "labour_fee", "current_price", "sku")
    if variant_ids is not None:
        queryset = queryset.filter(id__in=list(variant_ids))
    changed_total = 0
    last_id = 0
    while True:
        batch = list(queryset.filter(id__gt=last_id)[:BATCH])
        if not batch:
            break
        last_id = batch[-1].id
        changed: list[Variant] = []
        for variant in batch:
            try:
                price: Decimal | None = variant_price(variant=variant, rates=rates).amount
            except PriceUnavailable:
                price = None
            if price != variant.current_price:
                variant.current_price = price
                changed.append(variant)
        if changed:
            with transaction.atomic():
                Variant.objects.bulk_update(changed, ["current_price"])
                VariantPriceChange.objects.bulk_create(
                    VariantPriceChange(variant_id=v.id, price=v.current_price, at=at,
                                       reason=reason)
                    for v in changed
                )
                _products_price_from_refresh({v.product_id for v in changed})
                # A price may move its product into another price band.
                facets_refresh(product_ids={v.product_id for v in changed})
                catalog_changed()
            changed_total += len(changed)
    return changed_total


def _products_price_from_refresh(product_ids: set[int]) -> None:
    """``price_from`` = the lowest sellable active variant's price, in one UPDATE."""
    if not product_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE catalog_product p
               SET price_from = (SELECT MIN(v.current_price) FROM catalog_variant v
                                  WHERE v.product_id = p.id AND v.is_active)
             WHERE p.id = ANY(%s)
            """,
            [list(product_ids)],
        )


def metal_rate_create(*, metal: str, purity: str, rate_per_gram: Decimal,
                      valid_from: datetime | None = None, actor=None) -> MetalRate:
    """Enter a rate. Prices follow once it is in force (now, or by the minute task)."""
    if metal not in Metal.values or not metal:
        raise ApplicationError(_("Choose a metal."), code="invalid_metal")
    if rate_per_gram is None or rate_per_gram <= 0:
        raise ApplicationError(_("A rate must be more than zero."), code="invalid_rate")
    valid_from = valid_from or timezone.now()
    with transaction.atomic():
        if MetalRate.objects.filter(metal=metal, purity=purity, valid_from=valid_from).exists():
            raise ApplicationError(_("A rate for this metal and purity already starts then."),
                                   code="duplicate_rate")
        rate = MetalRate.objects.create(metal=metal, purity=purity, rate_per_gram=rate_per_gram,
                                        valid_from=valid_from, created_by=actor)
        if valid_from <= timezone.now():
            from .signals import metal_rate_entered
            from .tasks import prices_refresh_task

            transaction.on_commit(lambda: prices_refresh_task.delay(reason="metal_rate"))
            metal_rate_entered.send(sender=MetalRate, rate=rate, at=timezone.now())
    return rate


# --- Search ------------------------------------------------------------------------


def _labels(choices, value: str) -> list[str]:
    if not value:
        return []
    words = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            words.append(str(dict(choices)[value]))
    return words


# Chinese names for the kinds people type, whatever the label translations say.
_MATERIAL_WORDS = {
    "gold": "黄金 足金 金", "k18": "18k 金 k金", "platinum": "铂金 白金 pt",
    "silver": "银", "diamond": "钻石 钻", "jade": "玉 翡翠 和田玉", "pearl": "珍珠",
}
_GEM_WORDS = {"diamond": "钻石 钻", "jade": "玉 翡翠", "pearl": "珍珠", "ruby": "红宝石",
              "sapphire": "蓝宝石", "emerald": "祖母绿"}


def search_document_build(product: Product, categories: dict[int, Category]) -> str:
    parts = [product.name, product.name_en, product.style, " ".join(product.tags)]
    category = categories.get(product.category_id)
    seen: set[int] = set()
    while category is not None and category.id not in seen:  # a cycle must not hang us
        seen.add(category.id)
        parts += [category.name, category.name_en]
        category = categories.get(category.parent_id)
    for collection in product.collections.all():
        parts += [collection.name, collection.name_en]
    parts += _labels(Material.choices, product.material) + _labels(Gemstone.choices, product.gemstone)
    parts += [_MATERIAL_WORDS.get(product.material, ""), _GEM_WORDS.get(product.gemstone, "")]
    parts += [variant.sku for variant in product.variants.all()]
    return " ".join(" ".join(parts).lower().split())


def product_search_refresh(*, product_ids: Iterable[int] | None = None) -> int:
    """Rewrite ``search_document`` for the given products (all by default), and the words
    the search vocabulary keeps of them."""
    categories = {c.id: c for c in Category.objects.all()}
    queryset = Product.objects.order_by("id").prefetch_related("collections", "variants")
    if product_ids is not None:
        queryset = queryset.filter(id__in=list(product_ids))
    count = 0
    last_id = 0
    while True:
        batch = list(queryset.filter(id__gt=last_id)[:500])
        if not batch:
            break
        last_id = batch[-1].id
        for product in batch:
            product.search_document = search_document_build(product, categories)
        with transaction.atomic():
            Product.objects.bulk_update(batch, ["search_document"])
            # The search vocabulary's words are kept with the facets (catalog.facet_counts).
            facets_refresh(product_ids=[product.pk for product in batch])
        count += len(batch)
    catalog_changed()
    return count


# --- Products ------------------------------------------------------------------------


def products_changed(*, product_ids: Iterable[int]) -> None:
    """A merchandiser edited products or their variants: refresh what derives from them."""
    product_ids = list(product_ids)
    product_search_refresh(product_ids=product_ids)
    prices_refresh(variant_ids=Variant.objects.filter(product_id__in=product_ids)
                   .values_list("id", flat=True), reason="product_edit")
    # A variant deactivated or deleted changes no price but may change the lowest one.
    _products_price_from_refresh(set(product_ids))
    # What the list's facets show of them (category, collections, variants' metals and
    # sizes, price band), then which of them have a piece at which shop. The floor's
    # lock before the facets', as everywhere (catalog.facet_counts._lock).
    facets_refresh(product_ids=product_ids)
    floor_rebuild(product_ids=product_ids)
    catalog_changed()


def products_set_active(*, product_ids: Iterable[int], active: bool) -> int:
    product_ids = list(product_ids)
    with transaction.atomic():
        count = Product.objects.filter(id__in=list(product_ids)).exclude(
            is_active=active).update(is_active=active, updated_at=timezone.now())
        if count:
            facets_refresh(product_ids=product_ids)
            floor_rebuild(product_ids=product_ids)
        catalog_changed()
    return count


def product_popularity_set(*, scores: dict[int, int]) -> None:
    """Replace popularity with ``scores`` (product id -> score); others drop to 0."""
    with transaction.atomic():
        Product.objects.exclude(id__in=list(scores)).exclude(popularity=0).update(popularity=0)
        for product_id, score in scores.items():
            Product.objects.filter(id=product_id).update(popularity=score)
        word_popularity_refresh()  # the searches' kept best-match order
        catalog_changed()


def product_affinities_replace(*, kind: AffinityKind, pairs: dict[tuple[int, int], int],
                               keep: int = 8) -> int:
    """Replace the ``kind`` affinities with the top ``keep`` partners of each product."""
    by_product: dict[int, list[tuple[int, int]]] = {}
    for (product_id, other_id), score in pairs.items():
        if product_id != other_id and score > 0:
            by_product.setdefault(product_id, []).append((score, other_id))
    rows = [
        ProductAffinity(product_id=product_id, other_id=other_id, kind=kind, score=score)
        for product_id, partners in by_product.items()
        for score, other_id in sorted(partners, reverse=True)[:keep]
    ]
    with transaction.atomic():
        ProductAffinity.objects.filter(kind=kind).delete()
        ProductAffinity.objects.bulk_create(rows, batch_size=BATCH)
        catalog_changed()
    return len(rows)


# --- Wishlist ------------------------------------------------------------------------


def wishlist_add(*, user, product: Product) -> WishlistItem:
    item, _ = WishlistItem.objects.get_or_create(user=user, product=product)
    return item


def wishlist_remove(*, user, product: Product) -> None:
    WishlistItem.objects.filter(user=user, product=product).delete()


def by_weight_variant_ids() -> list[int]:
    return list(Variant.objects.filter(pricing_mode=PricingMode.BY_WEIGHT)
                .values_list("id", flat=True))
