"""The order life cycle: the transition table, placing with frozen prices and reserved
stock, payment exactly once, cancel and expiry, pickup hand-over; and no oversell or
double hand-over under real parallel connections."""

import uuid
from datetime import timedelta
from decimal import Decimal
from itertools import product as pairs

import pytest
from django.db import connections
from django.utils import timezone

from catalog.models import MetalRate
from orders.errors import OrderInvalid, OrderTransitionNotAllowed, PaymentMismatch
from orders.models import Fulfilment, Order, OrderEvent, OrderStatus, Payment
from orders.services import (
    TRANSITIONS,
    order_cancel,
    order_collect,
    order_collected,
    order_pay,
    order_place,
    order_transition,
    orders_expire,
)
from stores.errors import SoldOut
from stores.models import Reservation, StockLevel
from stores.services import stock_receive
from tests.catalog.factories import ByWeightVariantFactory, VariantFactory
from tests.concurrency import race
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory, warehouse

S = OrderStatus


def stock(store, variant):
    level = StockLevel.objects.get(store=store, variant=variant)
    return level.on_hand, level.reserved


def place(store, variant, quantity=1, **kwargs):
    kwargs.setdefault("contact_name", "林小姐")
    kwargs.setdefault("contact_phone", "+8613800138000")
    return order_place(lines=[(variant, quantity)], fulfilment=Fulfilment.PICKUP, store=store,
                       **kwargs)


def pay(order, reference=None, amount=None, currency="CNY"):
    return order_pay(order=order, provider="test", reference=reference or uuid.uuid4().hex,
                     amount=order.total if amount is None else amount, currency=currency,
                     via="test gateway")


# --- The table -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fulfilment", [Fulfilment.PICKUP, Fulfilment.DELIVERY])
def test_every_move_of_the_table_is_allowed_and_every_other_refused(fulfilment):
    store = StoreFactory()
    variant = VariantFactory()
    not_for = {Fulfilment.PICKUP: {S.SHIPPED, S.DELIVERED},
               Fulfilment.DELIVERY: {S.READY_FOR_PICKUP, S.COLLECTED}}[fulfilment]
    checked = 0
    for start, to in pairs(S, S):
        order = Order.objects.create(
            number=f"T{checked:06d}{fulfilment[:2]}", channel="online", fulfilment=fulfilment,
            status=start, store=store if fulfilment == Fulfilment.PICKUP else None,
            placed_at=timezone.now(), total=Decimal("0"), subtotal=Decimal("0"))
        order.lines.create(variant=variant, product_name="p", sku=variant.sku, quantity=1,
                           unit_price=0, line_total=0)
        events = OrderEvent.objects.filter(order=order)
        if start == to:
            assert order_transition(order=order, to=to).status == start
            assert not events.exists()  # already there: nothing happens, nothing is written
        elif to in TRANSITIONS[start] and to not in not_for:
            moved = order_transition(order=order, to=to, via="test")
            assert moved.status == to
            assert Order.objects.get(pk=order.pk).status == to
            (event,) = events
            assert event.data == {"from": start, "to": to, "via": "test"}
            assert order_transition(order=order, to=to).status == to  # twice: still once
            assert events.count() == 1
        else:
            with pytest.raises(OrderTransitionNotAllowed):
                order_transition(order=order, to=to)
            assert Order.objects.get(pk=order.pk).status == start
            assert not events.exists()
        checked += 1
    assert checked == len(S) ** 2


def test_the_table_ends_in_cancelled_and_refunded_and_reaches_every_status():
    assert TRANSITIONS[S.CANCELLED] == TRANSITIONS[S.REFUNDED] == frozenset()
    reachable = {S.PENDING_PAYMENT} | set().union(*TRANSITIONS.values())
    assert reachable == set(S)


# --- Placing, paying, cancelling ---------------------------------------------------------


