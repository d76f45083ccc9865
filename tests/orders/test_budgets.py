"""Query budgets of the shopper's busiest writes (Saleor's checkout completion runs
about 220 queries): adding to the bag and checking out through the API.

Counted as the test sees them: each transaction's BEGIN/COMMIT shows as a SAVEPOINT
and its RELEASE (the test runs inside a transaction of its own), so the figures are the
round trips a production request makes. Sessions live in Redis (no query)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stores.services import stock_receive
from tests.catalog.factories import ByWeightVariantFactory, MetalRateFactory, VariantFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

# A guest's first piece: the piece, BEGIN, the cart's INSERT, the stock, the line's
# INSERT, COMMIT (+ the metal rates for a piece priced by weight). Adding to a bag that
# exists: the cart's look-up, its lock (UPDATE) and its lines instead of its INSERT.
ADD_BUDGET = 6
ADD_MORE_BUDGET = 8
# For one line: the store, the cart, BEGIN, its lock, lines, stock, the holds' lock and
# count, number and code, order, lines, stock UPDATE, reservation, event, emptying the
# bag, COMMIT (+ the metal rates for a piece priced by weight). More lines add the
# look-up of their stock rows (to lock them in pk order) and one UPDATE each.
CHECKOUT_BUDGET = 16
PURCHASE_BUDGET = 25  # issue 18: add to bag + checkout, whatever the pricing


def _post(client, url, data, token):
    return client.post(url, data, content_type="application/json", HTTP_X_CSRFTOKEN=token)


def _checkout(client, token):
    return _post(client, "/api/v1/checkout/", {
        "fulfilment": "pickup", "store": "budget", "pay_at_counter": True,
        "contact_name": "林小姐", "contact_phone": "13800138000"}, token)


@pytest.mark.parametrize("by_weight", [False, True], ids=["fixed price", "by weight"])
@pytest.mark.parametrize("lines", [1, 4])
def test_add_to_bag_and_checkout_stay_within_their_budgets(client, lines, by_weight):
    store = StoreFactory(code="budget")
    if by_weight:
        MetalRateFactory()
    variants = (ByWeightVariantFactory if by_weight else VariantFactory).create_batch(lines)
    for variant in variants:
        stock_receive(store=store, variant=variant, quantity=5)
    client.get("/api/v1/cart/")
    token = client.cookies["csrftoken"].value
    rates = int(by_weight)
    for i, variant in enumerate(variants):
        with CaptureQueriesContext(connection) as add:
            answer = _post(client, "/api/v1/cart/items/", {"sku": variant.sku}, token)
        assert answer.status_code == 201, answer.content
        assert len(answer.json()["lines"]) == i + 1
        assert len(add.captured_queries) <= (ADD_MORE_BUDGET if i else ADD_BUDGET) + rates
    with CaptureQueriesContext(connection) as checkout:
        answer = _checkout(client, token)
    assert answer.status_code == 201, answer.content
    assert len(answer.json()["order"]["lines"]) == lines
    assert len(checkout.captured_queries) <= (CHECKOUT_BUDGET + rates + (lines - 1)
                                              + (lines > 1))


@pytest.mark.parametrize("by_weight", [False, True], ids=["fixed price", "by weight"])
def test_a_purchase_costs_at_most_25_queries(client, by_weight):
    """Issue 18's budget: a guest adds a piece to the bag and checks out, through the API."""
    store = StoreFactory(code="budget")
    if by_weight:
        MetalRateFactory()
    variant = (ByWeightVariantFactory if by_weight else VariantFactory)()
    stock_receive(store=store, variant=variant, quantity=5)
    client.get("/api/v1/cart/")
    token = client.cookies["csrftoken"].value
    with CaptureQueriesContext(connection) as purchase:
        assert _post(client, "/api/v1/cart/items/", {"sku": variant.sku}, token
                     ).status_code == 201
        answer = _checkout(client, token)
    assert answer.status_code == 201, answer.content
    assert len(purchase.captured_queries) <= PURCHASE_BUDGET


def _piece_reads(queries) -> list[str]:
    """Queries that read a piece or a product row by itself: a deferred field loaded late
    (the bag's and checkout's queries read only catalog.selectors.SALE_FIELDS)."""
    return [q["sql"] for q in queries.captured_queries
            if q["sql"].startswith("SELECT") and (
                'FROM "catalog_variant" WHERE "catalog_variant"."id" =' in q["sql"]
                or 'FROM "catalog_product" WHERE "catalog_product"."id" =' in q["sql"])]


@pytest.mark.parametrize("way", ["pickup by transfer", "delivery", "sold out meanwhile"])
def test_the_bag_and_checkout_load_no_field_of_a_piece_late(client, way):
    from stores.models import StockLevel
    from tests.stores.factories import warehouse

    StoreFactory(code="budget")
    depot = warehouse(code="budget-wh")
    MetalRateFactory()
    pieces = [VariantFactory(), ByWeightVariantFactory()]
    for piece in pieces:
        stock_receive(store=depot, variant=piece, quantity=3)
    client.get("/api/v1/cart/")
    token = client.cookies["csrftoken"].value
    with CaptureQueriesContext(connection) as queries:
        for piece in pieces:
            answer = _post(client, "/api/v1/cart/items/", {"sku": piece.sku}, token)
            assert answer.status_code == 201, answer.content
        if way == "sold out meanwhile":
            StockLevel.objects.filter(variant=pieces[1]).update(reserved=3)
        order = ({"fulfilment": "delivery", "address": {
            "recipient": "林小姐", "phone": "13800138000", "province": "上海市",
            "city": "上海市", "district": "静安区", "street": "南京西路 1266 号",
            "postcode": "200040"}} if way == "delivery"
            else {"fulfilment": "pickup", "store": "budget", "pay_at_counter": True})
        answer = _post(client, "/api/v1/checkout/", {
            **order, "contact_name": "林小姐", "contact_phone": "13800138000"}, token)
    assert answer.status_code == (409 if way == "sold out meanwhile" else 201), answer.content
    assert _piece_reads(queries) == []
