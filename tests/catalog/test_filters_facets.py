"""The list's filters and facet counts, on real PostgreSQL."""

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from catalog.facets import product_facets
from catalog.filters import ProductFilter
from catalog.models import Category, Collection, Product
from catalog.services import prices_refresh, product_search_refresh
from catalog.views import ListQuery
from tests.stores.factories import StockLevelFactory, StoreFactory

from .factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf():
    rings = Category.objects.create(name="戒指", name_en="Rings", slug="rings")
    bands = Category.objects.create(name="婚戒", name_en="Wedding bands", slug="bands",
                                    parent=rings)
    necklaces = Category.objects.create(name="项链", name_en="Necklaces", slug="necklaces")
    bridal = Collection.objects.create(name="婚嫁", name_en="Bridal", slug="bridal")
    shanghai, beijing = StoreFactory(code="sh"), StoreFactory(code="bj")
    made = {}
    for slug, category, material, gem, price, sizes in [
        ("diamond-ring", rings, "diamond", "diamond", "12800", ["10", "12"]),
        ("platinum-band", bands, "platinum", "", "4600", ["12", "14"]),
        ("pearl-necklace", necklaces, "pearl", "pearl", "2600", ["45cm"]),
        ("gold-necklace", necklaces, "gold", "", "36000", ["40cm", "45cm"]),
    ]:
        product = ProductFactory(slug=slug, category=category, material=material, gemstone=gem)
        for size in sizes:
            VariantFactory(product=product, size=size, list_price=Decimal(price),
                           metal="platinum" if material == "platinum" else "")
        made[slug] = product
    made["diamond-ring"].collections.add(bridal)
    made["platinum-band"].collections.add(bridal)
    StockLevelFactory(store=shanghai, variant=made["diamond-ring"].variants.first())
    StockLevelFactory(store=beijing, variant=made["pearl-necklace"].variants.first(), on_hand=1,
                      reserved=1)  # all of it reserved: not available
    StockLevelFactory(store=beijing, variant=made["gold-necklace"].variants.first())
    product_search_refresh()
    prices_refresh()
    return made


def run(query: str):
    filterset = ProductFilter(QueryDict(query), queryset=Product.objects.filter(is_active=True))
    assert filterset.is_valid(), filterset.errors
    return filterset, list(filterset.qs.values_list("slug", flat=True))


def counts(filterset, name):
    facet = {f.name: f for f in product_facets(filterset)}.get(name)
    return {v.value: v.count for v in facet.values} if facet else {}


def test_a_category_takes_in_its_children(shelf):
    _, slugs = run("category=rings")
    assert set(slugs) == {"diamond-ring", "platinum-band"}


def test_filters_combine(shelf):
    _, slugs = run("collection=bridal&material=platinum")
    assert slugs == ["platinum-band"]
    _, slugs = run("size=45cm&price_max=5000")
    assert slugs == ["pearl-necklace"]
    _, slugs = run("material=pearl&material=gold&sort=price")
    assert slugs == ["pearl-necklace", "gold-necklace"]


def test_available_at_a_store_counts_only_unreserved_stock(shelf):
    _, slugs = run("store=bj")
    assert slugs == ["gold-necklace"]
    _, slugs = run("store=sh")
    assert slugs == ["diamond-ring"]


def test_sorting(shelf):
    assert run("sort=price")[1] == ["pearl-necklace", "platinum-band", "diamond-ring",
                                    "gold-necklace"]
    assert run("sort=-price")[1][0] == "gold-necklace"
    assert run("")[1][0] == "gold-necklace"  # newest first


def test_invalid_values_are_errors_with_reasons(shelf):
    for query, field in [("category=nope", "category"), ("price_min=abc", "price_min"),
                         ("material=wood", "material"), ("sort=cheapest", "sort"),
                         ("store=nowhere", "store"), ("price_min=-5", "price_min")]:
        filterset = ProductFilter(QueryDict(query), queryset=Product.objects.all())
        assert not filterset.is_valid()
        assert field in filterset.errors, query


def test_facets_count_what_each_choice_would_show(shelf):
    filterset, _ = run("material=pearl")
    # the material facet ignores its own choice; others honour it
    assert counts(filterset, "material") == {"diamond": 1, "platinum": 1, "pearl": 1, "gold": 1}
    assert counts(filterset, "category") == {"necklaces": 1}
    assert counts(filterset, "size") == {"45cm": 1}


def test_category_facet_rolls_children_into_parents(shelf):
    filterset, _ = run("")
    assert counts(filterset, "category") == {"rings": 2, "bands": 1, "necklaces": 2}
    assert counts(filterset, "collection") == {"bridal": 2}
    assert counts(filterset, "store") == {"sh": 1, "bj": 1}
    assert counts(filterset, "metal") == {"platinum": 1}


def test_price_bands(shelf):
    filterset, _ = run("")
    assert counts(filterset, "price") == {"-2999": 1, "3000-9999": 1, "10000-29999": 1,
                                          "30000-": 1}


def test_facets_cost_a_fixed_number_of_queries(shelf, django_assert_max_num_queries):
    filterset, _ = run("category=rings&material=diamond&store=sh&size=12&q=ring")
    with django_assert_max_num_queries(9):
        product_facets(filterset)


@pytest.mark.parametrize("value", ["戒指", "a b&c=d", "+%/?#", "ǅ\u200bé", "x" * 300])
def test_a_list_link_is_what_urlencode_writes_whatever_the_words(value):
    # The links quote each pair once per process (catalog.views._encoded): the same text
    # as urlencode over the whole query, for any words a shopper types.
    query = ListQuery("/products/", (("q", value), ("material", "gold")))
    pairs = [("q", value), ("category", "rings"), ("material", "gold"), ("page", "3")]
    assert query.url(add=[("category", "rings")], page=3) == f"/products/?{urlencode(pairs)}"
    assert query.url(drop=["q", "material"]) == "/products/"
