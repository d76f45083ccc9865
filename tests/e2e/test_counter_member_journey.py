"""A clerk registers a shopper as a member at the counter (consent as stated), then rings
up the sale with a printed single-use coupon code; the receipt, the redemption and the
member record agree."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from members import roles
from members.models import (
    Consent,
    Coupon,
    CouponBatch,
    CouponDefinition,
    CouponStatus,
    DiscountKind,
    MemberProfile,
    Redemption,
    User,
)
from orders.models import Order, OrderStatus
from stores.models import StaffAssignment
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.members.factories import StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 42"


def test_a_clerk_registers_a_member_and_redeems_a_printed_code(page, screenshot):
    roles.roles_sync(apps)
    store = StoreFactory(code="e2e-counter", name="上海南京西路店", name_en="Nanjing Road West")
    clerk = StaffFactory(email="counter@example.com", name="陈晓雯")
    clerk.groups.add(Group.objects.get(name=roles.STORE_STAFF))
    StaffAssignment.objects.create(user=clerk, store=store)
    ring = VariantFactory(product__name="钻石戒指", product__name_en="Diamond ring",
                          list_price=Decimal("4000.00"))
    stock_receive(store=store, variant=ring, quantity=1)
    definition = CouponDefinition.objects.create(
        name="门店专享 ¥300", kind=DiscountKind.THRESHOLD, value=Decimal("300"),
        min_spend=Decimal("3000"), channel="store")
    batch = CouponBatch.objects.create(definition=definition, quantity=1)
    Coupon.objects.create(definition=definition, code="PRINTED8K2M", batch=batch)

    page.goto("/en/admin/login/")
    page.fill("input[name=username]", clerk.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#user-tools")).to_be_visible()

    page.goto("/en/admin/members/memberprofile/register/")
    page.fill("input[name=phone]", "139 1234 5678")
    page.fill("input[name=name]", "Zhou Lan")
    page.locator("input[name=email_consent][value=no]").check()
    page.locator("input[name=sms_consent][value=yes]").check()
    screenshot(page, "register")
    page.locator("#content-main form [type=submit]").first.click()
    expect(page.locator("[data-created='1']")).to_be_visible()
    expect(page.locator("[data-phone]")).to_have_text("139****5678")
    screenshot(page, "registered")

    page.locator("#content-main a[href*='/orders/order/counter/']").click()
    expect(page.locator("input[name=phone]")).to_have_value("+8613912345678")
    page.fill("textarea[name=lines]", ring.sku)
    page.fill("input[name=coupon_code]", "printed-8k2m")  # typed as the slip shows it
    page.locator("button[name=step][value=check]").click()
    expect(page.locator("[data-coupon-row]")).to_contain_text("PRINTED8K2M")
    expect(page.locator("[data-total]")).to_contain_text("3,700")
    page.locator("input[name=provider][value=cash]").check()
    screenshot(page, "sale-checked")
    page.locator("button[name=step][value=pay]").click()
    expect(page.get_by_text("PRINTED8K2M")).to_be_visible()  # on the receipt
    screenshot(page, "receipt")

    member = User.objects.get(phone="+8613912345678")
    profile = MemberProfile.objects.get(user=member)
    assert (profile.registered_channel, profile.registered_store, profile.registered_by) == (
        "store", store, clerk)
    assert list(Consent.objects.filter(member=member, withdrawn_at__isnull=True)
                .values_list("channel", "source", "store__code")) == [("sms", "store", store.code)]
    order = Order.objects.get()
    assert (order.member, order.status, order.total, order.coupon_discount) == (
        member, OrderStatus.COMPLETED, Decimal("3700.00"), Decimal("300.00"))
    redemption = Redemption.objects.get()
    assert (redemption.channel, redemption.store, redemption.member, redemption.actor) == (
        "store", store, member, clerk)
    assert Coupon.objects.get(code="PRINTED8K2M").status == CouponStatus.REDEEMED
    # Collected at the counter: the member earned points on what was paid.
    profile.refresh_from_db()
    assert profile.points_balance == 3700
