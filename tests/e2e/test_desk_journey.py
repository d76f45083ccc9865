"""Store staff in the back office: a paid pickup found by its code at the desk and handed over;
a counter sale rung up, paid at the card terminal, with its receipt."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from members import roles
from orders.models import Order, OrderStatus
from stores.models import StaffAssignment, StockLevel
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.members.factories import StaffFactory
from tests.orders.factories import pickup_order
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 42"  # the factories' password


@pytest.fixture
def shop(transactional_db):
    roles.roles_sync(apps)
    store = StoreFactory(code="e2e-desk", name="上海南京西路店", name_en="Nanjing Road West")
    clerk = StaffFactory(email="desk@example.com", name="陈晓雯")
    clerk.groups.add(Group.objects.get(name=roles.STORE_STAFF))
    StaffAssignment.objects.create(user=clerk, store=store)
    return store, clerk


def log_in(page, user):
    page.goto("/en/admin/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#user-tools")).to_be_visible()


def test_staff_find_a_paid_pickup_by_code_and_hand_it_over(page, shop, screenshot):
    store, clerk = shop
    bangle = VariantFactory(product__name="古法金手镯", product__name_en="Heritage gold bangle")
    order = pickup_order(store=store, variants=[bangle], paid=True)
    log_in(page, clerk)
    page.goto("/en/admin/orders/order/")
    # The order list's own link (the sidebar has the index entry of the same name).
    page.locator("#content-main").get_by_role("link", name="Pickup desk").click()
    expect(page.get_by_text("Nanjing Road West")).to_be_visible()  # their store, preselected
    page.fill("input[name=q]", order.pickup_code)
    page.get_by_role("button", name="Find").click()
    card = page.locator(f"[data-number='{order.number}']")
    expect(card.get_by_text("林小姐")).to_be_visible()
    expect(card.get_by_text(bangle.sku)).to_be_visible()
    expect(card.locator(".od-status")).to_have_text("ready for pickup")
    screenshot(page, "found")
    card.get_by_label("Last 4 digits of the shopper's mobile").fill("8000")
    card.get_by_role("button", name="Confirm hand-over").click()
    # The confirmation names the order and the shopper (its wording is not asserted).
    done = page.locator(".messagelist li.success")
    expect(done).to_contain_text(order.number)
    expect(done).to_contain_text(order.contact_name)
    expect(page.locator(f"[data-number='{order.number}'] .od-status")).to_have_text("completed")
    screenshot(page, "handed-over")
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert StockLevel.objects.get(store=store, variant=bangle).on_hand == 0


def test_a_clerk_rings_up_a_counter_sale_and_prints_the_receipt(page, shop, screenshot):
    store, clerk = shop
    ring = VariantFactory(sku="RING-E2E", barcode="6901234000017",
                          product__name="钻石对戒", product__name_en="Diamond band")
    stock_receive(store=store, variant=ring, quantity=2)
    log_in(page, clerk)
    page.goto("/en/admin/orders/order/")
    page.locator("#content-main").get_by_role("link", name="Ring up a sale").click()
    page.get_by_label("Member's mobile").fill("139 1234 0000")
    page.get_by_label("Name (new member)").fill("周女士")
    page.get_by_label("Pieces").fill("6901234000017\n")  # a scanner types the barcode
    page.get_by_role("button", name="Check pieces and prices").click()
    expect(page.locator("[data-total]")).to_have_text("¥1,999")
    expect(page.locator("[data-member]")).to_contain_text("registers one")
    page.get_by_label("card terminal").check()
    page.get_by_label("Terminal reference").fill("POS-778812")
    screenshot(page, "checked")
    page.get_by_role("button", name="Payment received: complete the sale").click()
    receipt = page.locator(".od-receipt")
    expect(receipt).to_contain_text("钻石对戒")  # the name frozen on the line
    expect(receipt).to_contain_text("POS-778812")
    expect(receipt).to_contain_text("¥1,999")
    screenshot(page, "receipt")
    page.emulate_media(media="print")
    expect(page.locator("#header")).to_be_hidden()
    expect(page.get_by_role("button", name="Print the receipt")).to_be_hidden()
    screenshot(page, "receipt-print")
    order = Order.objects.get(channel="store")
    assert order.status == OrderStatus.COMPLETED and order.member.phone == "+8613912340000"
    assert StockLevel.objects.get(store=store, variant=ring).on_hand == 1