@pytest.mark.django_db
def test_placing_reserves_the_pieces_and_freezes_the_price():
    store = StoreFactory()
    MetalRate.objects.create(metal="gold", purity="999", rate_per_gram=Decimal("600.00"),
                             valid_from=timezone.now() - timedelta(days=1))
    bangle = ByWeightVariantFactory(labour_fee=Decimal("300.00"))
    ring = VariantFactory(list_price=Decimal("2999.00"))
    for variant in (bangle, ring):
        stock_receive(store=store, variant=variant, quantity=2)
    order = order_place(lines=[(bangle, 1), (ring, 1), (ring, 1)], fulfilment=Fulfilment.PICKUP,
                        store=store, contact_name="林小姐", contact_phone="+8613800138000")
    assert order.status == S.PENDING_PAYMENT and len(order.pickup_code) == 8
    assert order.expires_at == order.placed_at + timedelta(minutes=30)
    lines = {line.sku: line for line in order.lines.all()}
    assert lines[ring.sku].quantity == 2 and lines[ring.sku].line_total == Decimal("5998.00")
    frozen = lines[bangle.sku].unit_price
    assert frozen == Decimal("3438.00")  # 5.23 g x 600 + 300, to the yuan
    assert order.total == frozen + Decimal("5998.00")
    assert stock(store, ring) == (2, 2) and stock(store, bangle) == (2, 1)
    MetalRate.objects.create(metal="gold", purity="999", rate_per_gram=Decimal("700.00"),
                             valid_from=timezone.now())
    order.refresh_from_db()
    assert order.lines.get(sku=bangle.sku).unit_price == frozen
    assert order.events.get().kind == "placed"


@pytest.mark.django_db
def test_an_order_is_placed_whole_or_not_at_all():
    store = StoreFactory()
    plenty, scarce = VariantFactory(), VariantFactory()
    stock_receive(store=store, variant=plenty, quantity=5)
    stock_receive(store=store, variant=scarce, quantity=1)
    with pytest.raises(SoldOut) as sold_out:
        order_place(lines=[(plenty, 1), (scarce, 2)], fulfilment=Fulfilment.PICKUP, store=store,
                    contact_name="林", contact_phone="+8613800138000")
    assert scarce.sku in str(sold_out.value.message)
    assert not Order.objects.exists() and not Reservation.objects.exists()
    assert stock(store, plenty) == (5, 0)


@pytest.mark.django_db
def test_bad_orders_are_refused_with_a_reason():
    store, depot = StoreFactory(), warehouse()
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=1)
    cases = [
        ({"lines": []}, "no_lines"),
        ({"lines": [(variant, 0)]}, "quantity_not_positive"),
        ({"store": depot}, "store_required"),
        ({"store": None}, "store_required"),
        ({"contact_name": ""}, "contact_required"),
        ({"contact_phone": ""}, "contact_required"),
        ({"fulfilment": "drone"}, "invalid_fulfilment"),
        ({"fulfilment": Fulfilment.DELIVERY, "store": None}, "source_required"),
        ({"fulfilment": Fulfilment.DELIVERY, "stock_from": store, "pay_at_counter": True},
         "pay_at_counter_needs_pickup"),
    ]
    for change, code in cases:
        kwargs = {"lines": [(variant, 1)], "fulfilment": Fulfilment.PICKUP, "store": store,
                      "contact_name": "林", "contact_phone": "+8613800138000"} | change
        with pytest.raises(OrderInvalid) as refused:
            order_place(**kwargs)
        assert refused.value.code == code, change
    variant.is_active = False
    variant.save()
    with pytest.raises(OrderInvalid):
        place(store, variant)
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_member_is_the_contact_and_a_delivery_reserves_at_its_source():
    depot = warehouse()
    variant = VariantFactory()
    stock_receive(store=depot, variant=variant, quantity=1)
    member = UserFactory(name="王先生")
    order = order_place(lines=[(variant, 1)], fulfilment=Fulfilment.DELIVERY, stock_from=depot,
                        member=member)
    assert order.contact_name == "王先生" and order.store is None and order.pickup_code == ""
    assert stock(depot, variant) == (1, 1)


@pytest.mark.django_db
def test_payment_is_recorded_once_and_must_match_the_order():
    store = StoreFactory()
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=1)
    order = place(store, variant)
    with pytest.raises(PaymentMismatch):
        pay(order, amount=order.total - 1)
    with pytest.raises(PaymentMismatch):
        pay(order, currency="USD")
    with pytest.raises(PaymentMismatch):
        pay(order, amount="not money")
    assert not Payment.objects.exists()
    paid = pay(order, reference="cs_1")
    assert paid.status == S.READY_FOR_PICKUP and paid.paid_at and paid.expires_at is None
    again = pay(order, reference="cs_1")  # the same notice replayed
    assert again.status == S.READY_FOR_PICKUP
    assert Payment.objects.filter(order=order).count() == 1
    assert [e.data["to"] for e in order.events.filter(kind="status")] == [
        S.PAID, S.READY_FOR_PICKUP]
    with pytest.raises(OrderTransitionNotAllowed):
        pay(order, reference="cs_2")  # a second, different payment is not taken
    assert stock(store, variant) == (1, 1)  # still set aside for the shopper


