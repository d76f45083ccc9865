"""Feedback that reaches the store: a shopper collects her order at the desk, the survey
email arrives, she answers 3 on her phone; the store manager sees the alert in the back
office and closes the case with a coupon; her wallet shows the coupon."""

import re
from urllib.parse import urlparse

import pytest
from django.apps import apps
from django.core import mail
from playwright.sync_api import expect

from feedback.models import FeedbackCase, SurveyResponse
from members import roles
from members.models import Coupon, CouponDefinition
from o2o.outbox import outbox_deliver
from tests.feedback.factories import clerk_of, manager_of, survey_for
from tests.members.factories import UserFactory
from tests.orders.factories import pickup_order
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 42"  # the factories' password


def log_in_staff(page, user):
    page.goto("/en/admin/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#user-tools")).to_be_visible()


def link_in(body: str, live_server) -> str:
    """The link of an email, on the test server (SHOP_BASE_URL is the live server)."""
    match = re.search(r"https?://\S+", body)
    assert match, body
    url = urlparse(match.group(0))
    return url.path + (f"?{url.query}" if url.query else "")


def test_an_unhappy_pickup_reaches_the_manager_who_makes_it_good_with_a_coupon(
        browser, live_server, page, phone_page, screenshot, settings):
    settings.SHOP_BASE_URL = live_server.url
    settings.QUIET_HOURS = ""
    roles.roles_sync(apps)
    survey_for(delay=0)
    store = StoreFactory(code="e2e-fb", name="上海南京西路店", name_en="Nanjing Road West")
    manager = manager_of(store, email="manager.fb@example.com", name="王静", language="en")
    clerk = clerk_of(store, email="clerk.fb@example.com", name="陈晓雯")
    shopper = UserFactory(email="lin@example.com", name="林小姐", phone="+8613912345678",
                          language="en")
    offer = CouponDefinition.objects.create(name="Care voucher", kind="amount", value=200,
                                            valid_days=90,
                                            description="¥200 off, with our apologies")
    order = pickup_order(store=store, member=shopper, paid=True, language="en")

    # 1. The clerk hands the pieces over at the desk.
    log_in_staff(page, clerk)
    page.goto("/en/admin/orders/order/desk/")
    page.fill("input[name=q]", order.pickup_code)
    page.get_by_role("button", name="Find").click()
    card = page.locator(f"[data-number='{order.number}']")
    card.get_by_label("Last 4 digits of the shopper's mobile").fill("5678")
    card.get_by_role("button", name="Confirm hand-over").click()
    expect(page.locator(".messagelist li.success")).to_contain_text(order.number)

    # 2. The survey email arrives (the outbox sends what is due: the survey has no delay).
    mail.outbox.clear()
    outbox_deliver()
    (invitation,) = [m for m in mail.outbox if "/survey/" in m.body]
    assert invitation.to == ["lin@example.com"]
    assert "Nanjing Road West" in invitation.subject or "上海南京西路店" in invitation.subject

    # 3. She answers on her phone: a 3, and why.
    phone_page.goto(link_in(invitation.body, live_server))
    expect(phone_page.get_by_role("heading", name="How did we do?")).to_be_visible()
    screenshot(phone_page, "survey")
    phone_page.locator(".fb-scale--nps label", has_text=re.compile(r"^3$")).click()
    phone_page.locator(".fb-scale--rating label", has_text=re.compile(r"^2$")).click()
    phone_page.get_by_label("Waiting time").check()
    phone_page.get_by_label("Anything else you would like to tell us?").fill(
        "I waited twenty minutes at the desk, and nobody said sorry.")
    screenshot(phone_page, "answered")
    phone_page.get_by_role("button", name="Send my answers").click()
    expect(phone_page.get_by_role("heading", name="Thank you!")).to_be_visible()
    screenshot(phone_page, "thanks")
    response = SurveyResponse.objects.get()
    assert (response.nps, response.detractor, response.store, response.staff) == (
        3, True, store, clerk)

    # 4. The manager's alert email, then the case in the back office.
    mail.outbox.clear()
    outbox_deliver()
    (alert,) = [m for m in mail.outbox if m.to == [manager.email]]
    assert "nobody said sorry" in alert.body and "+8613912345678" in alert.body
    case = FeedbackCase.objects.get()
    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()  # the manager's own browser
    page.set_default_timeout(15_000)
    log_in_staff(page, manager)
    page.goto("/en/admin/")
    page.get_by_role("link", name="Feedback report").first.click()
    panel = page.locator("[data-panel='feedback.open_cases']")
    expect(panel.locator("[data-open-cases]")).to_have_text("1")
    expect(panel).to_contain_text("nobody said sorry")
    screenshot(page, "manager-home-alert")
    panel.get_by_role("link", name=f"Case {case.pk}").click()
    expect(page.locator(".fb-words")).to_contain_text("nobody said sorry")
    expect(page.locator("[data-phone]")).to_contain_text("+8613912345678")
    page.get_by_role("button", name="I'll take it").click()
    expect(page.locator(".messagelist li.success")).to_be_visible()
    page.get_by_label("Note").fill("Called her: apologised, she accepted a voucher.")
    page.get_by_role("button", name="Add the note").click()
    page.get_by_label("compensated with a coupon").check()
    page.get_by_label("Coupon to give").select_option(str(offer.pk))
    page.get_by_label("What was done").fill("Apologised by phone; a ¥200 voucher.")
    screenshot(page, "closing")
    page.get_by_role("button", name="Close the case").click()
    coupon = Coupon.objects.get(member=shopper, definition=offer)
    expect(page.locator(".messagelist li.success")).to_contain_text(coupon.code)
    expect(page.locator("[data-outcome]")).to_contain_text("compensated")
    screenshot(page, "closed")
    case.refresh_from_db()
    assert (case.status, case.outcome, case.coupon, case.owner) == (
        "closed", "compensated", coupon, manager)

    # 5. Her wallet shows the coupon.
    phone_page.goto("/en/accounts/login/")
    phone_page.fill("input[name=login]", "lin@example.com")
    phone_page.fill("input[name=password]", PASSWORD)
    phone_page.locator("main form button[type=submit]").click()
    expect(phone_page).not_to_have_url(re.compile(r"/accounts/login/"))
    phone_page.goto("/en/account/coupons/")
    wallet_coupon = phone_page.locator(f"[data-coupon='{coupon.code}']")
    expect(wallet_coupon).to_be_visible()
    expect(wallet_coupon).to_contain_text("¥200")
    screenshot(phone_page, "wallet")
    context.close()
