"""Query budgets of the shopper's busiest writes (Saleor's checkout completion runs
about 220 queries): adding to the bag and checking out through the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

ADD_BUDGET = 15
CHECKOUT_BUDGET = 24  # for one line; more lines add the look-up of their stock rows (to
# lock them in pk order) and one UPDATE each


@pytest.mark.parametrize("lines", [1, 4])
def test_add_to_bag_and_checkout_stay_within_their_budgets(client, lines):
    store = StoreFactory(code="budget")
    variants = VariantFactory.create_batch(lines)
    for variant in variants:
        stock_receive(store=store, variant=variant, quantity=5)
    client.get("/api/v1/cart/")
    token = client.cookies["csrftoken"].value
    for variant in variants:
        with CaptureQueriesContext(connection) as add:
            answer = client.post("/api/v1/cart/items/", {"sku": variant.sku},
                                 content_type="application/json", HTTP_X_CSRFTOKEN=token)
        assert answer.status_code == 201, answer.content
        assert len(add.captured_queries) <= ADD_BUDGET
    with CaptureQueriesContext(connection) as checkout:
        answer = client.post("/api/v1/checkout/", {
            "fulfilment": "pickup", "store": "budget", "pay_at_counter": True,
            "contact_name": "林小姐", "contact_phone": "13800138000"},
            content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert answer.status_code == 201, answer.content
    assert len(checkout.captured_queries) <= CHECKOUT_BUDGET + (lines - 1) + (lines > 1)
