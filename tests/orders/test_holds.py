"""Pieces are not held for nothing: online payment needs a real provider (or the test
gateway where settings say so); a cart has a bounded number of lines; checkouts are rate
limited per client and per contact; a contact's unpaid orders are bounded in number and
value, under parallel checkouts too; a guest's pickup paid at the counter is one order of
a bounded value."""

from decimal import Decimal

import pytest
from django.db import connections

from orders.models import Cart, Order
from orders.services.cart import cart_add
from orders.services.checkout import HoldRefused, checkout_place
from orders.services.payments import OnlinePaymentOff, payments_provider
from stores.models import StockLevel
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.concurrency import race
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory

from .test_api import CHECKOUT, ITEMS, csrf_client

CONTACT = {"contact_name": "林小姐", "contact_phone": "+8613800138000",
           "contact_email": "lin@example.com"}


def stocked(store, *, price="1000", quantity=5):
    variant = VariantFactory(list_price=Decimal(price))
    stock_receive(store=store, variant=variant, quantity=quantity)
    return variant


def cart_of(variant, quantity=1):
    cart = Cart.objects.create()
    cart_add(cart=cart, variant=variant, quantity=quantity)
    return cart


def place(store, variant, *, pay_at_counter=False, member=None, **contact):
    return checkout_place(cart=cart_of(variant), fulfilment="pickup", store=store,
                          member=member, pay_at_counter=pay_at_counter,
                          **{**CONTACT, **contact})


# --- 1. A payment provider, or no online payment -----------------------------------------


@pytest.mark.django_db
def test_without_a_provider_online_payment_is_refused_and_nothing_is_held(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.PAYMENT_TEST_GATEWAY = False
    assert payments_provider() is None
    store = StoreFactory()
    variant = stocked(store)
    with pytest.raises(OnlinePaymentOff) as refused:
        place(store, variant)
    assert refused.value.status == 503 and refused.value.code == "online_payment_off"
    assert not Order.objects.exists()
    assert StockLevel.objects.get(variant=variant).reserved == 0
    # A pickup paid at the counter needs no provider.
    assert place(store, variant, pay_at_counter=True).status == "pending_payment"


@pytest.mark.django_db
def test_the_api_says_why_and_the_test_gateway_page_is_gone(settings, client):
    settings.STRIPE_SECRET_KEY = ""
    settings.PAYMENT_TEST_GATEWAY = False
    store = StoreFactory(code="sh-nopay")
    variant = stocked(store)
    api = csrf_client()
    assert api.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json").status_code == 201
    answer = api.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code, **CONTACT},
                      format="json")
    assert answer.status_code == 503 and answer.json()["code"] == "online_payment_off"
    assert not Order.objects.exists()
    assert client.get("/pay/test/anything/").status_code == 404


# --- 2. Bounded holds -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cart_takes_a_bounded_number_of_lines(settings):
    settings.CART_MAX_LINES = 3
    store = StoreFactory()
    api = csrf_client()
    pieces = [stocked(store) for _ in range(4)]
    for variant in pieces[:3]:
        assert api.post(ITEMS, {"sku": variant.sku}, format="json").status_code == 201
    answer = api.post(ITEMS, {"sku": pieces[3].sku}, format="json")
    assert answer.status_code == 400 and answer.json()["code"] == "too_many_lines"


@pytest.mark.django_db
def test_checkouts_are_rate_limited_per_client(settings):
    settings.CHECKOUT_RATE_CLIENT = "3/m"
    api = csrf_client()
    codes = []
    for n in range(4):
        answer = api.post(CHECKOUT, {"fulfilment": "pickup", "store": "none",
                                     **CONTACT, "contact_phone": f"+86139000000{n:02d}",
                                     "contact_email": f"x{n}@example.com"}, format="json")
        codes.append(answer.status_code)
    assert codes[:3] != [429] * 3 and codes[3] == 429


@pytest.mark.django_db
def test_checkouts_are_rate_limited_per_contact_from_any_address(settings):
    settings.CHECKOUT_RATE_CONTACT = "2/h"
    codes = []
    for n in range(3):
        api = csrf_client()
        answer = api.post(CHECKOUT, {"fulfilment": "pickup", "store": "none", **CONTACT},
                          format="json", REMOTE_ADDR=f"203.0.113.{n + 1}")
        codes.append(answer.status_code)
    assert codes[2] == 429 and 429 not in codes[:2]


