import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import JSONObject, RowNumber
from django.http import Http404
from django.urls import reverse
from django.utils.translation import get_language

from .availability import availability
from .cache import catalog_version, depend_on_stock
from .models import (
    AffinityKind,
    Category,
    Certificate,
    Collection,
    Product,
    ProductAffinity,
    ProductImage,
    Variant,
    WishlistItem,
    WordProduct,
)
from .pricing import Price, PriceUnavailable, RateKey, rates_in_force, variant_price
from .search import ParsedQuery, parse_query, search_filter

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


# --- Cards: a row of products in one query ----------------------------------------------
#
# A card shows the product, its category, its first picture and its "from" price (the
# derived ``price_from`` column). The picture and whether the price varies come as
# annotations of the same query, so a row of cards costs one query, whatever its length.


def _cover(product_ref: str) -> Subquery:
    """The first picture of the product at ``product_ref``, as a JSON object."""
    return Subquery(
        ProductImage.objects.filter(product_id=OuterRef(product_ref))
        .order_by("position", "id")
        .values(data=JSONObject(original="original", alt="alt", renditions="renditions"))[:1]
    )


def _price_varies(product_ref: str, price_ref: str) -> Exists:
    """True when an active variant costs more than the product's lowest price."""
    return Exists(Variant.objects.filter(product_id=OuterRef(product_ref), is_active=True,
                                         current_price__gt=OuterRef(price_ref)))


def product_cards(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """``queryset`` with what a card shows, read in its own query (no prefetch).

    Call ``cards_ready`` on the fetched rows before rendering them.
    """
    return queryset.select_related("category").annotate(
        cover=_cover("pk"), price_varies=_price_varies("pk", "price_from"))


def _cover_image(product_id: int, data: dict | None) -> ProductImage | None:
    if not data:
        return None
    return ProductImage(product_id=product_id, original=data.get("original") or "",
                        alt=data.get("alt") or "", renditions=data.get("renditions") or {})


def with_cover(queryset: QuerySet, product_ref: str) -> QuerySet:
    """``queryset`` annotated with ``cover``: the first picture of the product at
    ``product_ref`` (e.g. a cart line's "variant__product_id"), in the same query."""
    return queryset.annotate(cover=_cover(product_ref))


# What selling a piece reads of it and its product: pricing (catalog.pricing), the checks
# of the bag and of an order, the line's name and link. Not the product's descriptions,
# search text or tags: the purchase's queries are lighter without them.
SALE_FIELDS = ("sku", "product_id", "metal", "purity", "weight_g", "pricing_mode",
               "list_price", "labour_fee", "is_active", "product__name", "product__name_en",
               "product__slug", "product__is_active")


def for_sale(queryset: QuerySet, variant_ref: str = "") -> QuerySet:
    """``queryset`` of variants (or of rows with a variant at ``variant_ref``, e.g.
    "variant" for cart lines, whose own fields are kept) reading only the piece and
    product fields of ``SALE_FIELDS``; it must ``select_related`` the product."""
    if not variant_ref:
        return queryset.only(*SALE_FIELDS)
    own = [f.attname for f in queryset.model._meta.concrete_fields]
    return queryset.only(*own, *(f"{variant_ref}__{name}" for name in SALE_FIELDS))


def cover_image(product_id: int, data: dict | None) -> ProductImage | None:
    """A ``with_cover`` annotation as an unsaved ProductImage for ``product_picture``."""
    return _cover_image(product_id, data)


def cards_ready(products: Sequence[Product]) -> list[Product]:
    """Turn the ``cover`` annotation into ``cover_image`` (an unsaved ProductImage) for
    the ``product_picture`` tag."""
    products = list(products)
    for product in products:
        product.cover_image = _cover_image(product.pk, getattr(product, "cover", None))
    return products


class WordMatches:
    """The products a search for one kept catalog word finds, best match first (the
    search's rank for it: the word in the name, popularity, newest id), as a Paginator's
    list: a slice reads its ids from the kept order (catalog.facet_counts' WordProduct,
    from the index), then those products as cards; ``total`` is the kept count."""

    def __init__(self, word: str, total: int):
        self.word, self.total = word, total

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: slice) -> list[Product]:
        if not isinstance(index, slice):
            raise TypeError("WordMatches takes slices")
        ids = list(WordProduct.objects.filter(word=self.word)
                   .order_by("-in_name", "-popularity", "-product_id")
                   .values_list("product_id", flat=True)[index])
        if not ids:
            return []
        found = {p.pk: p for p in product_cards(Product.objects.active().filter(pk__in=ids))}
        return [found[pk] for pk in ids if pk in found]


