"""The orders API: the cart (guest session or member), checkout for pickup, at the counter
and for delivery, own orders with cancel while unpaid; clear 4xx (unknown SKU, sold out,
changed prices, invalid address, bad state, CSRF), and the endpoints in the schema."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from orders.models import Cart, CartLine, Order, OrderStatus
from orders.services.cart import CART_SESSION_KEY
from stores.models import StockLevel
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory, warehouse

from .factories import pay

pytestmark = pytest.mark.django_db

CART, ITEMS, CHECKOUT, ORDERS = "/api/v1/cart/", "/api/v1/cart/items/", "/api/v1/checkout/", \
    "/api/v1/orders/"
CONTACT = {"contact_name": "林小姐", "contact_phone": "138 0013 8000",
           "contact_email": "lin@example.com"}
ADDRESS = {"recipient": "林小姐", "phone": "13800138000", "province": "上海市",
           "city": "上海市", "district": "静安区", "street": "南京西路 1266 号 2 楼",
           "postcode": "200040"}


def csrf_client(user=None) -> APIClient:
    """A client that must send the CSRF token, which it gets the way a browser app does:
    GET the cart sets the csrftoken cookie."""
    client = APIClient(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    assert client.get(CART).status_code == 200
    client.credentials(HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    return client


def stocked(store, quantity=2, price="2888.00"):
    variant = VariantFactory(list_price=Decimal(price))
    stock_receive(store=store, variant=variant, quantity=quantity)
    return variant


@pytest.fixture
def store():
    return StoreFactory(code="api-shop")


def item(sku):
    return f"{ITEMS}{sku}/"


# --- Cart --------------------------------------------------------------------------------


def test_a_guest_fills_changes_and_empties_the_cart(store):
    ring = stocked(store)
    api = csrf_client()
    assert api.get(CART).json() == {
        "lines": [], "count": 0, "subtotal": "0.00", "currency": "CNY", "needs_review": False,
        "discounts": {"coupon_code": "", "coupon_discount": "0.00", "coupon_error": None,
                      "points": 0, "points_discount": "0.00", "points_balance": 0,
                      "points_max": 0, "points_error": None, "total": "0.00"}}

    added = api.post(ITEMS, {"sku": ring.sku, "quantity": 1}, format="json")
    assert added.status_code == 201
    [line] = added.json()["lines"]
    assert (line["sku"], line["quantity"], line["unit_price"], line["available"]) == (
        ring.sku, 1, "2888.00", 2)
    assert not (line["price_changed"] or line["sold_out"] or line["blocked"])
    cart = Cart.objects.get()
    assert cart.member is None and api.session[CART_SESSION_KEY] == str(cart.token)

    changed = api.patch(item(ring.sku), {"quantity": 2}, format="json")
    assert changed.status_code == 200 and changed.json()["count"] == 2
    assert changed.json()["subtotal"] == "5776.00"
    gone = api.delete(item(ring.sku))
    assert gone.status_code == 200 and gone.json()["lines"] == []


def test_unsafe_requests_need_the_csrf_token(store):
    ring = stocked(store)
    api = APIClient(enforce_csrf_checks=True)
    refused = api.post(ITEMS, {"sku": ring.sku}, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    member = APIClient(enforce_csrf_checks=True)
    member.force_login(UserFactory())
    assert member.post(ITEMS, {"sku": ring.sku}, format="json").status_code == 403
    assert not CartLine.objects.exists()


def test_cart_errors_are_clear_4xx(store):
    ring = stocked(store, quantity=1)
    sold = VariantFactory()  # no stock anywhere
    api = csrf_client()

    unknown = api.post(ITEMS, {"sku": "NOPE-1"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_sku"
    bad = api.post(ITEMS, {"sku": ring.sku, "quantity": 0}, format="json")
    assert bad.status_code == 400 and "quantity" in bad.json()["fields"]
    out = api.post(ITEMS, {"sku": sold.sku}, format="json")
    assert out.status_code == 409 and out.json()["code"] == "sold_out"
    assert api.post(ITEMS, {"sku": ring.sku}, format="json").status_code == 201
    more = api.patch(item(ring.sku), {"quantity": 2}, format="json")
    assert more.status_code == 409 and more.json()["code"] == "not_enough_stock"
    missing = api.patch(item(sold.sku), {"quantity": 1}, format="json")
    assert missing.status_code == 404 and missing.json()["code"] == "not_in_cart"
    assert api.delete(item("NOPE-1")).status_code == 404
    assert CartLine.objects.get().quantity == 1


def test_a_changed_price_is_flagged_and_blocks_checkout_until_confirmed(store):
    ring = stocked(store)
    api = csrf_client()
    api.post(ITEMS, {"sku": ring.sku}, format="json")
    ring.list_price = Decimal("3100.00")
    ring.save()

    cart = api.get(CART).json()
    assert cart["needs_review"] and cart["lines"][0]["price_changed"]
    assert (cart["lines"][0]["price_seen"], cart["lines"][0]["unit_price"]) == (
        "2888.00", "3100.00")
    refused = api.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code, **CONTACT},
                       format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "cart_needs_review"
    assert not Order.objects.exists()

    confirmed = api.post("/api/v1/cart/confirm-prices/")
    assert confirmed.status_code == 200 and not confirmed.json()["needs_review"]
    placed = api.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code, **CONTACT},
                      format="json")
    assert placed.status_code == 201 and placed.json()["order"]["total"] == "3100.00"


# --- Checkout ----------------------------------------------------------------------------


def test_a_guest_checks_out_for_pickup_and_gets_a_payment_url(store):
    ring = stocked(store)
    api = csrf_client()
    api.post(ITEMS, {"sku": ring.sku, "quantity": 2}, format="json")

    response = api.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code, **CONTACT},
                        format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get()
    assert body["order"]["number"] == order.number
    assert body["order"]["status"] == OrderStatus.PENDING_PAYMENT
    assert body["order"]["store"] == {"code": store.code, "name": store.title}
    assert body["order"]["total"] == "5776.00" and len(body["order"]["lines"]) == 1
    assert body["order"]["pickup_code"] is None  # shown once it is ready
    assert "/pay/test/" in body["payment_url"]
    assert body["payment_url"].startswith("http")
    assert body["order_url"].startswith("http") and "payment_error" not in body
    assert order.contact_phone == "+8613800138000" and order.member is None
    assert StockLevel.objects.get(store=store, variant=ring).reserved == 2
    assert CART_SESSION_KEY not in api.session
    assert api.get(CART).json()["lines"] == []
    # The payment page answers (the test gateway offline).
    assert APIClient().get(body["payment_url"]).status_code == 200


def test_pay_at_the_counter_needs_no_payment_url_and_shows_the_code(store):
    ring = stocked(store)
    api = csrf_client()
    api.post(ITEMS, {"sku": ring.sku}, format="json")
    body = api.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code,
                               "pay_at_counter": True, **CONTACT}, format="json").json()
    assert body["payment_url"] is None
    assert body["order"]["pickup_code"] == Order.objects.get().pickup_code


def test_checkout_refusals_write_nothing(store):
    ring = stocked(store)
    depot = warehouse(code="api-wh")
    stock_receive(store=depot, variant=ring, quantity=1)
    api = csrf_client()

    empty = api.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code, **CONTACT},
                     format="json")
    assert empty.status_code == 400 and empty.json()["code"] == "cart_empty"
    api.post(ITEMS, {"sku": ring.sku}, format="json")

    bad_address = api.post(CHECKOUT, {"fulfilment": "delivery", **CONTACT,
                                      "address": {**ADDRESS, "postcode": "2000",
                                                  "phone": "12"}}, format="json")
    assert bad_address.status_code == 400
    body = bad_address.json()
    assert body["code"] == "address_invalid" and {"postcode", "phone"} <= set(body["fields"])
    no_address = api.post(CHECKOUT, {"fulfilment": "delivery", **CONTACT}, format="json")
    assert no_address.status_code == 400 and no_address.json()["code"] == "address_invalid"

    unknown_store = api.post(CHECKOUT, {"fulfilment": "pickup", "store": "nowhere", **CONTACT},
                             format="json")
    assert unknown_store.status_code == 400 and unknown_store.json()["code"] == "unknown_store"
    bad_phone = api.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code,
                                    **{**CONTACT, "contact_phone": "123"}}, format="json")
    assert bad_phone.status_code == 400 and "contact_phone" in bad_phone.json()["fields"]
    bad_fulfilment = api.post(CHECKOUT, {"fulfilment": "drone", **CONTACT}, format="json")
    assert bad_fulfilment.status_code == 400 and "fulfilment" in bad_fulfilment.json()["fields"]
    no_contact = api.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code},
                          format="json")
    assert no_contact.status_code == 400 and no_contact.json()["code"] == "contact_required"
    assert not Order.objects.exists() and CartLine.objects.count() == 1

    delivered = api.post(CHECKOUT, {"fulfilment": "delivery", **CONTACT, "address": ADDRESS},
                         format="json")
    assert delivered.status_code == 201
    assert delivered.json()["order"]["address"]["postcode"] == "200040"


def test_a_piece_sold_out_meanwhile_is_a_409(store):
    ring = stocked(store, quantity=1)
    first, second = csrf_client(), csrf_client()
    first.post(ITEMS, {"sku": ring.sku}, format="json")
    second.post(ITEMS, {"sku": ring.sku}, format="json")
    assert first.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code, **CONTACT},
                      format="json").status_code == 201
    late = second.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code, **CONTACT},
                       format="json")
    assert late.status_code == 409 and late.json()["code"] in ("cart_needs_review", "sold_out")
    assert second.get(CART).json()["lines"][0]["sold_out"] is True
    again = second.post(ITEMS, {"sku": ring.sku}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "sold_out"
    assert Order.objects.count() == 1


# --- Own orders --------------------------------------------------------------------------


def test_a_member_checks_out_then_sees_and_cancels_their_order(store):
    ring = stocked(store)
    member = UserFactory()
    api = csrf_client(member)
    api.post(ITEMS, {"sku": ring.sku}, format="json")
    assert Cart.objects.get().member == member
    placed = api.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code},
                      format="json")  # the member's own contact details
    assert placed.status_code == 201
    number = placed.json()["order"]["number"]

    listing = api.get(ORDERS).json()
    assert listing["count"] == 1 and listing["results"][0]["number"] == number
    detail = api.get(f"{ORDERS}{number}/")
    assert detail.status_code == 200 and detail.json()["contact_name"] == member.name

    cancelled = api.post(f"{ORDERS}{number}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert StockLevel.objects.get(store=store, variant=ring).reserved == 0
    assert api.post(f"{ORDERS}{number}/cancel/").status_code == 200  # idempotent


def test_a_paid_order_cannot_be_cancelled(store):
    ring = stocked(store)
    member = UserFactory()
    api = csrf_client(member)
    api.post(ITEMS, {"sku": ring.sku}, format="json")
    number = api.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code},
                      format="json").json()["order"]["number"]
    order = pay(Order.objects.get(number=number))
    refused = api.post(f"{ORDERS}{number}/cancel/")
    assert refused.status_code == 409 and refused.json()["code"] == "order_transition_not_allowed"
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert api.get(f"{ORDERS}{number}/").json()["pickup_code"] == order.pickup_code


def test_orders_are_private(store):
    ring = stocked(store)
    owner, stranger = UserFactory(), UserFactory()
    api = csrf_client(owner)
    api.post(ITEMS, {"sku": ring.sku}, format="json")
    number = api.post(CHECKOUT, {"fulfilment": "pickup", "store": store.code},
                      format="json").json()["order"]["number"]

    other = csrf_client(stranger)
    assert other.get(ORDERS).json()["count"] == 0
    assert other.get(f"{ORDERS}{number}/").status_code == 404
    assert other.post(f"{ORDERS}{number}/cancel/").status_code == 404
    anonymous = APIClient()
    assert anonymous.get(ORDERS).status_code == 403
    assert anonymous.get(f"{ORDERS}{number}/").status_code == 403
    assert Order.objects.get(number=number).status == OrderStatus.PENDING_PAYMENT


def test_the_openapi_schema_documents_the_endpoints():
    schema = APIClient().get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "get" in paths["/api/v1/cart/"]
    assert "post" in paths["/api/v1/cart/items/"]
    assert {"patch", "delete"} <= set(paths["/api/v1/cart/items/{sku}/"])
    assert "201" in paths["/api/v1/checkout/"]["post"]["responses"]
    assert {"400", "409"} <= set(paths["/api/v1/checkout/"]["post"]["responses"])
    assert "get" in paths["/api/v1/orders/"] and "get" in paths["/api/v1/orders/{number}/"]
    assert "409" in paths["/api/v1/orders/{number}/cancel/"]["post"]["responses"]
