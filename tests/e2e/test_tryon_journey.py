"""A guest books a try-on from a piece's page; store staff check the guest in in the admin."""

import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from members import roles
from stores.models import Appointment, StaffAssignment
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.members.factories import StaffFactory
from tests.stores.factories import tryon_store

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 42"  # the factories' password


@pytest.fixture
def setting(transactional_db):
    roles.roles_sync(apps)
    store = tryon_store(code="e2e-shop", name="上海体验店", name_en="Shanghai Showroom", seats=2,
                        lead_minutes=60)
    variant = VariantFactory(product__name="古法金手镯", product__name_en="Heritage gold bangle",
                             product__slug="heritage-gold-bangle")
    stock_receive(store=store, variant=variant, quantity=1)
    staff = StaffFactory(email="floor@example.com", name="陈晓雯")
    staff.groups.add(Group.objects.get(name=roles.STORE_STAFF))
    StaffAssignment.objects.create(user=staff, store=store)
    return store, variant, staff


def test_a_guest_books_a_try_on_and_staff_check_them_in(page, setting, screenshot):
    store, variant, staff = setting
    page.goto(f"/en/try-on/book/?product={variant.product.slug}")
    expect(page.get_by_role("heading", name="Try on Heritage gold bangle")).to_be_visible()
    # The only size is chosen already; picking the store shows the times at once.
    page.get_by_text("Shanghai Showroom").click()
    expect(page).to_have_url(re.compile(r"store=e2e-shop"))
    expect(page.locator(".st-store-option .st-tag--ok")).to_be_visible()  # it has the piece
    free = page.locator("[data-day-panel]:not([hidden]) .st-time--free").first
    time_label = free.locator(".st-time__label").inner_text()
    free.click()
    page.fill("input[name=name]", "林小姐")
    page.fill("input[name=phone]", "138 0013 8000")
    screenshot(page, "booking-form")
    page.get_by_role("button", name="Book the try-on").click()

    expect(page.get_by_text("Your try-on is booked.")).to_be_visible()
    appointment = Appointment.objects.get()
    assert appointment.status == "booked" and appointment.contact_phone == "+8613800138000"
    assert appointment.local_start.strftime("%H:%M") == time_label
    expect(page.get_by_text(appointment.number)).to_be_visible()
    screenshot(page, "confirmation")

    # Store staff log in to the back office and check the shopper in.
    page.goto("/en/admin/login/")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#user-tools")).to_be_visible()  # signed in
    day = appointment.local_start.date().isoformat()
    page.goto(f"/en/admin/stores/appointment/today/?store={store.code}&date={day}")
    card = page.locator(f"[data-number='{appointment.number}']")
    expect(card.get_by_text("林小姐")).to_be_visible()
    expect(page.locator(".st-prep--here")).to_contain_text(variant.sku)
    screenshot(page, "today-before")
    card.get_by_role("button", name="Check in").click()
    expect(page.locator(f"[data-number='{appointment.number}'] .st-status")).to_have_text(
        "checked in")
    screenshot(page, "today-checked-in")
    appointment.refresh_from_db()
    assert appointment.status == "checked_in" and appointment.staff == staff
    assert appointment.events.filter(kind="checked_in", actor=staff).exists()
