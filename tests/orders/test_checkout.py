"""Checkout: pickup stores in order of readiness, placing the cart as an order (flagged
lines refused, prices frozen, cart emptied, nothing written on failure), address
validation, no oversell under parallel checkouts, and the checkout pages."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from members.services import AddressInvalid
from orders.errors import OrderInvalid
from orders.models import Cart, CartLine, Fulfilment, Order, OrderEvent, OrderStatus
from orders.services.cart import cart_add
from orders.services.checkout import (
    CartNeedsReview,
    checkout_pickup_stores,
    checkout_place,
)
from stores.errors import SoldOut
from stores.models import Reservation, StockLevel, Transfer
from stores.services import stock_receive
from tests.catalog.factories import ByWeightVariantFactory, MetalRateFactory, VariantFactory
from tests.concurrency import race
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory, warehouse

pytestmark = pytest.mark.django_db

CONTACT = {"contact_name": "林小姐", "contact_phone": "+8613800138000",
           "contact_email": "lin@example.com"}
ADDRESS = {"recipient": "林小姐", "phone": "13800138000", "province": "上海市",
           "city": "上海市", "district": "静安区", "street": "南京西路 1266 号 2 楼",
           "postcode": "200040"}


def cart_with(*pieces):
    """A guest cart holding (variant, quantity) pairs."""
    cart = Cart.objects.create()
    for variant, quantity in pieces:
        cart_add(cart=cart, variant=variant, quantity=quantity)
    return cart


def store_input(html, store):
    """The pickup page's radio tag for ``store`` (up to its data-store attribute)."""
    marker = f'data-store="{store.code}"'
    assert html.count(marker) == 1, f"{store.code} is not offered once"
    return html.split(marker)[0].rsplit("<input", 1)[1]


def stocked_at(store, quantity=1, **fields):
    variant = VariantFactory(**fields)
    stock_receive(store=store, variant=variant, quantity=quantity)
    return variant


# --- Pickup stores ----------------------------------------------------------------------------


def test_stores_with_every_piece_come_first_then_by_transfer_days():
    near = StoreFactory(code="a-far", dispatch_days=2)
    full = StoreFactory(code="z-full")
    slow = StoreFactory(code="b-slow", dispatch_days=5)
    empty = StoreFactory(code="c-empty")
    depot = warehouse(code="wh", dispatch_days=1)
    ring = stocked_at(full)
    stock_receive(store=near, variant=ring, quantity=1)
    chain = stocked_at(full)
    stock_receive(store=slow, variant=chain, quantity=1)
    stock_receive(store=depot, variant=chain, quantity=1)
    cart = cart_with((ring, 1), (chain, 1))

    options = {o.store.code: o for o in checkout_pickup_stores(cart=cart)}
    ordered = [o.store.code for o in checkout_pickup_stores(cart=cart)]
    assert ordered[0] == "z-full" and options["z-full"].ready_today
    assert "wh" not in options  # a warehouse is no pickup store
    # a-far has the ring; the chain comes from the warehouse (1 day).
    assert options["a-far"].ready_in_days == 1 and options["a-far"].missing == (chain.sku,)
    # b-slow has the chain; the ring comes from a-far or z-full (2 days, the default).
    assert options["b-slow"].ready_in_days == 2
    assert options["c-empty"].ready_in_days == 2
    assert ordered.index("a-far") < ordered.index("b-slow")
    assert empty.pk in {o.store.pk for o in options.values()}


def test_a_store_that_cannot_get_a_piece_comes_last():
    has_both, has_ring = StoreFactory(code="c-both"), StoreFactory(code="a-ring")
    ring = stocked_at(has_both, quantity=2)
    stock_receive(store=has_ring, variant=ring, quantity=1)
    chain = stocked_at(has_both)
    cart = cart_with((ring, 2), (chain, 1))
    options = checkout_pickup_stores(cart=cart)
    assert [o.store for o in options] == [has_both, has_ring]
    # a-ring has one ring of the two, and only c-both has two to send: a transfer.
    assert options[1].ready_in_days == has_both.dispatch_days
    assert set(options[1].missing) == {ring.sku, chain.sku}

    # Once c-both's pieces are taken, no store can get them at all.
    checkout_place(cart=cart_with((chain, 1)), fulfilment=Fulfilment.PICKUP, store=has_both,
                   **CONTACT)
    later = {o.store: o.ready_in_days for o in checkout_pickup_stores(cart=cart)}
    assert later == {has_both: None, has_ring: None}


# --- checkout_place -------------------------------------------------------------------------


