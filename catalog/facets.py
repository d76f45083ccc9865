"""Facet counts for the product list: what each choice would show, given the others.

Each facet counts the products that match every active filter except its own
(so choosing "pearl" still shows how many gold pieces there are). Nothing here counts
over the variants or the stock: the unfiltered list reads the totals kept per facet
value (catalog.facet_counts) and per shop (catalog.floor); a filtered list or a search
counts the kept rows of the products it matched, one grouped query for every facet
whose own filter is not given, one more for each facet whose filter is, one for the
shops: a fixed number of queries, whatever the catalog's size.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .cache import depend_on_floor
from .facet_counts import PRICE_BANDS, band_value, facet_counts_kept, facet_counts_of
from .filters import ProductFilter
from .floor import floor_shops
from .models import (
    Category,
    Collection,
    FacetCount,
    FloorProduct,
    Gemstone,
    Material,
    Metal,
    Product,
    WordFacetCount,
)
from .search import CJK_RUN, parse_query


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    values: list[FacetValue]


def queryset_without(filterset: ProductFilter, *without: str) -> QuerySet[Product]:
    """The filterset's queryset with every cleaned filter but ``without`` (no ordering).

    Re-applies the already validated values, so no filter is validated twice.
    """
    queryset = filterset.queryset
    for name, value in filterset.form.cleaned_data.items():
        if name in without or name == "sort" or value in (None, "", [], ()):
            continue
        queryset = filterset.filters[name].filter(queryset, value)
    return queryset.order_by()


def _localised(row: dict, prefix: str) -> str:
    english = (get_language() or "").startswith("en")
    return (english and row.get(f"{prefix}name_en")) or row[f"{prefix}name"]


def product_facets(filterset: ProductFilter) -> list[Facet]:
    """Every facet, the shops' in its place before the price."""
    return with_store(text_facets(filterset), store_facet(filterset))


def with_store(facets: list[Facet], store: Facet) -> list[Facet]:
    """``facets`` with the shops' facet put before the price (left out when empty)."""
    facets = list(facets)
    if store.values:
        at = next((i for i, f in enumerate(facets) if f.name == "price"), len(facets))
        facets.insert(at, store)
    return facets


def store_facet(filterset: ProductFilter) -> Facet:
    """"Available at": how many of the products have a piece at each shop. It follows the
    shop floors (catalog.cache's floor token), the other facets only the catalog. With no
    other filter it reads the counts kept per shop; filtered, it counts the matches."""
    data = filterset.form.cleaned_data
    depend_on_floor()
    chosen = data.get("store")
    kept = word_counts(filterset)
    if kept is not None:
        # A search for one catalog word: its shop counts are kept (catalog.facet_counts).
        counts = kept.get("store", {})
        shops = (FloorProduct._meta.get_field("store").related_model.objects
                 .filter(pk__in=[int(pk) for pk in counts], kind="store", is_active=True)
                 .values("id", "code", "name", "name_en").order_by("code"))
        return Facet("store", str(_("Available at")), [
            FacetValue(row["code"], _localised(row, ""), counts[str(row["id"])], False)
            for row in shops
        ])
    if not _given(data) - {"store"}:
        # The unfiltered list: the counts kept per shop (catalog.floor), not counted.
        return Facet("store", str(_("Available at")), [
            FacetValue(row["store__code"], _localised(row, "store__"), row["products"],
                       bool(chosen and chosen.code == row["store__code"]))
            for row in floor_shops()
        ])
    # Filtered: the kept (shop, product) rows of the matching products, counted per shop.
    rows = (FloorProduct.objects
            .filter(product_id__in=queryset_without(filterset, "store").values("pk"),
                    variants__gt=0, store__kind="store", store__is_active=True)
            .values("store__code", "store__name", "store__name_en")
            .annotate(n=Count("*")).order_by("store__code"))
    return Facet("store", str(_("Available at")), [
        FacetValue(row["store__code"], _localised(row, "store__"), row["n"],
                   bool(chosen and chosen.code == row["store__code"]))
        for row in rows
    ])