def products_by_ids(ids: Sequence[int]) -> list[Product]:
    """The active products among ``ids``, as cards, in the order of ``ids``: one query."""
    ids = [pk for pk in ids if isinstance(pk, int)]
    if not ids:
        return []
    found = {p.pk: p for p in product_cards(Product.objects.active().filter(pk__in=ids))}
    return cards_ready([found[pk] for pk in ids if pk in found])


def product_affinities(product_id: int, *, per_kind: int = 4,
                       category_id: int | None = None) -> dict[str, list[Product]]:
    """The ``per_kind`` strongest partners of each affinity kind, as cards: one query.

    ``{"viewed": [...], "bought": [...], "related": [...]}``; inactive partners are left
    out. ``related``: the most popular active pieces of ``category_id``, fetched in the
    same query and shown when there is no partner yet (a new shop, a new piece: the
    nightly insights have nothing to say), so the page still offers a way on.
    """
    def score(kind: str) -> Subquery:
        return Subquery(ProductAffinity.objects.filter(
            product_id=product_id, other_id=OuterRef("pk"), kind=kind).values("score")[:1])

    def rank(partition, *order) -> Window:
        return Window(RowNumber(), partition_by=[partition], order_by=list(order))

    partners = ProductAffinity.objects.filter(product_id=product_id).values("other_id")
    wanted = Q(pk__in=partners)
    in_category = Q(category_id=category_id) if category_id is not None else Q(pk__in=[])
    has = {kind: Case(When(**{f"{kind}_score__isnull": False}, then=Value(1)), default=Value(0))
           for kind in AffinityKind.values}
    rows = (
        product_cards(Product.objects.active().filter(wanted | in_category)
                      .exclude(pk=product_id))
        .annotate(**{f"{kind}_score": score(kind) for kind in AffinityKind.values})
        .annotate(**{f"{kind}_rank": rank(has[kind], F(f"{kind}_score").desc(), F("pk").asc())
                     for kind in AffinityKind.values},
                  related_rank=rank(Case(When(in_category, then=Value(1)), default=Value(0)),
                                    F("popularity").desc(), F("pk").desc()))
    )
    keep = Q(related_rank__lte=per_kind) & in_category
    for kind in AffinityKind.values:
        keep |= Q(**{f"{kind}_rank__lte": per_kind, f"{kind}_score__isnull": False})
    found: dict[str, list[Product]] = {kind: [] for kind in [*AffinityKind.values, "related"]}
    ranked: dict[str, list[tuple[int, Product]]] = {kind: [] for kind in found}
    for product in cards_ready(rows.filter(keep)):
        for kind in AffinityKind.values:
            if getattr(product, f"{kind}_score") is not None and \
                    getattr(product, f"{kind}_rank") <= per_kind:
                ranked[kind].append((getattr(product, f"{kind}_rank"), product))
        if product.category_id == category_id and product.related_rank <= per_kind:
            ranked["related"].append((product.related_rank, product))
    for kind, pairs in ranked.items():
        found[kind] = [product for _rank, product in sorted(pairs, key=lambda pair: pair[0])]
    if any(found[kind] for kind in AffinityKind.values):
        found["related"] = []  # partners say more than the category
    return found


# --- Certificates ----------------------------------------------------------------------

_CERTIFICATE_LABS = re.compile(r"^(gia|igi|ngtc|hrd|nctc)[\s:#-]*", re.I)