def test_a_pickup_is_placed_with_frozen_prices_and_the_cart_emptied():
    store = StoreFactory()
    variant = stocked_at(store, quantity=2, list_price=Decimal("3888.00"))
    cart = cart_with((variant, 2))
    order = checkout_place(cart=cart, fulfilment=Fulfilment.PICKUP, store=store, **CONTACT)

    assert order.status == OrderStatus.PENDING_PAYMENT and order.store == store
    assert order.total == Decimal("7776.00") and len(order.pickup_code) == 8
    [line] = order.lines.all()
    assert (line.unit_price, line.quantity) == (Decimal("3888.00"), 2)
    assert not CartLine.objects.filter(cart=cart).exists()
    assert StockLevel.objects.get(store=store, variant=variant).reserved == 2
    assert OrderEvent.objects.filter(order=order, kind="placed").exists()

    variant.list_price = Decimal("4999.00")
    variant.save()
    line.refresh_from_db()
    assert line.unit_price == Decimal("3888.00")


def test_a_changed_price_is_never_charged_silently_and_nothing_is_written():
    MetalRateFactory(rate_per_gram=Decimal("780.00"))
    store = StoreFactory()
    variant = ByWeightVariantFactory()
    stock_receive(store=store, variant=variant, quantity=1)
    cart = cart_with((variant, 1))
    MetalRateFactory(rate_per_gram=Decimal("810.00"), valid_from=timezone.now())

    with pytest.raises(CartNeedsReview) as refused:
        checkout_place(cart=cart, fulfilment=Fulfilment.PICKUP, store=store, **CONTACT)
    assert refused.value.status == 409 and refused.value.extra["skus"] == [variant.sku]
    assert not Order.objects.exists() and not Reservation.objects.exists()
    assert CartLine.objects.filter(cart=cart).count() == 1


def test_a_sold_out_line_is_refused_until_the_shopper_looks():
    store = StoreFactory()
    variant = stocked_at(store)
    cart = cart_with((variant, 1))
    rival = cart_with((variant, 1))
    checkout_place(cart=rival, fulfilment=Fulfilment.PICKUP, store=store, **CONTACT)
    with pytest.raises(SoldOut) as refused:
        checkout_place(cart=cart, fulfilment=Fulfilment.PICKUP, store=store, **CONTACT)
    assert refused.value.code == "sold_out" and refused.value.extra["skus"] == [variant.sku]
    assert Order.objects.count() == 1 and CartLine.objects.filter(cart=cart).count() == 1


def test_an_empty_cart_and_a_store_no_one_place_can_supply_are_refused():
    store, elsewhere, other = StoreFactory(), StoreFactory(), StoreFactory()
    with pytest.raises(OrderInvalid) as empty:
        checkout_place(cart=Cart.objects.create(), fulfilment=Fulfilment.PICKUP, store=store,
                       **CONTACT)
    assert empty.value.code == "cart_empty"
    # Each piece is somewhere, but no one place has both to send: refused.
    cart = cart_with((stocked_at(elsewhere), 1), (stocked_at(other), 1))
    with pytest.raises(OrderInvalid) as lacking:
        checkout_place(cart=cart, fulfilment=Fulfilment.PICKUP, store=store, **CONTACT)
    assert lacking.value.code == "store_lacks_pieces"
    assert not Order.objects.exists() and CartLine.objects.filter(cart=cart).exists()
    assert not Transfer.objects.exists()


def test_a_store_without_the_pieces_gets_them_by_a_transfer():
    store, elsewhere = StoreFactory(), StoreFactory()
    variant = stocked_at(elsewhere)
    cart = cart_with((variant, 1))
    order = checkout_place(cart=cart, fulfilment=Fulfilment.PICKUP, store=store, **CONTACT)
    transfer = Transfer.objects.get(reference=order.number)
    assert (transfer.source, transfer.destination) == (elsewhere, store)
    assert StockLevel.objects.get(store=elsewhere, variant=variant).reserved == 1
    assert not CartLine.objects.filter(cart=cart).exists()


def test_a_delivery_is_sent_from_a_warehouse_that_has_everything():
    shop, depot = StoreFactory(), warehouse()
    variant = stocked_at(shop)
    stock_receive(store=depot, variant=variant, quantity=1)
    member = UserFactory()
    cart = Cart.objects.create(member=member)
    cart_add(cart=cart, variant=variant)
    order = checkout_place(cart=cart, fulfilment=Fulfilment.DELIVERY, address=ADDRESS,
                           member=member, contact_name="", contact_phone="", contact_email="")
    assert order.store is None and order.member == member
    assert order.address["postcode"] == "200040" and order.address["phone"] == "+8613800138000"
    assert StockLevel.objects.get(store=depot, variant=variant).reserved == 1
    assert StockLevel.objects.get(store=shop, variant=variant).reserved == 0


