"""orders.signals and stores.signals are sent inside the change's transaction, so what a
listener writes commits or rolls back with the change."""

import pytest
from django.db import connection

from orders.models import OrderStatus
from orders.services import order_collect
from orders.signals import order_handed_over
from tests.members.factories import StaffFactory
from tests.orders.factories import pickup_order

pytestmark = pytest.mark.django_db


def test_the_hand_over_is_told_once_inside_its_transaction():
    order = pickup_order(paid=True)
    heard = []

    def listener(sender, order, at, **kwargs):
        heard.append((order.pk, order.status, connection.in_atomic_block))

    order_handed_over.connect(listener)
    try:
        clerk = StaffFactory(is_superuser=True)
        order_collect(order=order, store=order.store, actor=clerk)
        order_collect(order=order, store=order.store, actor=clerk)  # a second click: nothing
    finally:
        order_handed_over.disconnect(listener)
    assert heard == [(order.pk, OrderStatus.COLLECTED, True)]


def test_a_listener_that_fails_undoes_the_hand_over():
    order = pickup_order(paid=True)

    def listener(sender, **kwargs):
        raise RuntimeError("the listener's write failed")

    order_handed_over.connect(listener)
    try:
        with pytest.raises(RuntimeError):
            order_collect(order=order, store=order.store, actor=StaffFactory(is_superuser=True))
    finally:
        order_handed_over.disconnect(listener)
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
