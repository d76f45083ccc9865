"""Facet counts for the product list: what each choice would show, given the others.

Each facet counts the products that match every active filter except its own
(so choosing "pearl" still shows how many gold pieces there are). One GROUP BY
query per facet, whatever the catalog's size: a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .cache import depend_on_floor
from .filters import ProductFilter
from .floor import floor_shops
from .models import Gemstone, Material, Metal, Product

PRICE_BANDS: list[tuple[Decimal | None, Decimal | None]] = [
    (None, Decimal("2999")),
    (Decimal("3000"), Decimal("9999")),
    (Decimal("10000"), Decimal("29999")),
    (Decimal("30000"), None),
]


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


def _choice_facet(filterset, name, label, choices, rows_key) -> Facet:
    rows = (queryset_without(filterset, name).values(rows_key)
            .annotate(n=Count("id", distinct=True)))
    counts = {row[rows_key]: row["n"] for row in rows}
    selected = set(filterset.form.cleaned_data.get(name) or [])
    return Facet(name, label, [
        FacetValue(value, str(text), counts.get(value, 0), value in selected)
        for value, text in choices if value and (counts.get(value) or value in selected)
    ])


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
    if not any(value not in (None, "", [], ()) for name, value in data.items()
               if name not in ("store", "sort")):
        # The unfiltered list: the counts kept per shop (catalog.floor), not counted.
        return Facet("store", str(_("Available at")), [
            FacetValue(row["store__code"], _localised(row, "store__"), row["products"],
                       bool(chosen and chosen.code == row["store__code"]))
            for row in floor_shops()
        ])
    rows = (queryset_without(filterset, "store")
            .filter(variants__is_active=True,
                    variants__stock_levels__on_hand__gt=F("variants__stock_levels__reserved"),
                    variants__stock_levels__store__kind="store",
                    variants__stock_levels__store__is_active=True)
            .values("variants__stock_levels__store__code", "variants__stock_levels__store__name",
                    "variants__stock_levels__store__name_en")
            .annotate(n=Count("id", distinct=True))
            .order_by("variants__stock_levels__store__code"))
    return Facet("store", str(_("Available at")), [
        FacetValue(row["variants__stock_levels__store__code"],
                   _localised(row, "variants__stock_levels__store__"), row["n"],
                   bool(chosen and chosen.code == row["variants__stock_levels__store__code"]))
        for row in rows
    ])


def text_facets(filterset: ProductFilter) -> list[Facet]:
    """The facets that follow the catalog alone (not the stock): category, collection,
    material, gemstone, metal, size and price."""
    data = filterset.form.cleaned_data
    facets = []

    rows = (queryset_without(filterset, "category")
            .values("category__slug", "category__name", "category__name_en",
                    "category__parent__slug", "category__parent__name",
                    "category__parent__name_en")
            .annotate(n=Count("id", distinct=True)))
    totals: dict[str, list] = {}
    for row in rows:
        # A piece counts in its category and in the category above it.
        keys = [("category__", row["category__slug"])]
        if row["category__parent__slug"]:
            keys.append(("category__parent__", row["category__parent__slug"]))
        for prefix, slug in keys:
            label = _localised(row, prefix)
            totals.setdefault(slug, [label, 0])[1] += row["n"]
    chosen = data.get("category")
    facets.append(Facet("category", str(_("Category")), [
        FacetValue(slug, label, n, bool(chosen and chosen.slug == slug))
        for slug, (label, n) in sorted(totals.items(), key=lambda item: -item[1][1])
    ]))

    rows = (queryset_without(filterset, "collection").filter(collections__is_active=True)
            .values("collections__slug", "collections__name", "collections__name_en")
            .annotate(n=Count("id", distinct=True)).order_by("-n"))
    chosen = data.get("collection")
    facets.append(Facet("collection", str(_("Collection")), [
        FacetValue(row["collections__slug"], _localised(row, "collections__"), row["n"],
                   bool(chosen and chosen.slug == row["collections__slug"]))
        for row in rows
    ]))

    facets.append(_choice_facet(filterset, "material", _("Material"), Material.choices,
                                "material"))
    facets.append(_choice_facet(filterset, "gemstone", _("Gemstone"), Gemstone.choices,
                                "gemstone"))
    facets.append(_choice_facet(filterset, "metal", _("Metal"), Metal.choices,
                                "variants__metal"))

    rows = (queryset_without(filterset, "size").filter(variants__is_active=True)
            .exclude(variants__size="").values("variants__size")
            .annotate(n=Count("id", distinct=True)).order_by("variants__size"))
    chosen = data.get("size") or ""
    facets.append(Facet("size", str(_("Size")), [
        FacetValue(row["variants__size"], row["variants__size"], row["n"],
                   row["variants__size"] == chosen)
        for row in sorted(rows, key=lambda r: (len(r["variants__size"]), r["variants__size"]))
    ]))

    bands = {}
    for index, (low, high) in enumerate(PRICE_BANDS):
        condition = Q(price_from__isnull=False)
        if low is not None:
            condition &= Q(price_from__gte=low)
        if high is not None:
            condition &= Q(price_from__lte=high)
        bands[f"band{index}"] = Count("id", filter=condition, distinct=True)
    # The bands replace both ends of the price range, so neither end applies here.
    counts = queryset_without(filterset, "price_min", "price_max").aggregate(**bands)
    facets.append(Facet("price", str(_("Price")), [
        FacetValue(_band_value(low, high), _band_label(low, high), counts[f"band{index}"],
                   data.get("price_min") == low and data.get("price_max") == high)
        for index, (low, high) in enumerate(PRICE_BANDS) if counts[f"band{index}"]
    ]))
    return [facet for facet in facets if facet.values]


def _band_value(low, high) -> str:
    return f"{low or ''}-{high or ''}"


def _band_label(low, high) -> str:
    if low is None:
        return str(_("Under ¥%(high)s") % {"high": f"{high + 1:,.0f}"})
    if high is None:
        return str(_("¥%(low)s and above") % {"low": f"{low:,.0f}"})
    return f"¥{low:,.0f} – ¥{high + 1:,.0f}"
