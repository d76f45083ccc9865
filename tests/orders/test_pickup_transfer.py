"""A pickup at a store that lacks a piece: the piece comes by one transfer (reference = the
order number) from the quickest place that has it; the order is ready when it arrives,
and cancelling or refunding it calls the transfer off (or leaves the piece to the store)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from orders.errors import OrderInvalid, OrderTransitionNotAllowed
from orders.models import Fulfilment, Order, OrderEvent, OrderStatus
from orders.services import (
    order_cancel,
    order_collect,
    order_place,
    order_transition,
    orders_ready_when_arrived,
)
from orders.services.cart import cart_add
from orders.services.checkout import checkout_pickup_stores
from orders.tasks import orders_ready_when_arrived_task
from stores.errors import SoldOut
from stores.models import (
    Reservation,
    ReservationPurpose,
    ReservationStatus,
    StockLevel,
    Transfer,
    TransferEvent,
    TransferStatus,
)
from stores.services import stock_receive, transfer_receive, transfer_ship
from tests.catalog.factories import VariantFactory
from tests.fixtures import staff_of
from tests.orders.factories import pay
from tests.stores.factories import StoreFactory, warehouse

pytestmark = pytest.mark.django_db

S = OrderStatus
CONTACT = {"contact_name": "林小姐", "contact_phone": "+8613800138000"}


def counts(store, variant):
    row = StockLevel.objects.filter(store=store, variant=variant).first()
    return (row.on_hand, row.reserved) if row else (0, 0)


@pytest.fixture
def world():
    """A store with the ring; the chain at a warehouse (1 day) and a slow store (4 days)."""
    shop, depot, slow = (StoreFactory(code="shop"), warehouse(code="wh", dispatch_days=1),
                         StoreFactory(code="slow", dispatch_days=4))
    ring, chain = VariantFactory(), VariantFactory()
    stock_receive(store=shop, variant=ring, quantity=1)
    stock_receive(store=depot, variant=chain, quantity=1)
    stock_receive(store=slow, variant=chain, quantity=1)
    return {"shop": shop, "depot": depot, "slow": slow, "ring": ring, "chain": chain}


def place(world, **kwargs):
    return order_place(lines=[(world["ring"], 1), (world["chain"], 1)],
                       fulfilment=Fulfilment.PICKUP, store=world["shop"], **CONTACT, **kwargs)


def order_reserved(order, store):
    return sorted(Reservation.objects.filter(
        purpose=ReservationPurpose.ORDER, reference=order.number, store=store,
        status=ReservationStatus.ACTIVE).values_list("variant_id", "quantity"))


def arrive(transfer):
    transfer_ship(transfer=transfer, actor=staff_of(transfer.source))
    return transfer_receive(transfer=transfer, actor=staff_of(transfer.destination))


def test_a_store_lacking_a_piece_gets_it_by_a_transfer_from_the_quickest_place(world):
    shop, depot, ring, chain = world["shop"], world["depot"], world["ring"], world["chain"]
    order = place(world)

    assert order.status == S.PENDING_PAYMENT
    transfer = Transfer.objects.get(reference=order.number)
    assert (transfer.source, transfer.destination, transfer.status) == (
        depot, shop, TransferStatus.REQUESTED)  # the warehouse: 1 day, not the slow store's 4
    assert [(line.variant, line.quantity) for line in transfer.lines.all()] == [(chain, 1)]
    assert transfer.expected_on == timezone.now().astimezone(shop.zone).date() + timedelta(days=1)
    # The chain is reserved at the warehouse for the transfer; only the ring at the shop.
    assert counts(depot, chain) == (1, 1) and counts(world["slow"], chain) == (1, 0)
    assert Reservation.objects.get(transfer=transfer).purpose == ReservationPurpose.TRANSFER
    assert order_reserved(order, shop) == [(ring.pk, 1)]
    assert counts(shop, ring) == (1, 1) and counts(shop, chain) == (0, 0)
    placed = OrderEvent.objects.get(order=order, kind="placed")
    assert placed.data["transfers"] == [transfer.number] and placed.data["transfer_from"] == "wh"
    assert TransferEvent.objects.get(transfer=transfer).data["reference"] == order.number


def test_paid_it_waits_for_the_transfer_then_is_ready_and_collected(world):
    shop, ring, chain = world["shop"], world["ring"], world["chain"]
    order = pay(place(world))
    assert order.status == S.PAID  # a piece is still on its way
    clerk = staff_of(shop)
    with pytest.raises(OrderTransitionNotAllowed) as refused:
        order_collect(order=order, store=shop, actor=clerk)
    assert refused.value.code == "pieces_on_the_way"
    assert orders_ready_when_arrived() == 0  # requested only: nothing arrived

    transfer = Transfer.objects.get(reference=order.number)
    transfer_ship(transfer=transfer, actor=staff_of(world["depot"], group=None))
    assert orders_ready_when_arrived() == 0
    with pytest.raises(OrderTransitionNotAllowed):
        order_collect(order=order, store=shop, actor=clerk)
    transfer_receive(transfer=transfer, actor=clerk)
    # On arrival the chain is reserved at the shop for the order, with no expiry.
    assert order_reserved(order, shop) == sorted([(ring.pk, 1), (chain.pk, 1)])
    assert counts(shop, chain) == (1, 1) and counts(world["depot"], chain) == (0, 0)
    assert Reservation.objects.get(store=shop, variant=chain).expires_at is None

    assert orders_ready_when_arrived_task.apply().get() == 1
    assert orders_ready_when_arrived() == 0  # idempotent
    order.refresh_from_db()
    assert order.status == S.READY_FOR_PICKUP
    move = OrderEvent.objects.filter(order=order, kind="status").last()
    assert (move.data["to"], move.data["via"]) == (S.READY_FOR_PICKUP, "transfer received")

    done = order_collect(order=order, store=shop, actor=clerk)
    assert done.status == S.COMPLETED
    assert counts(shop, ring) == (0, 0) and counts(shop, chain) == (0, 0)


def test_paid_after_the_pieces_arrived_it_is_ready_at_once(world):
    order = place(world, pay_at_counter=True)
    arrive(Transfer.objects.get(reference=order.number))
    assert pay(order).status == S.READY_FOR_PICKUP


def test_cancelling_an_unpaid_order_calls_the_requested_transfer_off(world):
    shop, depot = world["shop"], world["depot"]
    order = place(world)
    order_cancel(order=order, via="shopper")

    transfer = Transfer.objects.get(reference=order.number)
    assert transfer.status == TransferStatus.CANCELLED
    assert counts(depot, world["chain"]) == (1, 0) and counts(shop, world["ring"]) == (1, 0)
    assert not Reservation.objects.filter(status=ReservationStatus.ACTIVE).exists()
    assert TransferEvent.objects.filter(transfer=transfer, kind="cancelled").exists()


def test_an_expired_order_calls_its_transfer_off_too(world):
    from orders.services import orders_expire

    order = place(world)
    assert orders_expire(now=order.expires_at + timedelta(seconds=1)) == 1
    assert Transfer.objects.get(reference=order.number).status == TransferStatus.CANCELLED
    assert counts(world["depot"], world["chain"]) == (1, 0)


@pytest.mark.parametrize("end", ["cancel", "refund"])
def test_an_order_ended_after_shipping_leaves_the_piece_to_the_store(world, end):
    shop, chain = world["shop"], world["chain"]
    order = place(world)
    if end == "refund":
        order = pay(order)
    transfer = Transfer.objects.get(reference=order.number)
    transfer_ship(transfer=transfer, actor=staff_of(world["depot"], group=None))
    if end == "cancel":
        order_cancel(order=order, via="shopper")
    else:
        order_transition(order=order, to=S.REFUNDED, via="test")

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SHIPPED and transfer.reference == ""
    detached = TransferEvent.objects.get(transfer=transfer, kind="detached")
    assert detached.data["reference"] == order.number
    transfer_receive(transfer=transfer, actor=staff_of(shop))
    # The chain simply joins the shop's stock: nothing is reserved for the order.
    assert counts(shop, chain) == (1, 0) and counts(shop, world["ring"]) == (1, 0)
    assert order_reserved(order, shop) == []
    assert Order.objects.get(pk=order.pk).status in (S.CANCELLED, S.REFUNDED)


def test_pay_at_the_counter_holds_from_the_expected_arrival(world, settings):
    settings.PAY_AT_COUNTER_DAYS = 4
    order = place(world, pay_at_counter=True)
    transfer = Transfer.objects.get(reference=order.number)
    assert order.expires_at - order.placed_at == timedelta(days=1 + 4)
    arrival_day = order.expires_at.astimezone(world["shop"].zone).date() - timedelta(days=4)
    assert arrival_day == transfer.expected_on


def test_no_one_place_with_every_lacking_piece_is_refused_and_nothing_written(world):
    bracelet = VariantFactory()
    stock_receive(store=world["slow"], variant=bracelet, quantity=1)
    # The shop lacks the chain and the bracelet: the warehouse has only the chain, the
    # slow store has both, so it is the one (the only place with everything).
    order = order_place(lines=[(world["chain"], 1), (bracelet, 1)],
                        fulfilment=Fulfilment.PICKUP, store=world["shop"], **CONTACT)
    assert Transfer.objects.get(reference=order.number).source == world["slow"]

    lone, pendant = VariantFactory(), VariantFactory()
    stock_receive(store=world["depot"], variant=lone, quantity=1)
    stock_receive(store=world["slow"], variant=pendant, quantity=1)
    with pytest.raises(OrderInvalid) as refused:  # each is somewhere, never both together
        order_place(lines=[(lone, 1), (pendant, 1)], fulfilment=Fulfilment.PICKUP,
                    store=world["shop"], **CONTACT)
    assert refused.value.code == "store_lacks_pieces"
    with pytest.raises(SoldOut):  # to be had nowhere at all (the slow store's is taken)
        order_place(lines=[(bracelet, 1)], fulfilment=Fulfilment.PICKUP, store=world["shop"],
                    **CONTACT)
    assert Order.objects.count() == 1 and Transfer.objects.count() == 1


def test_a_source_sold_out_meanwhile_writes_nothing(world, monkeypatch):
    from orders.services import lifecycle

    taken = order_place(lines=[(world["chain"], 1)], fulfilment=Fulfilment.PICKUP,
                        store=StoreFactory(), **CONTACT)  # takes the warehouse's chain
    stale = {world["chain"].pk: {world["depot"].pk: 1}, world["ring"].pk: {world["shop"].pk: 1}}
    monkeypatch.setattr(lifecycle, "sellable", lambda ids: stale)
    with pytest.raises(SoldOut):
        place(world)
    assert list(Order.objects.all()) == [taken] and Transfer.objects.count() == 1
    assert counts(world["shop"], world["ring"]) == (1, 0)


def test_the_checkout_offers_such_a_store_with_its_days_and_places_the_order(client, world):
    shop = world["shop"]
    with translation.override("en"):
        urls = {name: reverse(f"orders:{name}") for name in
                ("cart_add", "checkout_contact", "checkout_fulfilment", "checkout_review")}
    client.post(urls["cart_add"], {"variant": world["ring"].pk})
    client.post(urls["cart_add"], {"variant": world["chain"].pk})
    client.post(urls["checkout_contact"], {"name": "林", "phone": "13800138000"})

    page = client.get(urls["checkout_fulfilment"])
    tag = page.text.split(f'data-store="{shop.code}"')[0].rsplit("<input", 1)[1]
    assert "disabled" not in tag
    assert "Ready in 1 day through a transfer" in page.text
    chosen = client.post(urls["checkout_fulfilment"], {"fulfilment": "pickup", "store": shop.code})
    assert chosen.status_code == 302
    placed = client.post(urls["checkout_review"])
    assert placed.status_code == 302
    order = Order.objects.get()
    assert order.store == shop
    assert Transfer.objects.get(reference=order.number).source == world["depot"]

    # The order page says the piece is on its way once paid.
    pay(order)
    from orders.links import order_token

    with translation.override("en"):
        link = reverse("orders:by_link", kwargs={"token": order_token(order)})
    expected = Transfer.objects.get(reference=order.number).expected_on
    detail = client.get(link)
    assert f'data-expected-on="{expected:%Y-%m-%d}"' in detail.text
    assert "on their way to the store" in detail.text


def test_pickup_options_list_a_lacking_store_after_the_ready_ones(world):
    from orders.models import Cart

    cart = Cart.objects.create()
    cart_add(cart=cart, variant=world["chain"])
    options = checkout_pickup_stores(cart=cart)
    assert [o.store.code for o in options] == ["slow", "shop"]
    assert options[0].ready_today and options[1].ready_in_days == 1


@pytest.mark.django_db(transaction=True)
def test_a_cancel_racing_the_arrival_never_leaves_a_piece_reserved_for_the_order():
    """Whichever wins, the order's transfers are released before its reservations (the
    lock order), so a reservation made on arrival is either never made or released."""
    from django.db import connections

    from tests.concurrency import race

    for round_ in range(3):
        shop, depot = StoreFactory(code=f"s{round_}"), warehouse(code=f"w{round_}")
        chain = VariantFactory()
        stock_receive(store=depot, variant=chain, quantity=1)
        order = order_place(lines=[(chain, 1)], fulfilment=Fulfilment.PICKUP, store=shop,
                            **CONTACT)
        transfer = Transfer.objects.get(reference=order.number)
        transfer_ship(transfer=transfer, actor=staff_of(depot))
        clerk = staff_of(shop)
        work = [lambda o=order: order_cancel(order=o, via="shopper"),
                lambda t=transfer, c=clerk: transfer_receive(transfer=t, actor=c)]
        _done, errors = race(2, lambda i, work=work: work[i]())
        assert errors == []
        assert order_reserved(order, shop) == [] and counts(shop, chain) == (1, 0)
    connections.close_all()
