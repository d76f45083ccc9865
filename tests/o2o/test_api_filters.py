"""Every filtered API endpoint answers a filter it cannot use with a 400 naming it: a
value it cannot read, or a parameter that is no filter of the endpoint
(``/api/v1/products/?min_price=abc`` once answered 200 and listed everything)."""

import pytest

from tests.stores.factories import tryon_store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query, field", [
    ("min_price=abc", "min_price"),      # no such filter (it is price_min)
    ("price_min=abc", "price_min"),
    ("price_max=-5", "price_max"),
    ("category=no-such-category", "category"),
    ("material=plastic", "material"),
    ("sort=cheapest", "sort"),
    ("store=nowhere", "store"),
    ("utm_source=x&price_min=1", "utm_source"),
])
def test_products_refuse_a_filter_they_cannot_use(client, query, field):
    response = client.get(f"/api/v1/products/?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and field in response.json()["fields"]
    assert str(response.json()["fields"][field][0])


def test_products_still_answer_their_filters_and_pages(client):
    assert client.get("/api/v1/products/?price_min=100&sort=price&page=1").status_code == 200
    assert client.get("/api/v1/products/?format=json").status_code == 200


@pytest.mark.parametrize("query, field", [
    ("lat=abc&lng=121.4", "lat"),
    ("lat=31.2", "lng"),
    ("lat=95&lng=121", "lat"),
    ("lat=nan&lng=121", "lat"),
    ("service=massage", "service"),
    ("radius=3", "radius"),
])
def test_the_store_finder_refuses_a_filter_it_cannot_use(client, query, field):
    response = client.get(f"/api/v1/stores/?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_the_store_finder_still_answers_good_filters(client):
    tryon_store(code="sh-a", city="上海")
    ok = client.get("/api/v1/stores/?city=上海&service=tryon&lat=31.2&lng=121.4")
    assert ok.status_code == 200 and [s["code"] for s in ok.json()] == ["sh-a"]


def test_slots_refuse_an_unknown_parameter(client):
    tryon_store(code="sh-b")
    assert client.get("/api/v1/stores/sh-b/slots/?days=2").status_code == 200
    response = client.get("/api/v1/stores/sh-b/slots/?day=2026-01-01")
    assert response.status_code == 400 and "day" in response.json()["fields"]

