"""The catalog read API: filters, search, ordering, detail, errors and query budgets."""

from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Category, Certificate
from catalog.services import metal_rate_create, prices_refresh, product_search_refresh
from stores.models import Store
from tests.stores.factories import StockLevelFactory, StoreFactory

from .factories import ByWeightVariantFactory, MetalRateFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def products():
    rings = Category.objects.create(name="戒指", name_en="Rings", slug="rings")
    necklaces = Category.objects.create(name="项链", name_en="Necklaces", slug="necklaces")
    MetalRateFactory(rate_per_gram=Decimal("780.00"))
    made = []
    for i in range(30):
        product = ProductFactory(category=rings if i % 2 else necklaces,
                                 material="gold" if i % 3 else "pearl")
        VariantFactory(product=product, list_price=Decimal(1000 + i * 100), size="12")
        made.append(product)
    gold = made[1]
    ByWeightVariantFactory(product=gold, weight_g=Decimal("3.000"), labour_fee=Decimal("200"))
    Certificate.objects.create(variant=gold.variants.first(), lab="GIA", number="2141438171",
                               carat=Decimal("0.5"), colour="F", clarity="VS1", cut="Excellent")
    StockLevelFactory(store=StoreFactory(code="sh"), variant=gold.variants.first(), on_hand=2)
    product_search_refresh()
    prices_refresh()
    return made


def test_categories(client, products):
    body = client.get("/api/v1/categories/").json()
    assert {c["slug"] for c in body} == {"rings", "necklaces"}


def test_products_are_paginated_and_filtered_like_the_pages(client, products):
    body = client.get("/api/v1/products/").json()
    assert body["count"] == 30
    assert len(body["results"]) == 24
    body = client.get("/api/v1/products/?category=rings&material=gold&sort=-price").json()
    prices = [Decimal(p["price_from"]) for p in body["results"]]
    assert prices == sorted(prices, reverse=True)
    assert body["count"] == 10


def test_products_search(client, products):
    body = client.get("/api/v1/products/", {"q": "项链"}).json()
    assert body["count"] == 15
    body = client.get("/api/v1/products/", {"q": "plain gold ring"}).json()
    assert body["count"] == 30


@pytest.mark.parametrize("query", ["category=nope", "price_min=abc", "sort=cheapest",
                                   "material=wood", "store=nowhere"])
def test_invalid_filters_are_400_with_the_reason(client, products, query):
    response = client.get(f"/api/v1/products/?{query}")
    assert response.status_code == 400
    field = query.split("=")[0]
    assert field in response.json()["fields"]


def test_product_detail_has_variants_with_prices_certificates_and_stock(client, products):
    gold = products[1]
    body = client.get(f"/api/v1/products/{gold.id}/").json()
    assert body["slug"] == gold.slug
    by_weight = next(v for v in body["variants"] if v["pricing_mode"] == "by_weight")
    assert Decimal(by_weight["price"]) == Decimal("2540.00")  # 3 x 780 + 200
    assert Decimal(by_weight["rate_per_gram"]) == Decimal("780.00")
    fixed = next(v for v in body["variants"] if v["pricing_mode"] == "fixed")
    assert fixed["certificates"][0]["number"] == "2141438171"
    (where,) = fixed["availability"]
    sh = Store.objects.get(code="sh")
    assert (where["store"], where["available"]) == ("sh", 2)
    assert where["store_name"] in (sh.name, sh.name_en) and where["city"] in (sh.city, sh.city_en)


def test_unknown_product_is_404(client, products):
    assert client.get("/api/v1/products/999999/").status_code == 404


def test_list_api_query_budget_does_not_grow_with_page_size(client, products,
                                                             django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        client.get("/api/v1/products/?page_size=5")
    with django_assert_max_num_queries(4):
        client.get("/api/v1/products/?q=ring&material=gold")


def test_detail_api_query_budget(client, products, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        client.get(f"/api/v1/products/{products[1].id}/")


def test_a_price_change_shows_at_once_despite_the_cache(
        client, products, django_capture_on_commit_callbacks, django_assert_max_num_queries):
    gold = products[1]
    first = client.get(f"/api/v1/products/{gold.id}/").json()
    with django_assert_max_num_queries(0):
        assert client.get(f"/api/v1/products/{gold.id}/").json() == first  # from the cache
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        metal_rate_create(metal="gold", purity="999", rate_per_gram=Decimal("800.00"),
                          valid_from=timezone.now())
    assert callbacks, "the rate change schedules a price refresh"
    with django_capture_on_commit_callbacks(execute=True):
        prices_refresh(reason="metal_rate")
    body = client.get(f"/api/v1/products/{gold.id}/").json()
    by_weight = next(v for v in body["variants"] if v["pricing_mode"] == "by_weight")
    assert Decimal(by_weight["price"]) == Decimal("2600.00")  # 3 x 800 + 200


def test_the_schema_documents_the_catalog(client):
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/products/" in schema
    assert "/api/v1/categories/" in schema