@pytest.mark.django_db
def test_cancel_and_expiry_put_the_pieces_back_and_a_late_payment_is_refused():
    store = StoreFactory()
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=3)
    kept = place(store, variant, pay_at_counter=True)
    assert kept.expires_at == kept.placed_at + timedelta(days=3)
    late = place(store, variant)
    cancelled = place(store, variant)
    assert stock(store, variant) == (3, 3)
    order_cancel(order=cancelled, via="shopper")
    order_cancel(order=cancelled, via="shopper")  # twice: harmless
    assert stock(store, variant) == (3, 2)
    assert orders_expire(now=timezone.now() + timedelta(minutes=31)) == 1
    assert orders_expire(now=timezone.now() + timedelta(minutes=31)) == 0
    assert Order.objects.get(pk=late.pk).status == S.CANCELLED
    assert Order.objects.get(pk=kept.pk).status == S.PENDING_PAYMENT  # days, not minutes
    assert stock(store, variant) == (3, 1)
    with pytest.raises(OrderTransitionNotAllowed):
        pay(late)
    assert not Payment.objects.filter(order=late).exists()
    paid = pay(kept)
    with pytest.raises(OrderTransitionNotAllowed):
        order_cancel(order=paid)


@pytest.mark.django_db
def test_the_hand_over_moves_the_pieces_out_once_and_only_at_the_pickup_store(
        django_capture_on_commit_callbacks):
    store, other = StoreFactory(), StoreFactory()
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=2)
    clerk = UserFactory(is_staff=True)
    order = place(store, variant)
    with pytest.raises(OrderTransitionNotAllowed) as unpaid:
        order_collect(order=order, store=store, actor=clerk)
    assert unpaid.value.code == "payment_first"
    pay(order)
    with pytest.raises(OrderInvalid):
        order_collect(order=order, store=other, actor=clerk)
    heard = []

    def listener(sender, order, **kwargs):
        heard.append(order.number)

    order_collected.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            done = order_collect(order=order, store=store, actor=clerk)
        with django_capture_on_commit_callbacks(execute=True):
            order_collect(order=order, store=store, actor=clerk)
    finally:
        order_collected.disconnect(listener)
    assert done.status == S.COMPLETED and done.completed_at
    assert stock(store, variant) == (1, 0)
    assert heard == [order.number]
    assert list(order.events.filter(kind="status").values_list("actor", flat=True)[2:]) == [
        clerk.pk, clerk.pk]


# --- Under real concurrency -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_checkouts_of_three_pieces_give_three_paid_orders():
    store = StoreFactory(code="race")
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=3)
    paid, errors = race(50, lambda i: pay(place(store, variant, contact_name=f"顾客{i}")))
    assert len(paid) == 3 and all(o.status == S.READY_FOR_PICKUP for o in paid)
    assert len(errors) == 47 and all(isinstance(e, SoldOut) for e in errors), errors[:3]
    assert {e.code for e in errors} == {"sold_out"}
    assert Order.objects.count() == 3 and Payment.objects.count() == 3
    assert stock(store, variant) == (3, 3)
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_parallel_hand_overs_and_replayed_payments_count_once():
    store = StoreFactory(code="desk")
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=1)
    order = place(store, variant)
    _paid, errors = race(10, lambda i: pay(order, reference="cs_same"))
    assert errors == [] and Payment.objects.filter(order=order).count() == 1
    clerk = UserFactory(is_staff=True)
    done, errors = race(10, lambda i: order_collect(order=order, store=store, actor=clerk))
    assert errors == [] and {o.status for o in done} == {S.COMPLETED}
    assert stock(store, variant) == (0, 0)
    assert order.events.filter(kind="status", data__to=S.COLLECTED).count() == 1
    connections.close_all()
