"""A guest buys a piece for pickup with the test gateway and sees the pickup code."""

import re
from decimal import Decimal

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from orders.models import Order, OrderStatus
from stores.models import StockLevel
from stores.services import stock_receive
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LATER = re.compile(r"\bco-store--later\b")  # a pickup store that gets the pieces by a transfer


@override_settings(STRIPE_SECRET_KEY="")
def test_a_guest_buys_a_piece_for_pickup_and_sees_the_pickup_code(page, screenshot):
    store = StoreFactory(code="sh-njxl", name="南京西路店", name_en="Nanjing Road West")
    StoreFactory(code="bj-wfj", name="王府井店", name_en="Wangfujing")  # has nothing
    product = ProductFactory(name="珍珠耳钉", name_en="Pearl studs", slug="pearl-studs")
    variant = VariantFactory(product=product, list_price=Decimal("2680.00"))
    stock_receive(store=store, variant=variant, quantity=2)

    page.goto("/en/products/pearl-studs/")
    page.locator("[data-variant-buy]").click()
    expect(page.locator("[data-buy-message]")).to_contain_text("in your bag")
    expect(page.locator("[data-cart-count]")).to_have_text("1")
    screenshot(page, "added-to-bag")

    page.locator("[data-buy-message] a").click()
    expect(page).to_have_url(re.compile(r"/en/cart/$"))
    expect(page.locator("[data-cart-line]")).to_have_count(1)
    screenshot(page, "bag")
    page.locator("[data-checkout]").click()

    expect(page).to_have_url(re.compile(r"/checkout/contact/$"))
    page.fill("input[name=name]", "Lin Xiaomei")
    page.fill("input[name=phone]", "138 0013 8000")
    page.fill("input[name=email]", "lin@example.com")
    screenshot(page, "contact")
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/checkout/fulfilment/$"))
    expect(page.locator("[data-panel=delivery]")).to_be_hidden()
    # The store with the piece is ready today and comes first; the one with nothing can
    # still be chosen, the piece coming by a transfer (dispatch_days of the store sending it).
    expect(page.locator("input[name=store]").first).to_have_attribute("data-store", "sh-njxl")
    expect(page.locator("label:has(input[data-store=sh-njxl])")).not_to_have_class(LATER)
    later = page.locator("label:has(input[data-store=bj-wfj])")
    expect(later).to_have_class(LATER)
    expect(later.locator(".co-tag")).to_contain_text(str(store.dispatch_days))
    expect(page.locator("input[data-store=bj-wfj]")).to_be_enabled()
    page.locator("input[data-store=sh-njxl]").check()
    screenshot(page, "pickup-store")
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/checkout/review/$"))
    expect(page.locator("[data-review-total]")).to_contain_text("2,680")
    screenshot(page, "review")
    page.locator("[data-place-order]").click()

    expect(page).to_have_url(re.compile(r"/pay/test/"))
    screenshot(page, "test-gateway")
    page.locator("button[name=action][value=pay]").click()

    order = Order.objects.get()
    expect(page.locator("[data-pickup-code]")).to_have_text(order.pickup_code)
    screenshot(page, "pickup-code")
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP and order.total == Decimal("2680.00")
    assert StockLevel.objects.get(store=store, variant=variant).reserved == 1
    # The bag is empty now.
    expect(page.locator("[data-cart-count]")).to_be_hidden()