# The filters each kept facet ignores when it counts (its own).
OWN_FILTERS: dict[str, tuple[str, ...]] = {
    "category": ("category",), "collection": ("collection",), "material": ("material",),
    "gemstone": ("gemstone",), "metal": ("metal",), "size": ("size",),
    "price": ("price_min", "price_max"),
}


def _given(data: dict) -> set[str]:
    return {name for name, value in data.items()
            if name != "sort" and value not in (None, "", [], ())}


def kept_word(filterset: ProductFilter) -> str | None:
    """The one Chinese word a search asks for, when it asks for nothing else (no other
    filter; the sort aside): the typical search, whose counts may be kept."""
    if _given(filterset.form.cleaned_data) != {"q"}:
        return None
    parsed = getattr(filterset, "parsed_query", None)  # (set when the grid was filtered)
    if parsed is None:
        parsed = filterset.parsed_query = parse_query(filterset.form.cleaned_data["q"])
    if len(parsed.terms) != 1 or not CJK_RUN.fullmatch(parsed.terms[0]):
        return None
    return parsed.terms[0]


def word_counts(filterset: ProductFilter) -> dict[str, dict[str, int]] | None:
    """facet -> value -> products for a search for one catalog word (``kept_word``), read
    from the counts kept per word (catalog.facet_counts: facet "" is how many it finds,
    "store" the shops); None when the word's counts are not kept (not a catalog word, or
    another filter): the caller counts. One query, read once per filterset."""
    found = getattr(filterset, "_word_counts", False)
    if found is not False:
        return found
    word = kept_word(filterset)
    found = None
    if word is not None:
        rows = WordFacetCount.objects.filter(word=word).values_list("facet", "value", "products")
        counted: dict[str, dict[str, int]] = {}
        for facet, value, products in rows:
            if products > 0 or facet == "":
                counted.setdefault(facet, {})[value] = products
        # Kept words have their total row (even at 0 products): no row, not kept.
        found = counted if "" in counted else None
    filterset._word_counts = found
    return found


def kept_total(filterset: ProductFilter) -> int | None:
    """How many products the list at ``filterset`` shows, when that is kept: the
    unfiltered list (every active product has one category row, catalog.facet_counts),
    a search for one catalog word (``word_counts``); else None: the caller counts."""
    if not _given(filterset.form.cleaned_data):
        return FacetCount.objects.filter(facet="category").aggregate(
            n=Coalesce(Sum("products"), 0))["n"]
    kept = word_counts(filterset)
    return kept[""][""] if kept is not None else None


def _counts(filterset: ProductFilter) -> dict[str, dict[str, int]]:
    """facet -> value -> products, from the kept rows (catalog.facet_counts): the kept
    totals for the unfiltered list; filtered, one grouped query over the matches for the
    facets whose own filter is not given, and one for each facet whose filter is, all
    in one query."""
    given = _given(filterset.form.cleaned_data)
    if not given:
        return facet_counts_kept()
    kept = word_counts(filterset)
    if kept is not None:
        return {facet: values for facet, values in kept.items() if facet in OWN_FILTERS}
    shared = [facet for facet, own in OWN_FILTERS.items() if not given.intersection(own)]
    groups = [(queryset_without(filterset), shared)] if shared else []
    groups += [(queryset_without(filterset, *own), [facet])
               for facet, own in OWN_FILTERS.items() if facet not in shared]
    return facet_counts_of(groups)


def _labels() -> tuple[dict[int, dict], dict[int, dict]]:
    """Every category and every active collection (id -> row), in one query."""
    columns = ("kind", "id", "slug", "name", "name_en", "parent_id", "is_active")
    rows = Category.objects.values_list(Value("category"), "id", "slug", "name", "name_en",
                                        "parent_id", "is_active").union(
        Collection.objects.filter(is_active=True).values_list(
            Value("collection"), "id", "slug", "name", "name_en",
            Value(None, output_field=IntegerField()), "is_active"), all=True)
    found: dict[str, dict[int, dict]] = {"category": {}, "collection": {}}
    for row in rows:
        found[row[0]][row[1]] = dict(zip(columns, row, strict=True))
    return found["category"], found["collection"]


