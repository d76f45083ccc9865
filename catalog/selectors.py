from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import get_language

from .cache import catalog_version
from .models import Category, Collection, Product, ProductImage, Variant
from .pricing import Price, PriceUnavailable, RateKey, rates_in_force, variant_price

PRODUCTS_PER_PAGE = 24

# Bump v1 when MenuCategory changes shape: old pickles are then ignored. The catalog
# version token (catalog.cache) is in the key too, so catalog_changed() refreshes the menu.
CATEGORY_MENU_KEY = "catalog:category-menu:v1:{version}"
CATEGORY_MENU_TIMEOUT = 10 * 60


def products_for_display() -> QuerySet[Product]:
    return Product.objects.active().select_related("category").prefetch_related(
        Prefetch("variants", queryset=Variant.objects.filter(is_active=True)),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
    )


def _prices(product: Product, rates: dict[RateKey, Decimal]) -> set[Decimal]:
    prices = set()
    for variant in product.variants.all():
        try:
            prices.add(variant_price(variant=variant, rates=rates).amount)
        except PriceUnavailable:
            continue
    return prices


def price_from(product: Product, rates: dict[RateKey, Decimal]) -> Decimal | None:
    """The lowest price among the product's variants, or None if none can be priced."""
    prices = _prices(product, rates)
    return min(prices) if prices else None


def prices_from_set(products: list[Product]) -> list[Product]:
    """Set ``price_from`` (lowest price or None) and ``price_varies`` on each product,
    with one rate query for them all."""
    if products:
        rates = rates_in_force()
        for product in products:
            prices = _prices(product, rates)
            product.price_from = min(prices) if prices else None
            product.price_varies = len(prices) > 1
    return products


def home_page(*, new_count: int = 8) -> dict:
    """Collections and the newest pieces, each with its 'from' price: a fixed few queries."""
    newest = prices_from_set(list(products_for_display().order_by("-created_at", "-id")[:new_count]))
    collections = list(Collection.objects.filter(is_active=True).order_by("position", "id")[:6])
    return {"new_products": newest, "collections": collections}


# --- Product list -------------------------------------------------------------------


def product_search(
    *, q: str = "", category: Category | None = None, collection: Collection | None = None
) -> QuerySet[Product]:
    """Active products for the list page, newest first.

    ``q`` is a plain substring match on the names and descriptions (the real
    search arrives later); ``category`` takes in its children too.
    """
    products = products_for_display()
    if q:
        products = products.filter(
            Q(name__icontains=q) | Q(name_en__icontains=q)
            | Q(description__icontains=q) | Q(description_en__icontains=q)
        )
    if category is not None:
        products = products.filter(Q(category=category) | Q(category__parent=category))
    if collection is not None:
        products = products.filter(collections=collection)
    return products.order_by("-created_at", "-id")


def category_by_slug(slug: str) -> Category | None:
    return Category.objects.filter(slug=slug, is_active=True).select_related("parent").first()


def collection_by_slug(slug: str) -> Collection | None:
    return Collection.objects.filter(slug=slug, is_active=True).first()


# --- Product page -------------------------------------------------------------------


@dataclass(frozen=True)
class VariantRow:
    variant: Variant
    price: Price | None
    unavailable_reason: str = ""


def _products_for_page() -> QuerySet[Product]:
    return Product.objects.active().select_related("category", "category__parent").prefetch_related(
        Prefetch(
            "variants",
            queryset=Variant.objects.filter(is_active=True).prefetch_related("certificates"),
        ),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
    )


def product_for_page(slug: str) -> Product | None:
    """One active product with what its page shows: variants with certificates, images."""
    return _products_for_page().filter(slug=slug).first()


def variant_rows(product: Product) -> list[VariantRow]:
    """The product's variants, each priced now (one rate query for them all)."""
    rates = rates_in_force()
    rows = []
    for variant in product.variants.all():
        try:
            rows.append(VariantRow(variant, variant_price(variant=variant, rates=rates)))
        except PriceUnavailable as exc:
            rows.append(VariantRow(variant, None, str(exc)))
    return rows


# --- Category menu (every page's header) ---------------------------------------------


