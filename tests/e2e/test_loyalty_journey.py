"""A member pays part of an order with a wallet coupon and points; the order, the
redemption and the points ledger agree with what the page showed."""

import re
from decimal import Decimal

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from members.models import (
    Coupon,
    CouponDefinition,
    CouponStatus,
    DiscountKind,
    PointsEntry,
    PointsKind,
    Redemption,
)
from members.services import points_adjust, points_balance, points_ledger_sum
from orders.models import Order, OrderStatus
from stores.services import stock_receive
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.members.factories import StaffFactory, UserFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 42"


@override_settings(STRIPE_SECRET_KEY="", LOYALTY_POINT_VALUE=Decimal("0.01"),
                   LOYALTY_REDEEM_MAX_SHARE=Decimal("0.5"))
def test_a_member_pays_with_a_wallet_coupon_and_points(page, screenshot):
    store = StoreFactory(code="sh-njxl", name="南京西路店", name_en="Nanjing Road West")
    product = ProductFactory(name="金手镯", name_en="Gold bangle", slug="gold-bangle")
    variant = VariantFactory(product=product, list_price=Decimal("3000.00"))
    stock_receive(store=store, variant=variant, quantity=1)
    member = UserFactory(phone="+8613900001234", email="mei@example.com", name="Lin Mei")
    points_adjust(member=member, points=20_000, note="welcome", actor=StaffFactory())
    definition = CouponDefinition.objects.create(
        name="¥200 off over ¥2,000", kind=DiscountKind.THRESHOLD, value=Decimal("200"),
        min_spend=Decimal("2000"))
    Coupon.objects.create(definition=definition, code="WALLET2000", member=member)

    page.goto("/en/accounts/login/")
    page.fill("input[name=login]", "13900001234")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))

    page.goto("/en/products/gold-bangle/")
    page.locator("[data-variant-buy]").click()
    expect(page.locator("[data-cart-count]")).to_have_text("1")
    page.goto("/en/checkout/contact/")
    page.locator("main form button[type=submit]").click()  # the member's details, prefilled
    expect(page).to_have_url(re.compile(r"/checkout/fulfilment/$"))
    page.locator("input[data-store=sh-njxl]").check()
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/checkout/review/$"))
    expect(page.locator("[data-review-total]")).to_contain_text("3,000")
    # The wallet's coupon is offered; one click applies it.
    page.locator("[data-wallet-coupon=WALLET2000]").click()
    expect(page.locator("[data-coupon-row]")).to_contain_text("WALLET2000")
    expect(page.locator("[data-review-total]")).to_contain_text("2,800")
    # Points pay at most half of what is left (¥1,400 = 140,000 points; they have 20,000).
    expect(page.locator("#id_points")).to_have_attribute("max", "20000")
    page.fill("#id_points", "15000")
    page.locator("[data-apply-discounts]").click()
    expect(page.locator("[data-points-row]")).to_contain_text("15000")
    expect(page.locator("[data-review-total]")).to_contain_text("2,650")
    screenshot(page, "review-with-coupon-and-points")

    page.locator("[data-place-order]").click()
    expect(page).to_have_url(re.compile(r"/pay/test/"))
    page.locator("button[name=action][value=pay]").click()
    order = Order.objects.get()
    expect(page.locator("[data-pickup-code]")).to_have_text(order.pickup_code)
    screenshot(page, "paid")

    order.refresh_from_db()
    assert (order.subtotal, order.coupon_discount, order.points_discount, order.total) == (
        Decimal("3000.00"), Decimal("200.00"), Decimal("150.00"), Decimal("2650.00"))
    assert order.status == OrderStatus.READY_FOR_PICKUP and order.coupon_code == "WALLET2000"
    assert order.payments.get().amount == Decimal("2650.00")
    redemption = Redemption.objects.get()
    assert (redemption.reference, redemption.channel, redemption.discount) == (
        order.number, "online", Decimal("200.00"))
    assert Coupon.objects.get(code="WALLET2000").status == CouponStatus.REDEEMED
    assert PointsEntry.objects.get(kind=PointsKind.REDEEM).points == -15_000
    assert points_balance(member=member) == points_ledger_sum(member=member) == 5_000