def certificate_number_clean(text: str) -> tuple[str, str]:
    """(lab or "", number) as typed in a search box: "GIA 2141438171", "igi-LG5123..."
    -> ("GIA", "2141438171"). Full-width forms, spaces and dashes do not count."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    lab = ""
    found = _CERTIFICATE_LABS.match(text)
    if found:
        lab, text = found.group(1).upper(), text[found.end():]
    return lab, re.sub(r"[\s-]", "", text).upper()[:40]


def looks_like_certificate_number(text: str) -> bool:
    _lab, number = certificate_number_clean(text)
    return len(number) >= 6 and sum(c.isdigit() for c in number) >= 5 and number.isalnum()


def certificate_lookup(text: str) -> Certificate | None:
    """The certificate with this number (and lab, when typed), with the piece that
    carries it; None when no piece of ours does. One query."""
    lab, number = certificate_number_clean(text)
    if not number:
        return None
    found = (Certificate.objects.select_related("variant__product__category")
             .filter(number__iexact=number))
    if lab:
        found = found.filter(lab=lab)
    return found.order_by("lab").first()


# --- Search suggestions ----------------------------------------------------------------


@dataclass(frozen=True)
class Suggestions:
    query: ParsedQuery
    products: list[Product]
    categories: list[Category]


def search_suggestions(text: str, *, products: int = 6, categories: int = 3) -> Suggestions:
    """The best-matching active products (as cards) and the categories whose name holds
    a term of ``text``: two queries (plus the search vocabulary on a cold cache)."""
    parsed = parse_query(text)
    if not parsed.terms:
        return Suggestions(parsed, [], [])
    found = product_cards(search_filter(Product.objects.active(), parsed)).order_by(
        "-search_rank", "-popularity", "-id")[:products]
    names = Q()
    for term in parsed.terms:
        names |= Q(name__icontains=term) | Q(name_en__icontains=term)
    matching = Category.objects.filter(names, is_active=True).order_by("position", "id")
    return Suggestions(parsed, cards_ready(found), list(matching[:categories]))


# --- Wishlist --------------------------------------------------------------------------


def product_is_active(product_id: int) -> bool:
    return Product.objects.active().filter(pk=product_id).exists()


def product_by_slug(slug: str) -> Product | None:
    """A product by its slug, active or not (a member may forget a piece taken off sale)."""
    return Product.objects.filter(slug=slug).first()


def wishlist_products(user) -> list[Product]:
    """The member's saved pieces as cards, newest first (one query). A piece taken off
    sale stays listed with ``is_active`` False."""
    items = (
        WishlistItem.objects.filter(user=user)
        .select_related("product", "product__category")
        .annotate(cover=_cover("product_id"),
                  price_varies=_price_varies("product_id", "product__price_from"))
        .order_by("-created_at", "-id")
    )
    products = []
    for item in items:
        product = item.product
        product.cover_image = _cover_image(product.pk, item.cover)
        product.price_varies = item.price_varies
        products.append(product)
    return products


def wishlist_has(user, product_id: int) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    # A plain statement: the product page asks this on every signed-in view, and building
    # it through the ORM was about a tenth of the page's Python calls (profiled).
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM catalog_wishlistitem WHERE user_id = %s AND product_id = %s"
                       " LIMIT 1", [user.pk, product_id])
        return cursor.fetchone() is not None


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


def category_menu(*, version: int | None = None) -> list[MenuCategory]:
    """Top-level active categories with their active children (at catalog ``version``,
    when the caller has read it already: the request's).

    Cached for ten minutes: one query on a cold cache, none on a warm one.
    """
    key = _category_menu_key(version)
    menu = cache.get(key)
    if menu is None:
        menu = _category_menu_build()
        cache.set(key, menu, CATEGORY_MENU_TIMEOUT)
    return menu


def _category_menu_key(version: int | None = None) -> str:
    return CATEGORY_MENU_KEY.format(version=catalog_version() if version is None else version)


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


def _store_url(code: str) -> str:
    return reverse("stores:detail", kwargs={"code": code})


def _availability(variant_ids: list[int]) -> dict[int, list[dict]]:
    """Pieces on the shop floors (not warehouses) per variant, in one query."""
    lang = get_language() or ""
    found: dict[int, list[dict]] = {}
    depend_on_stock(variant_ids)  # before the read: a sale after it makes the copy stale
    for variant_id, store, available in availability().shop_floor(variant_ids):
        found.setdefault(variant_id, []).append({
            "store": store.code,
            "store_name": store.title,
            "city": store.city_en if lang.startswith("en") and store.city_en else store.city,
            "available": available,
            "url": _store_url(store.code),
        })
    for places in found.values():
        places.sort(key=lambda place: place["store"])
    return found


def _variant_data_set(product: Product) -> Product:
    """Attach ``variant_data``: each active variant priced now (one rate query), with its
    certificates and the shops that have it (one query). ``variant`` and ``price_info``
    (the Variant and its ``Price`` or None) are there for the pages."""
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
            "variant": row.variant,
            "price_info": row.price,
        }
        for row in rows
    ]
    return product


def product_detail(*, pk) -> Product:
    """One active product for the API, with ``variant_data`` (see ``_variant_data_set``).
    Raises Http404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    product = _products_for_page().filter(pk=pk).first()
    if product is None:
        raise Http404
    return _variant_data_set(product)


def product_page(*, slug: str) -> Product:
    """One active product for its page: category path, images, ``variant_data``.
    Six queries whatever the number of variants, pictures or shops. Raises Http404."""
    product = product_for_page(slug)
    if product is None:
        raise Http404
    return _variant_data_set(product)
