"""Ship, deliver and complete: the services the admin's buttons and actions call."""

import pytest
from django.utils import translation

from orders.errors import OrderInvalid, OrderTransitionNotAllowed
from orders.models import Fulfilment, OrderEventKind, OrderStatus
from orders.services import (
    order_complete,
    order_deliver,
    order_place,
    order_ship,
    order_staff_moves,
)
from stores.models import StockLevel
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.members.factories import StaffFactory
from tests.orders.factories import pay, pickup_order
from tests.stores.factories import warehouse

S = OrderStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery():
    depot, variant = warehouse(), VariantFactory()
    stock_receive(store=depot, variant=variant, quantity=2)
    order = order_place(lines=[(variant, 1)], fulfilment=Fulfilment.DELIVERY, stock_from=depot,
                        contact_name="快递客户", contact_phone="+8613800001111",
                        contact_email="kuaidi@example.com")
    return order, StockLevel.objects.get(store=depot, variant=variant)


def test_a_delivery_is_shipped_delivered_and_completed_with_its_trail(delivery):
    order, level = delivery
    clerk = StaffFactory()
    assert order_staff_moves(order=order) == [S.CANCELLED]
    order = pay(order)
    assert order_staff_moves(order=order) == [S.SHIPPED]

    shipped = order_ship(order=order, actor=clerk, carrier="顺丰", tracking="SF123456789")
    level.refresh_from_db()
    assert shipped.status == S.SHIPPED and (level.on_hand, level.reserved) == (1, 0)
    event = shipped.events.filter(kind=OrderEventKind.STATUS).last()
    assert event.actor == clerk and event.data["tracking"] == "SF123456789"
    with translation.override("en"):
        assert "tracking number SF123456789" in event.describe()
    assert order_staff_moves(order=shipped) == [S.DELIVERED]

    delivered = order_deliver(order=shipped, actor=clerk)
    assert delivered.status == S.DELIVERED and order_staff_moves(order=delivered) == [S.COMPLETED]
    completed = order_complete(order=delivered, actor=clerk)
    assert completed.status == S.COMPLETED and completed.completed_at is not None
    assert order_staff_moves(order=completed) == []
    assert [e.data["to"] for e in completed.events.filter(kind="status")] == [
        S.PAID, S.SHIPPED, S.DELIVERED, S.COMPLETED]


def test_the_moves_are_idempotent_and_keep_to_the_table(delivery):
    order, _level = delivery
    with pytest.raises(OrderTransitionNotAllowed):
        order_ship(order=order, actor=None)  # not paid
    order = order_ship(order=pay(order), actor=None)
    again = order_ship(order=order, actor=None)
    assert again.status == S.SHIPPED
    assert again.events.filter(kind="status", data__to=S.SHIPPED).count() == 1
    with pytest.raises(OrderTransitionNotAllowed):
        order_complete(order=order, actor=None)  # shipped, not delivered yet


def test_a_pickup_is_never_shipped_by_hand():
    order = pickup_order(paid=True)
    assert order_staff_moves(order=order) == []
    for move in (order_ship, order_deliver, order_complete):
        with pytest.raises(OrderInvalid) as refused:
            move(order=order, actor=None)
        assert refused.value.code == "not_a_delivery"
    order.refresh_from_db()
    assert order.status == S.READY_FOR_PICKUP


def test_pay_at_counter_is_a_field_of_the_order():
    order = pickup_order(pay_at_counter=True)
    assert order.pay_at_counter is True
    assert pickup_order().pay_at_counter is False