@dataclass(frozen=True)
class MenuCategory:
    """A cached, language-neutral menu entry; ``title`` picks the language at render time."""

    slug: str
    name: str
    name_en: str
    children: tuple["MenuCategory", ...] = field(default=())

    @property
    def title(self) -> str:
        lang = get_language() or ""
        return self.name_en if lang.startswith("en") and self.name_en else self.name

    @property
    def url(self) -> str:
        return f"{reverse('catalog:product_list')}?category={self.slug}"


def _category_menu_build() -> list[MenuCategory]:
    rows = list(
        Category.objects.filter(is_active=True)
        .order_by("position", "id")
        .values_list("id", "parent_id", "slug", "name", "name_en")
    )
    children: dict[int, list[MenuCategory]] = {}
    for _id, parent_id, slug, name, name_en in rows:
        if parent_id is not None:
            children.setdefault(parent_id, []).append(MenuCategory(slug, name, name_en))
    return [
        MenuCategory(slug, name, name_en, tuple(children.get(pk, ())))
        for pk, parent_id, slug, name, name_en in rows
        if parent_id is None
    ]


def category_menu() -> list[MenuCategory]:
    """Top-level active categories with their active children.

    Cached for ten minutes: one query on a cold cache, none on a warm one.
    """
    key = _category_menu_key()
    menu = cache.get(key)
    if menu is None:
        menu = _category_menu_build()
        cache.set(key, menu, CATEGORY_MENU_TIMEOUT)
    return menu


def _category_menu_key() -> str:
    return CATEGORY_MENU_KEY.format(version=catalog_version())


def category_menu_invalidate() -> None:
    """Forget the cached menu; the catalog admin calls this after a category changes."""
    cache.delete(_category_menu_key())


# --- The catalog API's reads (catalog.api) ----------------------------------------------


def products_for_cards() -> QuerySet[Product]:
    """Active products as list cards show them: category and ordered images, newest first.

    ``price_from`` here is the derived column kept by catalog.services (it filters and
    sorts in SQL); callers may re-order.
    """
    return (
        Product.objects.active()
        .select_related("category")
        .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")))
        .order_by("-created_at", "-id")
    )


def _availability(variant_ids: list[int]) -> dict[int, list[dict]]:
    """Pieces on the shop floors (not warehouses) per variant, in one query."""
    # A read of stores' rows from catalog's read layer, as catalog.filters does.
    from stores.models import StockLevel, StoreKind

    levels = (
        StockLevel.objects.filter(variant_id__in=variant_ids, store__is_active=True,
                                  store__kind=StoreKind.STORE, on_hand__gt=F("reserved"))
        .select_related("store")
        .order_by("store__code")
    )
    lang = get_language() or ""
    found: dict[int, list[dict]] = {}
    for level in levels:
        store = level.store
        found.setdefault(level.variant_id, []).append({
            "store": store.code,
            "store_name": store.title,
            "city": store.city_en if lang.startswith("en") and store.city_en else store.city,
            "available": level.available,
        })
    return found


def product_detail(*, pk) -> Product:
    """One active product for the API, with ``variant_data``: each variant priced now
    (one rate query), its certificates and where it can be seen. Raises Http404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    product = _products_for_page().filter(pk=pk).first()
    if product is None:
        raise Http404
    rows = variant_rows(product)
    availability = _availability([row.variant.pk for row in rows])
    product.variant_data = [
        {
            "id": row.variant.pk,
            "sku": row.variant.sku,
            "size": row.variant.size,
            "metal": row.variant.metal,
            "purity": row.variant.purity,
            "weight_g": row.variant.weight_g,
            "stone_carat": row.variant.stone_carat,
            "pricing_mode": row.variant.pricing_mode,
            "price": row.price.amount if row.price else None,
            "rate_per_gram": row.price.rate_per_gram if row.price else None,
            "labour_fee": row.price.labour_fee if row.price else None,
            "unavailable_reason": row.unavailable_reason,
            "certificates": list(row.variant.certificates.all()),
            "availability": availability.get(row.variant.pk, []),
        }
        for row in rows
    ]
    return product