def test_a_bad_address_is_refused_by_field_and_nothing_is_written():
    store = StoreFactory()
    cart = cart_with((stocked_at(store), 1))
    with pytest.raises(AddressInvalid) as refused:
        checkout_place(cart=cart, fulfilment=Fulfilment.DELIVERY,
                       address={**ADDRESS, "phone": "02112345678", "postcode": "2000"},
                       **CONTACT)
    assert refused.value.status == 400
    assert set(refused.value.extra["fields"]) == {"phone", "postcode"}
    assert not Order.objects.exists() and CartLine.objects.filter(cart=cart).exists()


def test_pay_at_the_counter_holds_the_pieces_for_the_configured_days(settings):
    settings.PAY_AT_COUNTER_DAYS = 4
    store = StoreFactory()
    cart = cart_with((stocked_at(store), 1))
    order = checkout_place(cart=cart, fulfilment=Fulfilment.PICKUP, store=store,
                           pay_at_counter=True, **CONTACT)
    hold = order.expires_at - order.placed_at
    assert hold.days == 4


@pytest.mark.django_db(transaction=True)
def test_parallel_checkouts_of_the_last_pieces_never_oversell():
    store = StoreFactory()
    variant = stocked_at(store, quantity=2)
    carts = [cart_with((variant, 1)) for _ in range(6)]

    def work(i):
        return checkout_place(cart=carts[i], fulfilment=Fulfilment.PICKUP, store=store,
                              **CONTACT).number

    placed, errors = race(6, work)
    assert len(placed) == 2
    assert len(errors) == 4 and all(isinstance(e, SoldOut) for e in errors), errors
    level = StockLevel.objects.get(store=store, variant=variant)
    assert (level.on_hand, level.reserved) == (2, 2)
    assert CartLine.objects.count() == 4  # the losers keep their bags


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_places_one_order():
    store = StoreFactory()
    cart = cart_with((stocked_at(store, quantity=5), 1))

    def work(_i):
        return checkout_place(cart=cart, fulfilment=Fulfilment.PICKUP, store=store,
                              **CONTACT).number

    placed, errors = race(3, work)
    assert len(placed) == 1 and Order.objects.count() == 1
    assert all(isinstance(e, OrderInvalid) and e.code == "cart_empty" for e in errors), errors


# --- The pages --------------------------------------------------------------------------------


def _to_review(client, store, *, pay_at_counter=False):
    assert client.post(reverse("orders:checkout_contact"), {
        "name": "林小姐", "phone": "138 0013 8000", "email": ""}).status_code == 302
    data = {"fulfilment": "pickup", "store": store.code}
    if pay_at_counter:
        data["pay_at_counter"] = "on"
    response = client.post(reverse("orders:checkout_fulfilment"), data)
    assert response.status_code == 302 and response.url == reverse("orders:checkout_review")


