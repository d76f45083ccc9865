"""A sale invalidates what shows its stock, and nothing else (catalog.cache)."""

import re

import pytest

from catalog.cache import _bump
from stores.models import ReservationPurpose
from stores.services.stock import reservation_commit, reservation_release, stock_reserve
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.stores.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor():
    store = StoreFactory(code="sh-1", name="静安店", name_en="Jing'an")
    last = VariantFactory(product=ProductFactory(name="孤品钻戒", slug="one-of-a-kind"))
    plenty = VariantFactory(product=ProductFactory(name="古法金手镯", slug="gold-bangle"))
    StockLevelFactory(store=store, variant=last.product.variants.get(), on_hand=1)
    StockLevelFactory(store=store, variant=plenty, on_hand=3)
    return store, last, plenty


def _sell(store, variant, on_commit):
    with on_commit(execute=True):
        return stock_reserve(store=store, variant=variant, quantity=1, expires_at=None,
                             purpose=ReservationPurpose.ORDER, reference="test")


def _shops_listed(html: str) -> int:
    return html.count('class="where__item"')


def _store_facet_count(html: str, code: str) -> int | None:
    found = re.search(rf'store={code}"[^>]*>.*?facet__count"><span class="visually-hidden">\(</span>'
                      r"(\d+)", html, re.S)
    return int(found.group(1)) if found else None


def test_selling_the_last_piece_shows_at_once_on_a_cached_page(
        client, floor, django_capture_on_commit_callbacks):
    store, last, plenty = floor
    page = f"/en/products/{last.product.slug}/"
    before = client.get(page)
    assert client.get(page)["X-Page-Cache"] == "hit"
    assert _shops_listed(before.text) == 1 and "The last piece" in before.text
    other = f"/en/products/{plenty.product.slug}/"
    client.get(other)
    listing = client.get("/en/products/")
    assert _store_facet_count(listing.text, "sh-1") == 2

    _sell(store, last, django_capture_on_commit_callbacks)

    after = client.get(page)
    assert after["X-Page-Cache"] == "miss"
    assert _shops_listed(after.text) == 0
    assert "The last piece" not in after.text
    assert "Not on display in a store right now" in after.text
    # The store facet and the store filter follow: one piece fewer has a place there.
    listing = client.get("/en/products/")
    assert listing["X-Page-Cache"] == "miss"
    assert _store_facet_count(listing.text, "sh-1") == 1
    filtered = client.get("/en/products/?store=sh-1")
    assert "one-of-a-kind" not in filtered.text and "gold-bangle" in filtered.text
    # Another piece's page is not touched by this sale.
    assert client.get(other)["X-Page-Cache"] == "hit"


def test_a_sale_that_leaves_pieces_touches_only_its_product_page(
        client, floor, django_capture_on_commit_callbacks):
    store, last, plenty = floor
    page = f"/en/products/{plenty.product.slug}/"
    assert "3 pieces" in client.get(page).text
    client.get("/en/products/")
    client.get("/en/products/?store=sh-1")

    reservation = _sell(store, plenty, django_capture_on_commit_callbacks)

    assert client.get("/en/products/")["X-Page-Cache"] == "hit"
    assert client.get("/en/products/?store=sh-1")["X-Page-Cache"] == "hit"
    after = client.get(page)
    assert after["X-Page-Cache"] == "miss" and "2 pieces" in after.text
    # The hand-over leaves what is available as it was: nothing to re-render.
    with django_capture_on_commit_callbacks(execute=True):
        reservation_commit(reservation=reservation)
    assert client.get(page)["X-Page-Cache"] == "hit"


def test_a_released_last_piece_comes_back_on_the_lists(
        client, floor, django_capture_on_commit_callbacks):
    store, last, _plenty = floor
    reservation = _sell(store, last, django_capture_on_commit_callbacks)
    assert "one-of-a-kind" not in client.get("/en/products/?store=sh-1").text
    page = f"/en/products/{last.product.slug}/"
    assert _shops_listed(client.get(page).text) == 0
    with django_capture_on_commit_callbacks(execute=True):
        reservation_release(reservation=reservation, reason="changed mind")
    assert "one-of-a-kind" in client.get("/en/products/?store=sh-1").text
    assert "The last piece" in client.get(page).text


def test_a_price_or_product_edit_still_invalidates_everything(client, floor):
    _store, last, plenty = floor
    for path in ("/en/products/", f"/en/products/{last.product.slug}/",
                 f"/en/products/{plenty.product.slug}/"):
        client.get(path)
        assert client.get(path)["X-Page-Cache"] == "hit"
    _bump()  # what catalog_changed() does on commit (prices, rates, products, images)
    for path in ("/en/products/", f"/en/products/{last.product.slug}/",
                 f"/en/products/{plenty.product.slug}/"):
        assert client.get(path)["X-Page-Cache"] == "miss"
