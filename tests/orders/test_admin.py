"""The order admin: store staff see their stores' orders only (superusers see all), the status
is read-only, the moves are buttons and actions that call orders.services; the desk and
counter are for store staff; every page renders, and bad input is never a 500."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from members import roles
from orders.models import Fulfilment, Order, OrderEvent, OrderStatus
from orders.services import order_place
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.fixtures import staff_of
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory, warehouse

from .factories import pay, pickup_order

S = OrderStatus
pytestmark = pytest.mark.django_db


def url(name, *args):
    """An English admin page's address (/en/admin/...): the words asserted are the msgids.

    Reversed under "en" at each call: every request leaves the thread in the default
    language (o2o.middleware), so a test-wide override would not outlive the first one."""
    with translation.override("en"):
        return reverse(name, args=args or None)


@pytest.fixture
def world(db):
    roles.roles_sync(apps)
    a, b, depot = StoreFactory(code="adm-a"), StoreFactory(code="adm-b"), warehouse(code="adm-wh")
    variant = VariantFactory()
    stock_receive(store=depot, variant=variant, quantity=5)
    delivery = order_place(lines=[(variant, 1)], fulfilment=Fulfilment.DELIVERY, stock_from=depot,
                           contact_name="快递客户", contact_phone="+8613800001111")
    return {
        "a": a, "b": b, "depot": depot, "variant": variant,
        "order_a": pickup_order(store=a, paid=True),
        "order_b": pickup_order(store=b, paid=True),
        "unpaid_a": pickup_order(store=a, pay_at_counter=True),
        "delivery": delivery,
        "staff_a": staff_of(a),
        "manager_a": staff_of(a, group=roles.STORE_MANAGER),
        "admin": UserFactory(is_staff=True, is_superuser=True),
        "analyst": staff_of(group=roles.ANALYST),
    }


def changelist(client):
    return client.get(url("admin:orders_order_changelist"))


def test_store_staff_and_managers_see_only_their_stores_orders(client, world):
    for who in ("staff_a", "manager_a"):
        client.force_login(world[who])
        page = changelist(client)
        text = page.content.decode()
        assert page.status_code == 200
        assert world["order_a"].number in text and world["unpaid_a"].number in text
        assert world["order_b"].number not in text and world["delivery"].number not in text
        other = client.get(url("admin:orders_order_change", world["order_b"].pk))
        assert other.status_code == 302  # the admin's "does not exist" redirect, not shown
        assert world["order_b"].number not in client.get(other["Location"]).content.decode()
        assert "Pickup desk" in text and "Ring up a sale" in text
        app = client.get(url("admin:app_list", "orders")).content.decode()
        assert url("admin:orders_order_desk") in app


def test_superusers_see_every_order(client, world):
    client.force_login(world["admin"])
    text = changelist(client).content.decode()
    for key in ("order_a", "order_b", "unpaid_a", "delivery"):
        assert world[key].number in text
    order = world["order_b"]
    page = client.get(url("admin:orders_order_change", order.pk)).content.decode()
    assert order.pickup_code in page and 'name="pickup_code"' not in page


def test_the_order_page_shows_the_audit_trail_and_a_read_only_status(client, world):
    client.force_login(world["staff_a"])
    order = world["order_a"]
    page = client.get(url("admin:orders_order_change", order.pk))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'name="status"' not in text  # read-only
    assert order.pickup_code not in text  # opened at the desk, not read here
    # The audit trail in words, not codes: "Status: paid → ready for pickup".
    assert "Status: paid → ready for pickup" in text and "pickup desk" in text.lower()
    assert "ready_for_pickup" not in text
    assert "&quot;from&quot;" not in text and '"from":' not in text
    # Saving the form writes nothing.
    client.post(url("admin:orders_order_change", order.pk), {"status": "completed"})
    order.refresh_from_db()
    assert order.status == S.READY_FOR_PICKUP


def test_staff_cancel_an_unpaid_order_through_the_service(client, world):
    client.force_login(world["staff_a"])
    order = world["unpaid_a"]
    page = client.get(url("admin:orders_order_change", order.pk))
    assert "Cancel (unpaid)" in page.content.decode()
    response = client.post(url("admin:orders_order_act", order.pk, "cancel"))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert OrderEvent.objects.filter(order=order, kind="status", actor=world["staff_a"],
                                     data__to=S.CANCELLED, data__via="admin").exists()
    # A paid order cannot be cancelled here: a clear message, nothing changed.
    paid = world["order_a"]
    client.post(url("admin:orders_order_act", paid.pk, "cancel"))
    paid.refresh_from_db()
    assert paid.status == S.READY_FOR_PICKUP
    # Another store's order is not found; a GET or an unknown move is refused.
    assert client.post(url("admin:orders_order_act", world["order_b"].pk,
                           "cancel")).status_code == 404
    assert client.get(url("admin:orders_order_act", order.pk, "cancel")).status_code == 403
    assert client.post(url("admin:orders_order_act", order.pk, "explode")).status_code == 403


def test_delivery_orders_are_shipped_and_delivered_by_actions(client, world):
    delivery = pay(world["delivery"])
    client.force_login(world["admin"])
    page = client.get(url("admin:orders_order_change", delivery.pk))
    assert url("admin:orders_order_act", delivery.pk, "ship") in page.content.decode()
    response = client.post(url("admin:orders_order_changelist"), {
        "action": "mark_shipped", "_selected_action": [delivery.pk, world["order_a"].pk]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == S.SHIPPED
    assert Order.objects.get(pk=world["order_a"].pk).status == S.READY_FOR_PICKUP  # refused
    client.post(url("admin:orders_order_changelist"), {
        "action": "mark_delivered", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == S.DELIVERED


def test_the_desk_and_counter_are_for_store_staff(client, world):
    client.force_login(world["analyst"])
    assert changelist(client).status_code == 200
    assert client.get(url("admin:orders_order_desk")).status_code == 403
    assert client.get(url("admin:orders_order_counter")).status_code == 403
    client.logout()
    assert client.get(url("admin:orders_order_desk")).status_code == 302  # to the login
    client.force_login(world["admin"])
    assert client.get(url("admin:orders_order_desk")).status_code == 200
    assert client.get(url("admin:orders_order_counter")).status_code == 200


def test_the_desk_and_counter_are_on_the_admin_index_for_store_staff(client, world):
    client.force_login(world["staff_a"])
    index = client.get(url("admin:index")).content.decode()
    for entry in ("orders_pickupdesk_changelist", "orders_countersale_changelist"):
        assert url(f"admin:{entry}") in index
    assert client.get(url("admin:orders_pickupdesk_changelist")).url == url(
        "admin:orders_order_desk")
    assert client.get(url("admin:orders_countersale_changelist")).url == url(
        "admin:orders_order_counter")
    client.force_login(world["analyst"])
    index = client.get(url("admin:index")).content.decode()
    assert url("admin:orders_pickupdesk_changelist") not in index


def test_the_receipt_is_scoped_to_my_stores(client, world):
    client.force_login(world["staff_a"])
    mine = client.get(url("admin:orders_order_receipt", world["order_a"].pk))
    assert mine.status_code == 200 and world["order_a"].number in mine.content.decode()
    theirs = client.get(url("admin:orders_order_receipt", world["order_b"].pk))
    assert theirs.status_code == 404
    evil = client.get(url("admin:orders_order_receipt", world["order_a"].pk)
                      + "?next=https://evil.example/")
    assert "evil.example" not in evil.content.decode()


def test_every_page_renders_and_bad_input_is_no_500(client, world):
    client.force_login(world["staff_a"])
    urls = [
        url("admin:orders_order_changelist") + "?status=paid&q=%27%22",
        url("admin:orders_order_changelist") + "?placed_at__gte=nonsense",
        url("admin:orders_order_desk"),
        url("admin:orders_order_desk") + "?store=adm-a&q=%00%01",
        url("admin:orders_order_desk") + "?store=adm-a&q=" + "9" * 40,
        url("admin:orders_order_desk_order", world["order_a"].pk) + "?store=adm-a",
        url("admin:orders_order_counter"),
        url("admin:orders_order_receipt", world["order_a"].pk),
        url("admin:app_list", "orders"),
    ]
    for address in urls:
        response = client.get(address)
        assert response.status_code < 500, address
        assert response.status_code in (200, 302, 400), (address, response.status_code)
    assert client.post(url("admin:orders_order_desk_pay", world["unpaid_a"].pk),
                       {"store": "adm-a", "provider": "cash", "phone_tail": "abcd"}
                       ).status_code == 400
    assert client.post(url("admin:orders_order_counter"),
                       {"store": "x", "lines": "A" * 5000}).status_code == 400


def test_phone_numbers_are_written_for_people_or_masked_by_role(client, world):
    from catalog.templatetags.shop_tags import phone_display

    assert phone_display("+8613700001234") == "+86 137 0000 1234"
    assert phone_display("+85291234567") == "+852 9123 4567"
    order = world["order_a"]
    order.contact_phone = "+8613700001234"
    order.save(update_fields=["contact_phone"])
    client.force_login(world["staff_a"])  # store staff: no members.view_contact
    page = client.get(url("admin:orders_order_change", order.pk)).content.decode()
    assert "+8613700001234" not in page and "1234" not in page.split("mobile number")[-1][:200]
    assert "137 **** ****" in page
    boss = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(boss)
    page = client.get(url("admin:orders_order_change", order.pk)).content.decode()
    assert "+86 137 0000 1234" in page and "+8613700001234" not in page


def test_the_order_page_writes_money_as_money_and_the_address_in_words(admin_client_, db):
    depot = warehouse(code="money-wh")
    ring = VariantFactory(list_price=Decimal("12800.00"))
    stock_receive(store=depot, variant=ring, quantity=2)
    order = order_place(lines=[(ring, 2)], fulfilment=Fulfilment.DELIVERY, stock_from=depot,
                        contact_name="林小姐", contact_phone="+8613800138000")
    Order.objects.filter(pk=order.pk).update(address={  # as checkout_place stores it
        "recipient": "林小姐", "phone": "+8613800138000", "province": "上海市", "city": "上海市",
        "district": "静安区", "street": "南京西路 1266 号", "postcode": "200040"})
    pay(order)
    text = admin_client_.get(url("admin:orders_order_change", order.pk)).content.decode()
    assert "¥25,600" in text and "¥12,800" in text  # the total, a line's unit price, payment
    assert "25600.00" not in text and "12800.00" not in text and "25600,00" not in text
    assert "上海市 上海市 静安区 南京西路 1266 号 200040" in text
    assert '"province"' not in text and "&quot;province&quot;" not in text  # no JSON
    listed = admin_client_.get(url("admin:orders_order_changelist")).content.decode()
    assert "¥25,600" in listed and "25600.00" not in listed