def test_a_guest_checks_out_for_pickup_and_is_sent_to_the_test_gateway(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    store = StoreFactory()
    variant = stocked_at(store, list_price=Decimal("2680.00"))
    client.post(reverse("orders:cart_add"), {"variant": variant.pk})
    assert client.get(reverse("orders:checkout")).url == reverse("orders:checkout_contact")
    _to_review(client, store)
    review = client.get(reverse("orders:checkout_review"))
    assert review.status_code == 200 and "2,680" in review.text.replace("，", ",")
    placed = client.post(reverse("orders:checkout_review"))
    order = Order.objects.get()
    assert placed.status_code == 302 and placed.url.startswith(reverse(
        "orders:pay_test", args=["x"]).rsplit("x/", 1)[0])
    assert order.contact_phone == "+8613800138000" and order.store == store
    assert "orders:cart" not in client.session and not CartLine.objects.exists()


def test_pay_at_the_counter_skips_payment_and_opens_the_order(client):
    store = StoreFactory()
    client.post(reverse("orders:cart_add"), {"variant": stocked_at(store).pk})
    _to_review(client, store, pay_at_counter=True)
    placed = client.post(reverse("orders:checkout_review"))
    from orders.links import order_token

    order = Order.objects.get()
    assert placed.url == reverse("orders:by_link", kwargs={"token": order_token(order)})
    assert order.expires_at - order.placed_at > timezone.timedelta(days=1)


def test_bad_contact_and_address_are_shown_on_the_page_with_a_400(client):
    store = StoreFactory()
    with translation.override("en"):  # the English pages: the words asserted are the msgids
        add, contact, fulfilment = (reverse(f"orders:{name}") for name in (
            "cart_add", "checkout_contact", "checkout_fulfilment"))
    assert contact.startswith("/en/")
    client.post(add, {"variant": stocked_at(store).pk})
    bad = client.post(contact, {"name": "林", "phone": "12345"})
    assert bad.status_code == 400 and "mainland China mobile number" in bad.text
    client.post(contact, {"name": "林", "phone": "13800138000"})
    bad = client.post(fulfilment, {
        "fulfilment": "delivery", "address-recipient": "林", "address-phone": "13800138000",
        "address-province": "上海市", "address-city": "上海市", "address-district": "静安区",
        "address-street": "南京西路 1 号", "address-postcode": "20004"})
    assert bad.status_code == 400 and "A postcode is 6 digits" in bad.text
    assert 'id="id_address-postcode_error"' in bad.text
    assert "fulfilment" not in client.session.get("orders:checkout", {})
    assert not Order.objects.exists()


def test_a_store_that_lacks_a_piece_can_be_chosen_but_one_that_cannot_get_it_cannot(client):
    has_ring, has_chain, neither = StoreFactory(), StoreFactory(), StoreFactory()
    client.post(reverse("orders:cart_add"), {"variant": stocked_at(has_ring).pk})
    client.post(reverse("orders:cart_add"), {"variant": stocked_at(has_chain).pk})
    client.post(reverse("orders:checkout_contact"), {"name": "林", "phone": "13800138000"})
    page = client.get(reverse("orders:checkout_fulfilment"))
    assert page.status_code == 200
    # No one place has both pieces to send ``neither``: it is shown but cannot be chosen.
    assert "disabled" in store_input(page.text, neither)
    assert "disabled" not in store_input(page.text, has_ring)
    refused = client.post(reverse("orders:checkout_fulfilment"),
                          {"fulfilment": "pickup", "store": neither.code})
    assert refused.status_code == 400
    # ``has_ring`` lacks the chain: it comes by a transfer from ``has_chain``.
    chosen = client.post(reverse("orders:checkout_fulfilment"),
                         {"fulfilment": "pickup", "store": has_ring.code})
    assert chosen.status_code == 302


def test_a_member_finds_the_contact_filled_in(client):
    member = UserFactory(name="王先生", phone="+8613912345678", email="wang@example.com")
    client.force_login(member)
    store = StoreFactory()
    client.post(reverse("orders:cart_add"), {"variant": stocked_at(store).pk})
    page = client.get(reverse("orders:checkout_contact"))
    assert 'value="王先生"' in page.text and 'value="+8613912345678"' in page.text


def test_a_delivery_through_the_pages_keeps_the_address_on_the_order(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    depot = warehouse()
    client.post(reverse("orders:cart_add"), {"variant": stocked_at(depot).pk})
    client.post(reverse("orders:checkout_contact"), {"name": "林", "phone": "13800138000"})
    response = client.post(reverse("orders:checkout_fulfilment"), {
        "fulfilment": "delivery", **{f"address-{k}": v for k, v in ADDRESS.items()}})
    assert response.status_code == 302
    review = client.get(reverse("orders:checkout_review"))
    assert "南京西路 1266 号 2 楼" in review.text and "200040" in review.text
    placed = client.post(reverse("orders:checkout_review"))
    assert placed.status_code == 302
    order = Order.objects.get()
    assert order.fulfilment == Fulfilment.DELIVERY and order.address["district"] == "静安区"
    assert StockLevel.objects.get(store=depot).reserved == 1


@pytest.mark.django_db
def test_a_drawn_number_or_pickup_code_already_taken_is_drawn_again(monkeypatch):
    """The order number is unique everywhere, the pickup code at its store only."""
    from orders.services import lifecycle

    store, other = StoreFactory(), StoreFactory()
    now = timezone.now()
    Order.objects.create(number="O261207AAAAAA", store=store, pickup_code="12345678",
                         subtotal=0, total=0, placed_at=now)
    Order.objects.create(number="O261207BBBBBB", store=other, pickup_code="87654321",
                         subtotal=0, total=0, placed_at=now)
    numbers = iter(["AAAAAA", "CCCCCC", "DDDDDD", "EEEEEE"])  # the first is taken
    codes = iter([5, 12345678, 87654321])  # 5 with the taken number; then taken here only
    monkeypatch.setattr(lifecycle, "_number_draw", lambda day, _choice: "O261207" + next(numbers))
    monkeypatch.setattr(lifecycle.secrets, "randbelow", lambda _n: next(codes))
    assert lifecycle._number_and_pickup_code(at=timezone.now(), store=store) == (
        "O261207DDDDDD", "87654321")
    assert lifecycle._number_and_pickup_code(at=timezone.now(), store=None) == (
        "O261207EEEEEE", "")
