"""The order pages' own forms work in a real browser (their referrer policy once made
Chromium post ``Origin: null``, and every form there answered a CSRF 403)."""

import re
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from orders.emails import order_link
from orders.models import Order, OrderStatus
from tests.orders.factories import pickup_order
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def path_of(url: str) -> str:
    return urlsplit(url).path


@override_settings(STRIPE_SECRET_KEY="")
def test_a_guest_pays_then_another_cancels_from_the_signed_order_link(page, live_server,
                                                                      screenshot):
    store = StoreFactory()
    first, second = pickup_order(store=store), pickup_order(store=store)
    page.goto(path_of(order_link(first, language="en")))
    expect(page.locator("meta[name=referrer]")).to_have_attribute("content", "same-origin")
    screenshot(page, "order-by-link")
    page.get_by_role("button", name="Pay now").click()
    expect(page).to_have_url(re.compile(r"/pay/test/"))
    page.locator("button[name=action][value=pay]").click()
    expect(page.locator("[data-pickup-code]")).to_be_visible()
    assert Order.objects.get(pk=first.pk).status == OrderStatus.READY_FOR_PICKUP

    page.goto(path_of(order_link(second)))
    page.locator("form.oa-cancel button").click()
    expect(page.locator("main")).not_to_contain_text("403")
    screenshot(page, "cancelled")
    assert Order.objects.get(pk=second.pk).status == OrderStatus.CANCELLED
