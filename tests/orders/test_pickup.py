"""The pickup desk: find by code (only at the order's own store) or phone, rate limited per
staff user and per store, the phone tail at the hand-over, pay at the counter then hand
over, another store's staff refused (403), and one hand-over under parallel clerks."""

import pytest
from django.apps import apps
from django.db import connections
from django.urls import reverse
from django.utils import translation

from members import roles
from orders.errors import OrderInvalid, OrderTransitionNotAllowed, PaymentMismatch
from orders.models import Order, OrderEvent, OrderStatus, Payment
from orders.services import order_collected
from orders.services.pickup import (
    PickupRefused,
    pickup_find,
    pickup_hand_over,
    pickup_pay_and_collect,
    pickup_search,
)
from stores.errors import NotYourStore
from stores.models import StockLevel
from tests.concurrency import race
from tests.fixtures import staff_of
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory, warehouse

from .factories import pickup_order

S = OrderStatus
PASSWORD = "correct horse 42"


def url(name, *args):
    """An English admin page's address (/en/admin/...): the words asserted are the msgids.

    Reversed under "en" at each call: every request leaves the thread in the default
    language (o2o.middleware), so a test-wide override would not outlive the first one."""
    with translation.override("en"):
        return reverse(name, args=args or None)


def stock(store, order):
    line = order.lines.get()
    level = StockLevel.objects.get(store=store, variant=line.variant)
    return level.on_hand, level.reserved


@pytest.fixture
def desk(db):
    roles.roles_sync(apps)
    a, b = StoreFactory(code="desk-a"), StoreFactory(code="desk-b")
    return {"a": a, "b": b, "clerk_a": staff_of(a), "clerk_b": staff_of(b)}