def _category_facet(counts: dict[str, int], chosen, categories: dict[int, dict]) -> Facet:
    """A piece counts in its category and in every category above it, as the category
    filter takes in everything below (catalog.filters.category_with_descendants)."""
    totals: dict[int, int] = {}
    for value, n in counts.items():
        seen: set[int] = set()
        pk: int | None = int(value)
        while pk in categories and pk not in seen:  # a cycle must not hang us
            seen.add(pk)
            totals[pk] = totals.get(pk, 0) + n
            pk = categories[pk]["parent_id"]
    shown = [(categories[pk], n) for pk, n in totals.items() if categories[pk]["is_active"]]
    shown.sort(key=lambda item: (-item[1], item[0]["slug"]))
    return Facet("category", str(_("Category")), [
        FacetValue(row["slug"], _localised(row, ""), n, bool(chosen and chosen.slug == row["slug"]))
        for row, n in shown
    ])


def _collection_facet(counts: dict[str, int], chosen, collections: dict[int, dict]) -> Facet:
    rows = [(row, counts[str(pk)]) for pk, row in collections.items() if counts.get(str(pk))]
    rows.sort(key=lambda item: (-item[1], item[0]["slug"]))
    return Facet("collection", str(_("Collection")), [
        FacetValue(row["slug"], _localised(row, ""), n, bool(chosen and chosen.slug == row["slug"]))
        for row, n in rows
    ])


def _choice_facet(name: str, label, choices, counts: dict[str, int], selected) -> Facet:
    selected = set(selected or [])
    return Facet(name, str(label), [
        FacetValue(value, str(text), counts.get(value, 0), value in selected)
        for value, text in choices if value and (counts.get(value) or value in selected)
    ])


def text_facets(filterset: ProductFilter) -> list[Facet]:
    """The facets that follow the catalog alone (not the stock): category, collection,
    material, gemstone, metal, size and price. Read from the kept counts
    (catalog.facet_counts): a fixed few queries, none of them over the variants."""
    data = filterset.form.cleaned_data
    counts = _counts(filterset)
    categories, collections = _labels()
    facets = [
        _category_facet(counts.get("category", {}), data.get("category"), categories),
        _collection_facet(counts.get("collection", {}), data.get("collection"), collections),
        _choice_facet("material", _("Material"), Material.choices, counts.get("material", {}),
                      data.get("material")),
        _choice_facet("gemstone", _("Gemstone"), Gemstone.choices, counts.get("gemstone", {}),
                      data.get("gemstone")),
        _choice_facet("metal", _("Metal"), Metal.choices, counts.get("metal", {}),
                      data.get("metal")),
    ]
    sizes = counts.get("size", {})
    chosen = data.get("size") or ""
    facets.append(Facet("size", str(_("Size")), [
        FacetValue(size, size, sizes[size], size == chosen)
        for size in sorted(sizes, key=lambda size: (len(size), size))
    ]))
    bands = counts.get("price", {})
    facets.append(Facet("price", str(_("Price")), [
        FacetValue(band_value(low, high), _band_label(low, high), bands[band_value(low, high)],
                   data.get("price_min") == low and data.get("price_max") == high)
        for low, high in PRICE_BANDS if bands.get(band_value(low, high))
    ]))
    return [facet for facet in facets if facet.values]


def _band_label(low, high) -> str:
    if low is None:
        return str(_("Under ¥%(high)s") % {"high": f"{high + 1:,.0f}"})
    if high is None:
        return str(_("¥%(low)s and above") % {"low": f"{low:,.0f}"})
    return f"¥{low:,.0f} – ¥{high + 1:,.0f}"