@pytest.mark.django_db
def test_a_contact_holds_a_bounded_number_and_value_of_unpaid_orders(settings):
    settings.HOLD_MAX_ORDERS = 2
    settings.HOLD_MAX_VALUE = 5000
    store = StoreFactory()
    place(store, stocked(store, price="1000"))
    place(store, stocked(store, price="1000"), contact_phone="+8613900000001")  # same email
    with pytest.raises(HoldRefused) as refused:  # the mobile of one, the email of the other
        place(store, stocked(store, price="1000"))
    assert refused.value.code == "hold_limit" and refused.value.status == 409
    # Value: another contact, one order over the cap.
    with pytest.raises(HoldRefused):
        place(store, stocked(store, price="6000"), contact_phone="+8613900000009",
              contact_email="rich@example.com")
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_a_guest_holds_one_modest_order_for_the_counter_a_verified_member_more(settings):
    settings.HOLD_COUNTER_GUEST_MAX_VALUE = 3000
    store = StoreFactory()
    with pytest.raises(HoldRefused) as refused:
        place(store, stocked(store, price="5000"), pay_at_counter=True)
    assert refused.value.code == "hold_counter_limit"
    place(store, stocked(store, price="2000"), pay_at_counter=True)
    with pytest.raises(HoldRefused):
        place(store, stocked(store, price="100"), pay_at_counter=True)
    member = UserFactory(phone="+8613700000000", phone_verified=True)
    for _ in range(2):
        place(store, stocked(store, price="5000"), pay_at_counter=True, member=member,
              contact_phone=member.phone, contact_email="m@example.com")
    assert Order.objects.filter(member=member).count() == 2


@pytest.mark.django_db(transaction=True)
def test_parallel_checkouts_of_one_contact_cannot_pass_the_limit_together(settings):
    settings.HOLD_MAX_ORDERS = 3
    store = StoreFactory()
    carts = [cart_of(stocked(store)) for _ in range(8)]

    def checkout(i):
        return checkout_place(cart=carts[i], fulfilment="pickup", store=store,
                              pay_at_counter=False, **CONTACT)

    results, errors = race(8, checkout)
    connections.close_all()
    assert len(results) == 3, errors
    assert len(errors) == 5 and all(isinstance(e, HoldRefused) for e in errors)
    assert Order.objects.count() == 3


@pytest.mark.django_db
def test_the_holds_count_open_unpaid_orders_of_the_member_the_mobile_or_the_email():
    """The hold check's one SQL statement counts what the ORM's filter did: unpaid and
    unexpired orders of the member, the mobile number or the email (any case)."""
    from datetime import timedelta

    from django.db.models import Count, Q, Sum
    from django.utils import timezone

    from orders.services.checkout import _holds_held

    store = StoreFactory()
    member = UserFactory(phone="+8613700000001")
    mine = place(store, stocked(store, price="1000"), member=member, contact_phone="",
                 contact_email="")
    by_phone = place(store, stocked(store, price="200"), contact_email="",
                     contact_phone="+8613700000002")
    by_email = place(store, stocked(store, price="30"), pay_at_counter=True,
                     contact_phone="", contact_email="Lin.Xiao@Example.com")
    expired = place(store, stocked(store, price="4"), contact_phone="+8613700000002",
                    contact_email="")
    Order.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    paid = place(store, stocked(store, price="5"), contact_phone="+8613700000002")
    Order.objects.filter(pk=paid.pk).update(status="paid")
    place(store, stocked(store, price="6"), contact_phone="+8613700000003",
          contact_email="other@example.com")

    def orm(who):
        held = Order.objects.filter(who, status="pending_payment").filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())).aggregate(
            count=Count("pk"), value=Sum("total"),
            at_counter=Count("pk", filter=Q(pay_at_counter=True)))
        return {**held, "value": held["value"] or Decimal("0")}

    everyone = _holds_held(member=member, phone="+8613700000002",
                           email="lin.xiao@example.COM")
    assert everyone == {"count": 3, "value": Decimal("1230.00"), "at_counter": 1}
    assert everyone == orm(Q(member=member) | Q(contact_phone="+8613700000002")
                           | Q(contact_email__iexact="lin.xiao@example.COM"))
    assert {mine.pk, by_phone.pk, by_email.pk} == set(Order.objects.filter(
        Q(member=member) | Q(contact_phone="+8613700000002")
        | Q(contact_email__iexact="lin.xiao@example.com"), status="pending_payment")
        .exclude(pk=expired.pk).values_list("pk", flat=True))
    assert _holds_held(member=None, phone="+8613700000002", email="") == {
        "count": 1, "value": Decimal("200.00"), "at_counter": 0}
    assert _holds_held(member=None, phone="", email="") == {
        "count": 0, "value": Decimal("0"), "at_counter": 0}
