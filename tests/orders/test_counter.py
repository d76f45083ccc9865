"""The counter sale: one transaction from pieces to a completed, paid order with the stock
out; sold out and unknown pieces refused with nothing written; two clerks selling the
last piece at once make one sale; the admin screen (check, pay, receipt) and members
found or registered by phone."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connections
from django.urls import reverse
from django.utils import translation

from members import roles
from members.models import User
from orders.errors import OrderInvalid
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Payment
from orders.services import order_collected
from orders.services.counter import (
    UnknownPiece,
    counter_lines_parse,
    counter_lines_resolve,
    order_sell_at_counter,
)
from orders.services.pickup import PickupRefused
from stores.errors import NotYourStore, SoldOut
from stores.models import Reservation, StockLevel
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.concurrency import race
from tests.fixtures import staff_of
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory

S = OrderStatus


def url(name, *args):
    """An English admin page's address (/en/admin/...): the words asserted are the msgids.

    Reversed under "en" at each call: every request leaves the thread in the default
    language (o2o.middleware), so a test-wide override would not outlive the first one."""
    with translation.override("en"):
        return reverse(name, args=args or None)


def level(store, variant):
    row = StockLevel.objects.get(store=store, variant=variant)
    return row.on_hand, row.reserved


@pytest.fixture
def shop(db):
    roles.roles_sync(apps)
    store, other = StoreFactory(code="ctr-a"), StoreFactory(code="ctr-b")
    ring = VariantFactory(sku="RING-1", barcode="6901234567890", list_price=Decimal("2999.00"),
                          product__name="素金戒指")
    chain = VariantFactory(sku="CHAIN-1", list_price=Decimal("1288.00"))
    stock_receive(store=store, variant=ring, quantity=2)
    stock_receive(store=store, variant=chain, quantity=1)
    return {"store": store, "other": other, "ring": ring, "chain": chain,
            "clerk": staff_of(store), "clerk_b": staff_of(other)}


def test_a_counter_sale_is_paid_handed_over_and_audited(shop, django_capture_on_commit_callbacks):
    member = UserFactory(phone="+8613955556666", name="王女士")
    received = []

    def listener(sender, order, **kwargs):
        received.append(order.pk)

    order_collected.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = order_sell_at_counter(
                store=shop["store"], staff=shop["clerk"],
                lines=[(shop["ring"], 1), (shop["chain"], 1), (shop["ring"], 1)],
                member=member, payment_provider="card", payment_reference="POS-0001")
    finally:
        order_collected.disconnect(listener)
    assert received == [order.pk]
    assert (order.channel, order.fulfilment, order.status) == ("store", "counter", S.COMPLETED)
    assert order.store == shop["store"] and order.staff == shop["clerk"]
    assert order.member == member and order.contact_phone == "+8613955556666"
    assert order.total == Decimal("2999.00") * 2 + Decimal("1288.00")
    ring_line = OrderLine.objects.get(order=order, sku="RING-1")
    assert ring_line.quantity == 2 and ring_line.unit_price == Decimal("2999.00")
    assert level(shop["store"], shop["ring"]) == (0, 0)
    assert level(shop["store"], shop["chain"]) == (0, 0)
    assert set(Reservation.objects.filter(reference=order.number)
               .values_list("status", flat=True)) == {"committed"}
    payment = Payment.objects.get(order=order)
    assert (payment.provider, payment.reference, payment.amount, payment.status) == (
        "card", "POS-0001", order.total, "succeeded")
    events = OrderEvent.objects.filter(order=order)
    assert list(events.filter(kind="status").values_list("data__to", flat=True)) == [
        S.PAID, S.COLLECTED, S.COMPLETED]
    assert all(e.actor == shop["clerk"] for e in events)
    assert events.filter(kind="placed", data__via="counter").exists()


def test_the_price_is_frozen_from_catalog_pricing(shop):
    order = order_sell_at_counter(store=shop["store"], staff=shop["clerk"],
                                  lines=[(shop["chain"], 1)], payment_provider="cash")
    shop["chain"].list_price = Decimal("9999.00")
    shop["chain"].save()
    line = order.lines.get()
    line.refresh_from_db()
    assert line.unit_price == Decimal("1288.00") and order.total == Decimal("1288.00")


def test_sold_out_at_this_store_is_refused_with_nothing_written(shop):
    stock_receive(store=shop["other"], variant=shop["chain"], quantity=5)  # elsewhere: no help
    with pytest.raises(SoldOut) as sold_out:
        order_sell_at_counter(store=shop["store"], staff=shop["clerk"],
                              lines=[(shop["ring"], 1), (shop["chain"], 2)],
                              payment_provider="cash")
    assert "CHAIN-1" in sold_out.value.message and sold_out.value.status == 409
    assert Order.objects.count() == 0 and Payment.objects.count() == 0
    assert OrderEvent.objects.count() == 0 and Reservation.objects.count() == 0
    assert level(shop["store"], shop["ring"]) == (2, 0)


def test_a_piece_never_stocked_here_is_sold_out(shop):
    elsewhere = VariantFactory(sku="ELSEWHERE")
    stock_receive(store=shop["other"], variant=elsewhere, quantity=1)
    with pytest.raises(SoldOut):
        order_sell_at_counter(store=shop["store"], staff=shop["clerk"],
                              lines=[(elsewhere, 1)], payment_provider="cash")
    assert Order.objects.count() == 0


def test_only_the_stores_own_staff_sell_there(shop):
    with pytest.raises(NotYourStore):
        order_sell_at_counter(store=shop["store"], staff=shop["clerk_b"],
                              lines=[(shop["ring"], 1)], payment_provider="cash")
    assert Order.objects.count() == 0


def test_a_terminal_payment_needs_its_reference(shop):
    for provider in ("card", "alipay", "wechat"):
        with pytest.raises(PickupRefused) as refused:
            order_sell_at_counter(store=shop["store"], staff=shop["clerk"],
                                  lines=[(shop["ring"], 1)], payment_provider=provider)
        assert refused.value.code == "reference_required"
    with pytest.raises(PickupRefused):
        order_sell_at_counter(store=shop["store"], staff=shop["clerk"], lines=[(shop["ring"], 1)],
                              payment_provider="stripe", payment_reference="x")
    assert Order.objects.count() == 0


def test_lines_are_parsed_and_resolved_by_sku_or_barcode(shop):
    assert counter_lines_parse("RING-1\n\n  CHAIN-1 x2 \nRING-1*3\nRING-1 4") == [
        ("RING-1", 1), ("CHAIN-1", 2), ("RING-1", 3), ("RING-1", 4)]
    resolved = counter_lines_resolve(store=shop["store"], staff=shop["clerk"],
                                     text="6901234567890\nCHAIN-1 x2")
    assert [(line.variant.sku, line.quantity, line.available) for line in resolved] == [
        ("RING-1", 1, 2), ("CHAIN-1", 2, 1)]
    assert resolved[0].unit_price == Decimal("2999.00")
    with pytest.raises(UnknownPiece) as unknown:
        counter_lines_resolve(store=shop["store"], staff=shop["clerk"], text="NOPE-9")
    assert "NOPE-9" in unknown.value.message and unknown.value.code == "unknown_sku"
    for bad in ("", "RING-1 x0", "RING-1 x999"):
        with pytest.raises(OrderInvalid):
            counter_lines_parse(bad)


@pytest.mark.django_db(transaction=True)
def test_two_clerks_selling_the_last_piece_make_one_sale():
    roles.roles_sync(apps)
    store = StoreFactory(code="ctr-race")
    piece = VariantFactory(sku="ONE-OF-A-KIND")
    stock_receive(store=store, variant=piece, quantity=1)
    clerks = [staff_of(store), staff_of(store)]
    sold, errors = race(2, lambda i: order_sell_at_counter(
        store=store, staff=clerks[i], lines=[(piece, 1)], payment_provider="cash"))
    assert len(sold) == 1 and len(errors) == 1 and isinstance(errors[0], SoldOut)
    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    assert level(store, piece) == (0, 0)
    connections.close_all()


# --- The admin screen ------------------------------------------------------------------------


def post_counter(client, **data):
    return client.post(url("admin:orders_order_counter"), data)


def test_the_counter_screen_checks_then_sells_and_prints_a_receipt(client, shop):
    client.force_login(shop["clerk"])
    page = client.get(url("admin:orders_order_counter"))
    assert page.status_code == 200 and "Ring up a sale" in page.content.decode()
    base = {"store": shop["store"].pk, "phone": "139 6666 1234", "name": "周女士",
            "lines": "RING-1\nCHAIN-1"}
    checked = post_counter(client, **base, step="check")
    text = checked.content.decode()
    assert checked.status_code == 200 and "¥4,287" in text and "registers one" in text
    assert Order.objects.count() == 0

    sold = post_counter(client, **base, step="pay", provider="cash", total_seen="4287.00")
    assert sold.status_code == 302
    order = Order.objects.get()
    assert sold["Location"] == url("admin:orders_order_receipt", order.pk)
    assert order.status == S.COMPLETED and order.member.phone == "+8613966661234"
    receipt = client.get(sold["Location"])
    body = receipt.content.decode()
    assert receipt.status_code == 200 and order.number in body and "¥4,287" in body
    assert "Print the receipt" in body and "orders-desk.css" in body
    assert "139****1234" in body


def test_the_counter_screen_refuses_bad_input_without_a_500(client, shop):
    client.force_login(shop["clerk"])
    base = {"store": shop["store"].pk, "lines": "RING-1"}
    assert post_counter(client, store=shop["store"].pk, lines="").status_code == 400
    unknown = post_counter(client, store=shop["store"].pk, lines="NOPE", step="check")
    assert unknown.status_code == 400 and "NOPE" in unknown.content.decode()
    assert post_counter(client, **base, phone="12", step="check").status_code == 400
    assert post_counter(client, store=shop["other"].pk, lines="RING-1").status_code == 400
    changed = post_counter(client, **base, step="pay", provider="cash", total_seen="1.00")
    assert changed.status_code == 409 and "prices changed" in changed.content.decode()
    no_ref = post_counter(client, **base, step="pay", provider="card", total_seen="2999.00")
    assert no_ref.status_code == 400 and "reference" in no_ref.content.decode()
    no_method = post_counter(client, **base, step="pay", total_seen="2999.00")
    assert no_method.status_code == 400
    too_many = post_counter(client, store=shop["store"].pk, lines="CHAIN-1 x2", step="pay",
                            provider="cash", total_seen="2576.00")
    assert too_many.status_code == 409 and "CHAIN-1" in too_many.content.decode()
    assert Order.objects.count() == 0 and User.objects.filter(phone__startswith="+86139666").count() == 0


def test_a_sold_out_sale_registers_no_member(client, shop):
    client.force_login(shop["clerk"])
    response = post_counter(client, store=shop["store"].pk, lines="CHAIN-1 x2", step="pay",
                            provider="cash", total_seen="2576.00", phone="13912340000")
    assert response.status_code == 409
    assert not User.objects.filter(phone="+8613912340000").exists()


def test_codes_typed_at_the_counter_count_towards_the_guessing_limit(client, shop, settings):
    """The counter takes the coupon check's limit (COUPON_CHECK_RATE, per clerk and per
    address): guessing codes at a till stops like guessing them online."""
    settings.COUPON_CHECK_RATE = "5/m"
    client.force_login(shop["clerk"])
    base = {"store": shop["store"].pk, "lines": "RING-1", "step": "check"}
    answers = [post_counter(client, **base, coupon_code=f"GUESS-{n:04d}").status_code
               for n in range(6)]
    assert 429 not in answers[:5] and answers[5] == 429
    limited = post_counter(client, **base, coupon_code="GUESS-9999")
    assert limited.status_code == 429 and "Too many coupon codes" in limited.content.decode()
    # A sale without a code is not held up.
    assert post_counter(client, **base).status_code == 200
