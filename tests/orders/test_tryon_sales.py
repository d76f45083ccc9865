"""Closing a try-on as bought: the sale must be that shopper's, at that store, of a piece
tried; a piece held for a try-on never moves onto an unrelated order (a ¥19,800 ring
once stayed held for an earring sale typed in by number)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from members import roles
from orders.models import OrderStatus
from orders.services import order_collect
from orders.services.counter import order_sell_at_counter
from stores.errors import BookingInvalid
from stores.models import Reservation, StaffAssignment, StockLevel
from stores.services import appointment_book, appointment_complete, stock_receive, tryon_sales
from tests.catalog.factories import VariantFactory
from tests.members.factories import StaffFactory, UserFactory
from tests.stores.factories import days_ahead, local, tryon_store

from .factories import pay, pickup_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    store = tryon_store(code="sh-try")
    ring = VariantFactory(sku="RING-19800", list_price=Decimal("19800.00"))
    earrings = VariantFactory(sku="EAR-1", list_price=Decimal("1200.00"))
    stock_receive(store=store, variant=ring, quantity=1)  # the only one
    stock_receive(store=store, variant=earrings, quantity=3)
    clerk = StaffFactory()
    clerk.groups.add(Group.objects.get(name=roles.STORE_STAFF))
    StaffAssignment.objects.create(user=clerk, store=store)
    member = UserFactory(phone="+8613911112222", name="周女士")
    appointment = appointment_book(store=store, starts_at=local(store, days_ahead(store, 1), 15),
                                   variant_ids=[ring.pk], member=member, contact_name="周女士",
                                   contact_phone="13911112222", notify=False)
    return {"store": store, "ring": ring, "earrings": earrings, "clerk": clerk,
            "member": member, "appointment": appointment}


def level(store, variant):
    row = StockLevel.objects.get(store=store, variant=variant)
    return row.on_hand, row.reserved


def test_an_unrelated_order_typed_in_is_refused_and_nothing_moves(shop):
    store = shop["store"]
    earring_sale = pickup_order(store=store, variants=[shop["earrings"]], paid=True,
                                contact_phone="+8613700001234")  # another shopper
    own_earrings = pickup_order(store=store, variants=[shop["earrings"]], paid=True,
                                member=shop["member"])  # hers, but no piece she tried
    other_store = tryon_store(code="bj-try")
    elsewhere = pickup_order(store=other_store, variants=[shop["ring"]], member=shop["member"])
    for order in (earring_sale, own_earrings, elsewhere):
        with pytest.raises(BookingInvalid) as refused:
            appointment_complete(appointment=shop["appointment"], actor=shop["clerk"],
                                 outcome="bought", order_reference=order.number)
        assert refused.value.code == "order_not_for_tryon"
    with pytest.raises(BookingInvalid):
        appointment_complete(appointment=shop["appointment"], actor=shop["clerk"],
                             outcome="bought", order_reference="O000000NOPE")
    shop["appointment"].refresh_from_db()
    assert shop["appointment"].status == "booked"
    assert level(store, shop["ring"]) == (1, 1)  # still held for the try-on only
    assert not Reservation.objects.filter(reference=earring_sale.number,
                                          variant=shop["ring"]).exists()
    assert [s.number for s in tryon_sales(shop["appointment"])] == []


def test_a_sale_of_the_tried_piece_to_her_closes_it_and_the_ring_leaves_once(shop):
    store, ring = shop["store"], shop["ring"]
    # She bought the ring online for pickup here; the try-on's hold gave way to the order.
    appointment = shop["appointment"]
    sale = pay(pickup_order(store=store, variants=[ring], member=shop["member"]))  # +1 received
    assert level(store, ring) == (2, 2)
    assert [s.number for s in tryon_sales(appointment)] == [sale.number]
    assert "¥19,800" in tryon_sales(appointment)[0].label
    done = appointment_complete(appointment=appointment, actor=shop["clerk"], outcome="bought",
                                order_reference=sale.number.lower())
    assert done.order_reference == sale.number
    assert level(store, ring) == (2, 1)  # only the order's own reservation is left
    order_collect(order=sale, store=store, actor=shop["clerk"])
    assert level(store, ring) == (1, 0)  # one ring left the store, not two
    sale.refresh_from_db()
    assert sale.status == OrderStatus.COMPLETED


def test_bought_before_the_sale_keeps_the_ring_and_the_counter_sale_takes_it_over(shop):
    store, ring = shop["store"], shop["ring"]
    done = appointment_complete(appointment=shop["appointment"], actor=shop["clerk"],
                                outcome="bought")
    assert done.order_reference == "" and level(store, ring) == (1, 1)
    # Nobody else can buy the held ring meanwhile...
    with pytest.raises(Exception) as sold_out:
        order_sell_at_counter(store=store, staff=shop["clerk"], lines=[(ring, 1)],
                              payment_provider="cash", contact_phone="+8613700001234")
    assert getattr(sold_out.value, "code", "") == "sold_out"
    # ...but her own sale at the counter takes it over: one ring, sold once.
    order = order_sell_at_counter(store=store, staff=shop["clerk"], lines=[(ring, 1)],
                                  member=shop["member"], payment_provider="cash")
    assert level(store, ring) == (0, 0)
    done.refresh_from_db()
    assert done.order_reference == order.number
    assert done.events.filter(kind="sold").exists()
