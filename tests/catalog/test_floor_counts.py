"""The list's shops facet reads counts kept by the stock services (catalog.floor)."""

import re

import pytest
from django.contrib import admin
from django.core.management import call_command

from catalog.cache import _bump
from catalog.floor import floor_rebuild, floor_reconcile
from catalog.models import FloorProduct, FloorShop, Product
from catalog.services import products_set_active
from stores.models import ReservationPurpose, StockLevel
from stores.services.stock import reservation_release, stock_receive, stock_reserve
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.concurrency import race
from tests.stores.factories import StockLevelFactory, StoreFactory


def _shop_count(store) -> int:
    found = FloorShop.objects.filter(store=store).values_list("products", flat=True).first()
    return found or 0


def _facet_count(html: str, code: str) -> int | None:
    found = re.search(rf'store={code}"[^>]*>.*?facet__count"><span class="visually-hidden">\(</span>'
                      r"(\d+)", html, re.S)
    return int(found.group(1)) if found else None


def _reserve(store, variant):
    return stock_reserve(store=store, variant=variant, quantity=1, expires_at=None,
                         purpose=ReservationPurpose.ORDER, reference="test")


@pytest.fixture
def ring():
    """One product in two sizes, the last piece of each at one shop, and another product."""
    store = StoreFactory(code="sh-9", name="徐汇店", name_en="Xuhui")
    product = ProductFactory(name="双号戒指", slug="two-sizes")
    small = VariantFactory(product=product, size="12")
    large = VariantFactory(product=product, size="14")
    other = VariantFactory(product=ProductFactory(name="手镯", slug="bangle"))
    for variant in (small, large):
        StockLevelFactory(store=store, variant=variant, on_hand=1)
    StockLevelFactory(store=store, variant=other, on_hand=5)
    return store, product, small, large, other


@pytest.mark.django_db
def test_the_unfiltered_list_reads_the_kept_counts_and_a_filtered_one_counts(client, ring):
    store = ring[0]
    assert _shop_count(store) == 2
    assert _facet_count(client.get("/en/products/").text, "sh-9") == 2
    FloorShop.objects.filter(store=store).update(products=42)  # only the kept row knows
    _bump()
    assert _facet_count(client.get("/en/products/").text, "sh-9") == 42
    assert _facet_count(client.get("/en/products/?size=14").text, "sh-9") == 1


@pytest.mark.django_db
def test_a_product_leaves_the_count_with_its_last_variant_and_comes_back(
        client, ring, django_capture_on_commit_callbacks):
    store, product, small, large, _other = ring
    with django_capture_on_commit_callbacks(execute=True):
        first = _reserve(store, small)
    assert _shop_count(store) == 2  # the other size is still there
    assert FloorProduct.objects.get(store=store, product=product).variants == 1
    with django_capture_on_commit_callbacks(execute=True):
        _reserve(store, large)
    assert _shop_count(store) == 1
    assert _facet_count(client.get("/en/products/").text, "sh-9") == 1
    with django_capture_on_commit_callbacks(execute=True):
        reservation_release(reservation=first, reason="changed mind")
    assert _shop_count(store) == 2
    assert _facet_count(client.get("/en/products/").text, "sh-9") == 2
    assert floor_reconcile() == 0


@pytest.mark.django_db
def test_a_first_receipt_and_a_product_switched_off_move_the_counts(ring):
    store, product, _small, _large, _other = ring
    elsewhere = StoreFactory(code="bj-1")
    stock_receive(store=elsewhere, variant=product.variants.first(), quantity=2)
    assert _shop_count(elsewhere) == 1
    products_set_active(product_ids=[product.pk], active=False)
    assert (_shop_count(store), _shop_count(elsewhere)) == (1, 0)
    products_set_active(product_ids=[product.pk], active=True)
    assert (_shop_count(store), _shop_count(elsewhere)) == (2, 1)
    assert floor_reconcile() == 0


@pytest.mark.django_db
def test_the_reconcile_finds_and_fixes_a_wrong_count(ring, capsys):
    store, product, small, _large, _other = ring
    assert floor_reconcile() == 0
    StockLevel.objects.filter(store=store, variant=small).update(on_hand=0)  # past the services
    FloorShop.objects.filter(store=store).update(products=7)
    assert floor_reconcile() == 2  # the product's row and the shop's total
    assert FloorProduct.objects.get(store=store, product=product).variants == 1
    assert _shop_count(store) == 2
    FloorProduct.objects.all().delete()
    call_command("floor_counts")
    assert "differed, fixed" in capsys.readouterr().out
    call_command("floor_counts")
    assert "exact" in capsys.readouterr().out
    assert _shop_count(store) == 2


@pytest.mark.django_db(transaction=True)
def test_parallel_sales_of_two_sizes_of_one_product_leave_an_exact_count():
    store = StoreFactory(code="race-1")
    for round_ in range(3):
        product = ProductFactory(slug=f"race-{round_}")
        variants = [VariantFactory(product=product, size="14"),
                    VariantFactory(product=product, size="15"),
                    VariantFactory(product=product, size="16")]
        for variant in variants:
            StockLevelFactory(store=store, variant=variant, on_hand=1)
    start = _shop_count(store)
    assert start == 3
    products = list(FloorProduct.objects.filter(store=store).values_list("product_id", flat=True))
    to_sell = [(v, store) for v in VariantFactory._meta.model.objects.filter(
        product_id__in=products).order_by("pk")]

    def sell(i):
        variant, at = to_sell[i]
        return _reserve(at, variant)

    sold, errors = race(len(to_sell), sell)
    assert not errors and len(sold) == 9
    assert _shop_count(store) == 0
    assert set(FloorProduct.objects.filter(store=store).values_list("variants", flat=True)) == {0}

    def release(i):
        return reservation_release(reservation=sold[i], reason="back")

    _back, errors = race(len(sold), release)
    assert not errors
    assert _shop_count(store) == 3
    assert set(FloorProduct.objects.filter(store=store).values_list("variants", flat=True)) == {3}
    assert floor_reconcile() == 0


@pytest.mark.django_db
def test_a_product_deleted_in_the_admin_leaves_its_shops_total(rf, superuser, ring):
    store, product, _small, _large, _other = ring
    assert _shop_count(store) == 2
    request = rf.post("/")
    request.user = superuser
    admin.site._registry[Product].delete_model(request, product)
    assert _shop_count(store) == 1
    assert floor_reconcile() == 0


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_beside_parallel_sales_loses_no_move():
    store = StoreFactory(code="race-2")
    variants = []
    for n in range(6):
        variant = VariantFactory(product=ProductFactory(slug=f"rebuild-race-{n}"))
        StockLevelFactory(store=store, variant=variant, on_hand=1)
        variants.append(variant)
    assert _shop_count(store) == 6

    def work(i):
        if i == len(variants):
            return floor_rebuild()
        return _reserve(store, variants[i])

    _done, errors = race(len(variants) + 1, work)
    assert not errors
    assert _shop_count(store) == 0
    assert floor_reconcile() == 0