def desk_url(**params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return url("admin:orders_order_desk") + (f"?{query}" if query else "")


# --- The service -------------------------------------------------------------------------


def test_a_code_opens_an_order_only_at_its_own_store(desk):
    order = pickup_order(store=desk["a"], paid=True)
    assert pickup_find(store=desk["a"], actor=desk["clerk_a"], code=order.pickup_code) == [order]
    # Spaces as printed on the slip are fine; the code alone opens nothing elsewhere.
    spaced = f"{order.pickup_code[:4]} {order.pickup_code[4:]}"
    assert pickup_find(store=desk["a"], actor=desk["clerk_a"], code=spaced) == [order]
    assert pickup_find(store=desk["b"], actor=desk["clerk_b"], code=order.pickup_code) == []
    with pytest.raises(OrderInvalid) as bad:
        pickup_find(store=desk["a"], actor=desk["clerk_a"], code="12ab")
    assert bad.value.code == "bad_pickup_code"


def test_find_by_phone_lists_the_waiting_pickups_of_this_store(desk):
    mine = pickup_order(store=desk["a"], paid=True, contact_phone="+8613912345678")
    unpaid = pickup_order(store=desk["a"], pay_at_counter=True, contact_phone="+8613912345678")
    pickup_order(store=desk["b"], paid=True, contact_phone="+8613912345678")  # other store
    member = UserFactory(phone="+8613911112222")
    by_member = pickup_order(store=desk["a"], paid=True, member=member)
    found = pickup_search(store=desk["a"], actor=desk["clerk_a"], query="139 1234 5678")
    assert set(found) == {mine, unpaid}
    assert pickup_search(store=desk["a"], actor=desk["clerk_a"],
                         query="13911112222") == [by_member]
    with pytest.raises(OrderInvalid) as bad:
        pickup_search(store=desk["a"], actor=desk["clerk_a"], query="not a phone")
    assert bad.value.code == "bad_phone"


def test_staff_of_another_store_cannot_look_up_or_hand_over(desk):
    order = pickup_order(store=desk["a"], paid=True)
    with pytest.raises(NotYourStore):
        pickup_find(store=desk["a"], actor=desk["clerk_b"], code=order.pickup_code)
    with pytest.raises(NotYourStore):
        pickup_hand_over(order=order, store=desk["a"], actor=desk["clerk_b"], phone_tail="8000")
    order.refresh_from_db()
    assert order.status == S.READY_FOR_PICKUP


def test_hand_over_checks_the_phone_tail_then_moves_the_stock_out(desk, django_capture_on_commit_callbacks):
    order = pickup_order(store=desk["a"], paid=True)  # contact phone +8613800138000
    assert stock(desk["a"], order) == (1, 1)
    with pytest.raises(PickupRefused) as wrong:
        pickup_hand_over(order=order, store=desk["a"], actor=desk["clerk_a"], phone_tail="1234")
    assert wrong.value.code == "phone_tail_mismatch"
    assert stock(desk["a"], order) == (1, 1)

    received = []

    def listener(sender, order, **kwargs):
        received.append(order.pk)

    order_collected.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            done = pickup_hand_over(order=order, store=desk["a"], actor=desk["clerk_a"],
                                    phone_tail="8000")
    finally:
        order_collected.disconnect(listener)
    assert done.status == S.COMPLETED and received == [order.pk]
    assert stock(desk["a"], order) == (0, 0)
    assert OrderEvent.objects.filter(order=order, kind="status", actor=desk["clerk_a"],
                                     data__to=S.COLLECTED, data__via="pickup desk").exists()
    # A second confirmation changes nothing.
    again = pickup_hand_over(order=order, store=desk["a"], actor=desk["clerk_a"],
                             phone_tail="8000")
    assert again.status == S.COMPLETED and stock(desk["a"], order) == (0, 0)


def test_an_unpaid_pickup_is_not_handed_over_without_the_payment(desk):
    order = pickup_order(store=desk["a"], pay_at_counter=True)
    with pytest.raises(OrderTransitionNotAllowed) as refused:
        pickup_hand_over(order=order, store=desk["a"], actor=desk["clerk_a"], phone_tail="8000")
    assert refused.value.code == "payment_first"


def test_pay_at_the_counter_then_hand_over(desk):
    order = pickup_order(store=desk["a"], pay_at_counter=True)
    with pytest.raises(PickupRefused) as no_ref:
        pickup_pay_and_collect(order=order, store=desk["a"], actor=desk["clerk_a"],
                               provider="card", reference=" ", phone_tail="8000")
    assert no_ref.value.code == "reference_required"
    with pytest.raises(PickupRefused):
        pickup_pay_and_collect(order=order, store=desk["a"], actor=desk["clerk_a"],
                               provider="stripe", reference="x", phone_tail="8000")
    with pytest.raises(PaymentMismatch):
        pickup_pay_and_collect(order=order, store=desk["a"], actor=desk["clerk_a"],
                               provider="cash", phone_tail="8000", amount=order.total - 1)
    assert Payment.objects.filter(order=order).count() == 0

    done = pickup_pay_and_collect(order=order, store=desk["a"], actor=desk["clerk_a"],
                                  provider="alipay", reference="ALI-778899", phone_tail="8000")
    assert done.status == S.COMPLETED
    payment = Payment.objects.get(order=order)
    assert (payment.provider, payment.reference, payment.amount) == ("alipay", "ALI-778899",
                                                                    order.total)
    assert stock(desk["a"], order) == (0, 0)
    moves = list(order.events.filter(kind="status").values_list("data__to", flat=True))
    assert moves == [S.PAID, S.READY_FOR_PICKUP, S.COLLECTED, S.COMPLETED]


def test_a_wrong_tail_at_the_counter_payment_records_no_money(desk):
    order = pickup_order(store=desk["a"], pay_at_counter=True)
    with pytest.raises(PickupRefused):
        pickup_pay_and_collect(order=order, store=desk["a"], actor=desk["clerk_a"],
                               provider="cash", phone_tail="0000")
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT and not order.payments.exists()


def test_a_warehouse_is_no_pickup_desk(desk):
    depot = warehouse(code="wh-desk")
    clerk = staff_of(depot)
    with pytest.raises(OrderInvalid):
        pickup_find(store=depot, actor=clerk, code="12345678")


@pytest.mark.django_db(transaction=True)
def test_two_clerks_confirming_at_once_move_the_stock_out_once():
    roles.roles_sync(apps)
    store = StoreFactory(code="desk-race")
    order = pickup_order(store=store, paid=True)
    clerks = [staff_of(store), staff_of(store)]
    done, errors = race(2, lambda i: pickup_hand_over(order=order, store=store, actor=clerks[i],
                                                       phone_tail="8000"))
    assert errors == [] and {o.status for o in done} == {S.COMPLETED}
    assert stock(store, order) == (0, 0)
    assert order.events.filter(kind="status", data__to=S.COLLECTED).count() == 1
    connections.close_all()


# --- The desk in the admin ------------------------------------------------------------------


def test_the_desk_finds_a_code_and_confirms_the_hand_over(client, desk):
    order = pickup_order(store=desk["a"], paid=True)
    client.force_login(desk["clerk_a"])
    page = client.get(desk_url())
    assert page.status_code == 200 and b"desk-a" in page.content  # preselected: their store
    found = client.get(desk_url(store="desk-a", q=order.pickup_code))
    assert found.status_code == 200
    assert order.number in found.content.decode() and "Confirm hand-over" in found.content.decode()
    # The card asks for the last 4 digits of +8613800138000 and never shows them.
    assert "138 **** ****" in found.content.decode()
    assert "8000" not in found.content.decode().replace(order.pickup_code, "")
    listed = client.get(url("admin:orders_order_changelist")).content.decode()
    assert "138 **** ****" in listed and "****8000" not in listed

    collect = url("admin:orders_order_desk_collect", order.pk)
    wrong = client.post(collect, {"store": "desk-a", "phone_tail": "9999"})
    assert wrong.status_code == 400
    assert Order.objects.get(pk=order.pk).status == S.READY_FOR_PICKUP
    done = client.post(collect, {"store": "desk-a", "phone_tail": "8000"})
    assert done.status_code == 302
    assert Order.objects.get(pk=order.pk).status == S.COMPLETED
    card = client.get(done["Location"])
    assert card.status_code == 200 and "used: handed over" in card.content.decode()


def test_the_desk_takes_the_counter_payment(client, desk):
    order = pickup_order(store=desk["a"], pay_at_counter=True)
    client.force_login(desk["clerk_a"])
    found = client.get(desk_url(store="desk-a", q=order.pickup_code))
    assert "Payment received: hand over" in found.content.decode()
    pay = url("admin:orders_order_desk_pay", order.pk)
    missing = client.post(pay, {"store": "desk-a", "provider": "wechat", "reference": "",
                                "phone_tail": "8000"})
    assert missing.status_code == 400 and "terminal" in missing.content.decode()
    assert not Payment.objects.filter(order=order).exists()
    bad = client.post(pay, {"store": "desk-a", "provider": "bitcoin", "phone_tail": "8000"})
    assert bad.status_code == 400
    ok = client.post(pay, {"store": "desk-a", "provider": "wechat", "reference": "WX-1",
                           "phone_tail": "8000"})
    assert ok.status_code == 302
    assert Order.objects.get(pk=order.pk).status == S.COMPLETED


def test_the_desk_refuses_another_stores_staff_with_403(client, desk):
    order = pickup_order(store=desk["a"], paid=True)
    client.force_login(desk["clerk_b"])
    looked = client.get(desk_url(store="desk-a", q=order.pickup_code))
    assert looked.status_code == 403 and order.number not in looked.content.decode()
    posted = client.post(url("admin:orders_order_desk_collect", order.pk),
                         {"store": "desk-a", "phone_tail": "8000"})
    assert posted.status_code == 403
    # Their own store does not know the code.
    own = client.get(desk_url(store="desk-b", q=order.pickup_code))
    assert own.status_code == 200 and order.number not in own.content.decode()
    assert Order.objects.get(pk=order.pk).status == S.READY_FOR_PICKUP


def test_bad_input_at_the_desk_is_a_clear_4xx(client, desk):
    client.force_login(desk["clerk_a"])
    assert client.get(desk_url(store="desk-a", q="hello")).status_code == 400
    assert client.get(desk_url(store="no-such-store", q="12345678")).status_code == 404
    assert client.get(url("admin:orders_order_desk_order", 999999)
                      + "?store=desk-a").status_code == 404
    assert client.get(url("admin:orders_order_desk_collect", 1)).status_code == 403


def test_lookups_are_rate_limited_per_staff_user(client, desk, settings):
    settings.PICKUP_LOOKUP_RATE_USER = "3/h"
    settings.PICKUP_LOOKUP_RATE_STORE = "100/h"
    other = staff_of(desk["a"])
    client.force_login(desk["clerk_a"])
    codes = [client.get(desk_url(store="desk-a", q=f"{10000000 + i}")).status_code
             for i in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get(desk_url(store="desk-a", q="10000009"))
    assert limited.status_code == 429 and "Too many pickup lookups" in limited.content.decode()
    # A colleague at the same store is not limited by this clerk's tries.
    client.force_login(other)
    assert client.get(desk_url(store="desk-a", q="10000010")).status_code == 200


def test_lookups_are_rate_limited_per_store(client, desk, settings):
    settings.PICKUP_LOOKUP_RATE_USER = "100/h"
    settings.PICKUP_LOOKUP_RATE_STORE = "4/h"
    order = pickup_order(store=desk["a"], paid=True)
    clerks = [staff_of(desk["a"]) for _ in range(5)]
    statuses = []
    for clerk in clerks:
        client.force_login(clerk)
        statuses.append(client.get(desk_url(store="desk-a", q=order.pickup_code)).status_code)
    assert statuses == [200, 200, 200, 200, 429]
    # Another store's desk keeps its own count.
    client.force_login(desk["clerk_b"])
    assert client.get(desk_url(store="desk-b", q="12345678")).status_code == 200


def test_another_stores_clerk_cannot_use_up_a_desks_lookups(client, desk, settings):
    """Refused for the store before anything is counted: 130 lookups aimed at store A by
    B's clerk leave A's clerk (and A's count) untouched."""
    settings.PICKUP_LOOKUP_RATE_USER = "200/h"
    settings.PICKUP_LOOKUP_RATE_STORE = "5/h"
    order = pickup_order(store=desk["a"], paid=True)
    client.force_login(desk["clerk_b"])
    refused = {client.get(desk_url(store="desk-a", q=f"{20000000 + i}")).status_code
               for i in range(130)}
    assert refused == {403}
    client.force_login(desk["clerk_a"])
    answers = [client.get(desk_url(store="desk-a", q=order.pickup_code)).status_code
               for _ in range(5)]
    assert answers == [200] * 5
    # B's clerk keeps their own desk and their own count.
    client.force_login(desk["clerk_b"])
    assert client.get(desk_url(store="desk-b", q="12345678")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_clerks_taking_the_counter_payment_at_once_record_it_once():
    roles.roles_sync(apps)
    store = StoreFactory(code="desk-pay-race")
    order = pickup_order(store=store, pay_at_counter=True)
    clerks = [staff_of(store), staff_of(store)]
    done, errors = race(2, lambda i: pickup_pay_and_collect(
        order=order, store=store, actor=clerks[i], provider="cash", phone_tail="8000"))
    assert len(done) == 1 and done[0].status == S.COMPLETED
    assert len(errors) == 1 and isinstance(errors[0], OrderTransitionNotAllowed)
    assert Payment.objects.filter(order=order).count() == 1
    assert stock(store, order) == (0, 0)
    connections.close_all()


def test_a_code_lookup_costs_a_fixed_number_of_queries(desk, django_assert_max_num_queries):
    order = pickup_order(store=desk["a"], paid=True)
    with django_assert_max_num_queries(4):  # store check, order (+store, member), lines, payments
        found = pickup_find(store=desk["a"], actor=desk["clerk_a"], code=order.pickup_code)
        assert [line.sku for line in found[0].lines.all()] and found[0].payments.all()
