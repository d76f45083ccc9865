"""Journeys in the browser: a new member signs up and finds the welcome gift in the
wallet; a member sets a gold price alert and receives it when a manager enters a lower
rate in the admin."""

import re
from decimal import Decimal

import pytest
from django.apps import apps
from playwright.sync_api import expect

from catalog.services import metal_rate_create
from journeys.builtins import builtins_ensure
from journeys.models import GoldPriceAlert, JourneyEnrolment
from members import roles
from members.models import Coupon, CouponDefinition, DiscountKind
from tests.members.factories import StaffFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 42"


@pytest.fixture
def journeys(settings):
    settings.QUIET_HOURS = ""
    roles.roles_sync(apps)
    gift = CouponDefinition.objects.create(
        name="New member gift: ¥100 off over ¥800", kind=DiscountKind.AMOUNT,
        value=Decimal("100"), min_spend=Decimal("800"), valid_days=30)
    builtins_ensure(enable=True, coupons={"welcome": gift.pk})
    return gift


def test_a_new_member_signs_up_and_finds_the_welcome_gift(page, journeys, screenshot):
    page.goto("/en/accounts/signup/")
    expect(page.get_by_text("A welcome gift")).to_be_visible()  # promised: the journey runs
    page.fill("input[name=phone]", "13912340016")
    page.fill("input[name=email]", "newbie@example.com")
    page.fill("input[name=password1]", "a sturdy pass 42")
    page.fill("input[name=password2]", "a sturdy pass 42")
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/signup/"))
    page.goto("/en/account/coupons/")
    coupon = Coupon.objects.get(member__email="newbie@example.com")
    wallet = page.locator("main")
    expect(wallet.get_by_text("¥100 off orders over ¥800")).to_be_visible()
    expect(wallet.get_by_text(coupon.code)).to_be_visible()
    screenshot(page, "journeys-welcome-wallet")
    assert coupon.definition == journeys
    assert JourneyEnrolment.objects.get(member=coupon.member).messages_sent == 1
    page.goto("/en/account/inbox/")
    expect(page.get_by_text("Welcome to Jinyuan Jewellery")).to_be_visible()


def test_a_gold_price_alert_is_received_after_a_manager_enters_a_lower_rate(
        browser, live_server, journeys, screenshot):
    metal_rate_create(metal="gold", purity="999", rate_per_gram=Decimal("620.00"))
    member = UserFactory(phone="+8613900007777", email="gold@example.com", name="Wang Fang",
                         language="en")
    manager = StaffFactory(email="manager@example.com", is_superuser=True)

    shopper = browser.new_context(base_url=live_server.url).new_page()
    shopper.goto("/en/accounts/login/")
    shopper.fill("input[name=login]", "13900007777")
    shopper.fill("input[name=password]", PASSWORD)
    shopper.locator("main form button[type=submit]").click()
    expect(shopper).not_to_have_url(re.compile(r"/accounts/login/"))
    shopper.goto("/en/account/gold-alerts/")
    shopper.select_option("select[name=metal]", "gold:999")
    shopper.fill("input[name=target]", "600")
    shopper.get_by_role("button", name="Set the alert").click()
    expect(shopper.locator("[data-alerts]")).to_contain_text("600")
    expect(shopper.locator("[data-alerts]")).to_contain_text("Waiting")

    office = browser.new_context(base_url=live_server.url).new_page()
    office.goto("/en/admin/login/")
    office.fill("input[name=username]", manager.email)
    office.fill("input[name=password]", PASSWORD)
    office.locator("input[type=submit]").click()
    office.goto("/en/admin/catalog/metalrate/add/")
    office.select_option("select[name=metal]", "gold")
    office.fill("input[name=purity]", "999")
    office.fill("input[name=rate_per_gram]", "598.00")
    office.locator("input[name=_save]").click()
    expect(office.locator(".messagelist")).to_be_visible()

    shopper.goto("/en/account/inbox/")
    item = shopper.locator("[data-inbox-item]").first
    expect(item).to_contain_text("The gold price reached your target")
    expect(item).to_contain_text("598")
    screenshot(shopper, "journeys-gold-alert-inbox")
    shopper.goto("/en/account/gold-alerts/")
    expect(shopper.locator("[data-alerts]")).to_contain_text("Told on")
    alert = GoldPriceAlert.objects.get(member=member)
    assert alert.fired_rate == Decimal("598.00")
