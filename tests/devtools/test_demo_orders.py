"""The demo's orders: every status present, pickups waiting at every store (with codes
and reserved pieces, so the pickup desk has work), and a second run adds nothing."""

import io

import pytest
from django.core.management import call_command

from members.models import User
from o2o.models import OutboxMessage
from orders.models import Fulfilment, Order, OrderEvent, OrderStatus
from orders.views.account import order_timeline
from stores.models import Reservation, ReservationStatus, Store, StoreKind


@pytest.mark.django_db
def test_the_demo_has_orders_in_every_state_and_pickups_waiting_at_each_store():
    out = io.StringIO()
    call_command("load_demo", "--small", stdout=out)
    assert "live orders" in out.getvalue() and "pickups waiting" in out.getvalue()

    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == set(OrderStatus.values)
    live = Order.objects.filter(events__kind="placed", events__data__via="demo")
    assert set(live.values_list("status", flat=True)) == set(OrderStatus.values)

    for store in Store.objects.filter(kind=StoreKind.STORE):
        waiting = live.filter(store=store, fulfilment=Fulfilment.PICKUP)
        ready = waiting.filter(status=OrderStatus.READY_FOR_PICKUP).exclude(pickup_code="")
        at_counter = waiting.filter(status=OrderStatus.PENDING_PAYMENT).exclude(pickup_code="")
        assert ready.exists() and at_counter.exists(), store.code
        for order in [*ready, *at_counter]:
            assert Reservation.objects.filter(reference=order.number, store=store,
                                              status=ReservationStatus.ACTIVE).exists()

    # The demo shopper sees a pickup to collect, with its code, in "My orders".
    shopper = User.objects.get(email="member@o2o.example")
    mine = Order.objects.filter(member=shopper)
    assert mine.filter(status=OrderStatus.READY_FOR_PICKUP).exclude(pickup_code="").exists()
    shipped = mine.get(status=OrderStatus.SHIPPED)
    assert [s.key for s in order_timeline(shipped) if s.done][-1] == OrderStatus.SHIPPED

    # The nightly insights ran once: product pages show "often bought together" at once.
    from catalog.models import AffinityKind, ProductAffinity

    assert "insights" in out.getvalue()
    assert ProductAffinity.objects.filter(kind=AffinityKind.BOUGHT).exists()

    # No demo email goes out: every email its moves queued in the outbox is withdrawn.
    withdrawn = {int(m.about.split(":")[1]) for m in OutboxMessage.objects.filter(
        kind="orders.placed", state="cancelled")}
    assert withdrawn >= set(live.exclude(contact_email="").values_list("pk", flat=True))
    assert not OutboxMessage.objects.filter(kind__startswith="orders.", state="pending").exists()

    counts = (Order.objects.count(), OrderEvent.objects.count(), Reservation.objects.count())
    again = io.StringIO()
    call_command("load_demo", "--small", stdout=again)
    assert (Order.objects.count(), OrderEvent.objects.count(),
            Reservation.objects.count()) == counts
    assert "live orders" in again.getvalue() and "already there" in again.getvalue()
