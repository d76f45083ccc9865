"""The orders API under /api/v1/: cart, checkout, own orders. Thin: parse, call
orders.services, serialise.

    GET    cart/                        the cart of the session (guest) or of the member
    POST   cart/items/                  add {sku, quantity}                      201
    PATCH  cart/items/<sku>/            set {quantity} (0 removes)
    DELETE cart/items/<sku>/            remove the line
    POST   cart/confirm-prices/         accept today's prices of flagged lines
    PUT    cart/discounts/              keep {coupon_code, points} on the cart (checked now)
    DELETE cart/discounts/              remove them
    POST   checkout/                    place the cart as an order               201
    GET    orders/                      my orders (members)
    GET    orders/<number>/             one of my orders
    POST   orders/<number>/cancel/      cancel it while unpaid

Session authentication; every unsafe request needs the CSRF token (X-CSRFToken header
with the csrftoken cookie), for guests too (DRF checks it only for signed-in users, and
a guest's cart and checkout deserve the same protection). GET cart/ sets the cookie.
Errors: ApplicationError from the services, answered by o2o.errors as
``{"code", "detail", ...}``: 400 bad input (address_invalid with ``fields``), 404 unknown
piece or order, 409 sold out, changed prices or a bad state.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions
from rest_framework.authentication import CSRFCheck
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Variant
from catalog.selectors import for_sale
from members.services.coupons import coupon_guess_ensure
from o2o.errors import ApplicationError, NotFoundError, reported
from stores.models import Store

from .links import order_token
from .models import CartLine, Order
from .selectors import orders_of_member
from .serializers import (
    CartDiscountsInputSerializer,
    CartItemAddSerializer,
    CartItemQuantitySerializer,
    CartSerializer,
    CheckoutResultSerializer,
    CheckoutSerializer,
    OrderErrorSerializer,
    OrderSerializer,
    represent,
)
from .services import order_cancel
from .services.cart import (
    CART_SESSION_KEY,
    cart_add_viewed,
    cart_confirm_prices,
    cart_discounts,
    cart_discounts_set,
    cart_for_request,
    cart_lines,
    cart_remember,
    cart_set_quantity,
    cart_subtotal,
)
from .services.checkout import checkout_place, checkout_rate_limit
from .signals import shopper_step_send

TAGS = ["orders"]


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(OrderErrorSerializer, description=description)


E400 = _error("Bad input: unknown SKU, quantity out of range, invalid address (with fields)")
E403 = _error("Not signed in, or the CSRF token is missing")
E404 = _error("No such piece in the cart, or no such order of yours")
E409 = _error("Sold out, prices changed since seen, or the order's state forbids it")
E429 = _error("Too many coupon codes tried: wait a minute")


class CsrfEveryoneMixin:
    """Unsafe methods need the CSRF token for guests too (SessionAuthentication checks it
    only for signed-in users)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in permissions.SAFE_METHODS and not request.user.is_authenticated:
            check = CSRFCheck(lambda _request: None)
            check.process_request(request)
            reason = check.process_view(request, None, (), {})
            if reason:
                raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")


def _discounts(cart, request, views) -> dict:
    member = request.user if request.user.is_authenticated else None
    quote = cart_discounts(cart=cart, member=member, views=views)
    return {"coupon_code": cart.coupon_code if cart else "",
            "coupon_discount": quote.coupon_discount, "coupon_error": quote.coupon_error,
            "points": quote.points, "points_discount": quote.points_discount,
            "points_balance": quote.points_balance, "points_max": quote.points_max,
            "points_error": quote.points_error, "total": quote.total}


def _discounts_keep(request, cart, values: dict) -> None:
    """Keep the coupon code and/or points sent (absent: left as they are) on the cart;
    a typed code counts towards the guessing limit (coupon_guess_ensure, 429)."""
    if values.get("coupon_code"):
        coupon_guess_ensure(request=request)
    member = request.user if request.user.is_authenticated else None
    cart_discounts_set(cart=cart, member=member, coupon_code=values.get("coupon_code"),
                       points=values.get("points"))


def _cart_payload(cart, request, views=None) -> dict:
    views = cart_lines(cart=cart, pictures=False) if views is None else views
    return represent(CartSerializer, {
        "discounts": _discounts(cart, request, views),
        "lines": views,
        "count": sum(v.quantity for v in views),
        "subtotal": cart_subtotal(views),
        "currency": settings.CURRENCY,
        "needs_review": any(v.blocked for v in views),
    })


def _variant(sku: str) -> Variant | None:
    """The piece with what selling reads of it and its product, in one query."""
    return for_sale(Variant.objects.select_related("product")).filter(sku=sku).first()


class CartView(CsrfEveryoneMixin, APIView):
    permission_classes = [permissions.AllowAny]

    @method_decorator(ensure_csrf_cookie)
    @extend_schema(summary="The cart, with live prices, availability and flags",
                   description="The member's cart when signed in, else the session's guest "
                               "cart (empty when there is none). Sets the csrftoken cookie.",
                   responses=CartSerializer, tags=TAGS)
    def get(self, request):
        cart = cart_for_request(user=request.user, session=request.session)
        return Response(_cart_payload(cart, request))


class CartItemsView(CsrfEveryoneMixin, APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(summary="Add a piece to the cart", request=CartItemAddSerializer,
                   responses={201: CartSerializer, 400: E400, 403: E403, 409: E409},
                   tags=TAGS)
    def post(self, request):
        data = CartItemAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variant = _variant(data.validated_data["sku"])
        if variant is None:
            raise ApplicationError(_("There is no piece %(sku)s in the catalogue.") % {
                "sku": data.validated_data["sku"]}, code="unknown_sku")
        member = request.user if request.user.is_authenticated else None
        cart, views = cart_add_viewed(
            cart=cart_for_request(user=request.user, session=request.session),
            member=member, variant=variant, quantity=data.validated_data["quantity"])
        cart_remember(session=request.session, cart=cart)
        shopper_step_send(request, "bag")
        return Response(_cart_payload(cart, request, views), status=201)


def _line_or_404(request, sku: str):
    cart = cart_for_request(user=request.user, session=request.session)
    line = (CartLine.objects.filter(cart=cart, variant__sku=sku)
            .select_related("variant__product").first() if cart else None)
    if line is None:
        raise NotFoundError(_("%(sku)s is not in your bag.") % {"sku": sku},
                            code="not_in_cart")
    return cart, line


SKU_PARAM = OpenApiParameter("sku", str, OpenApiParameter.PATH, description="The piece's SKU")


class CartItemView(CsrfEveryoneMixin, APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(summary="Change a line's quantity (0 removes it)", parameters=[SKU_PARAM],
                   request=CartItemQuantitySerializer,
                   responses={200: CartSerializer, 400: E400, 403: E403, 404: E404, 409: E409},
                   tags=TAGS)
    def patch(self, request, sku):
        data = CartItemQuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart, line = _line_or_404(request, sku)
        cart_set_quantity(cart=cart, variant=line.variant,
                          quantity=data.validated_data["quantity"])
        return Response(_cart_payload(cart, request))

    @extend_schema(summary="Remove a line", parameters=[SKU_PARAM], request=None,
                   responses={200: CartSerializer, 403: E403, 404: E404}, tags=TAGS)
    def delete(self, request, sku):
        cart, line = _line_or_404(request, sku)
        cart_set_quantity(cart=cart, variant=line.variant, quantity=0)
        return Response(_cart_payload(cart, request))


class CartConfirmPricesView(CsrfEveryoneMixin, APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(summary="Accept today's prices of the lines whose price changed",
                   request=None, responses={200: CartSerializer, 403: E403, 404: E404},
                   tags=TAGS)
    def post(self, request):
        cart = cart_for_request(user=request.user, session=request.session)
        if cart is None:
            raise NotFoundError(_("Your bag is empty."), code="cart_empty")
        cart_confirm_prices(cart=cart)
        return Response(_cart_payload(cart, request))


class CartDiscountsView(CsrfEveryoneMixin, APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Keep a coupon code and/or points on the cart",
        description="Checked against the cart now: 400 with the reason (coupon_expired, "
                    "coupon_min_spend, coupon_wrong_channel, coupon_out_of_scope, "
                    "coupon_limit_reached, coupon_not_yours, coupon_no_points, "
                    "points_over_limit, points_need_member...) and nothing kept. Placing "
                    "the order checks them again. Guessing codes is rate limited (429).",
        request=CartDiscountsInputSerializer,
        responses={200: CartSerializer, 400: E400, 403: E403, 404: E404, 429: E429},
        tags=TAGS)
    def put(self, request):
        data = CartDiscountsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = cart_for_request(user=request.user, session=request.session)
        if cart is None:
            raise NotFoundError(_("Your bag is empty."), code="cart_empty")
        _discounts_keep(request, cart, data.validated_data)
        return Response(_cart_payload(cart, request))

    @extend_schema(summary="Remove the cart's coupon and points", request=None,
                   responses={200: CartSerializer, 403: E403, 404: E404}, tags=TAGS)
    def delete(self, request):
        cart = cart_for_request(user=request.user, session=request.session)
        if cart is None:
            raise NotFoundError(_("Your bag is empty."), code="cart_empty")
        member = request.user if request.user.is_authenticated else None
        cart_discounts_set(cart=cart, member=member, coupon_code="", points=0)
        return Response(_cart_payload(cart, request))


class CheckoutView(CsrfEveryoneMixin, APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Place the cart as an order and start its payment",
        description=(
            "Delivery needs `address`; pickup needs `store` (a store code) and may be "
            "paid at the counter (`pay_at_counter`). Prices are frozen and the pieces "
            "reserved, all or nothing; the cart is emptied. `payment_url` is the payment "
            "page (Stripe Checkout, or the test gateway offline); null when paying at the "
            "counter. A line whose price changed or sold out since it was seen answers 409 "
            "cart_needs_review: GET the cart, confirm prices, try again."),
        request=CheckoutSerializer,
        responses={201: CheckoutResultSerializer, 400: E400, 403: E403, 409: E409},
        tags=TAGS)
    def post(self, request):
        data = CheckoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        checkout_rate_limit(request=request, contact_phone=values["contact_phone"],
                            contact_email=values["contact_email"])
        store = None
        if values.get("store"):
            store = Store.objects.filter(code=values["store"]).first()
            if store is None:
                raise ApplicationError(_("There is no store %(code)s.") % {
                    "code": values["store"]}, code="unknown_store")
        cart = cart_for_request(user=request.user, session=request.session)
        if cart is None:
            raise ApplicationError(_("Your bag is empty."), code="cart_empty")
        member = request.user if request.user.is_authenticated else None
        if "coupon_code" in values or "points" in values:
            _discounts_keep(request, cart, values)
        order = checkout_place(
            cart=cart, fulfilment=values["fulfilment"], store=store,
            address=values.get("address"), contact_name=values["contact_name"],
            contact_phone=values["contact_phone"], contact_email=values["contact_email"],
            member=member, pay_at_counter=values["pay_at_counter"],
            language=values.get("language") or get_language())
        shopper_step_send(request, "placed", order=order)
        if member is None:
            # The bag is empty now; without its key the guest's pages are cacheable again.
            request.session.pop(CART_SESSION_KEY, None)
        order_url = request.build_absolute_uri(path_for_order(order))
        # checkout_place's order knows its store and lines: nothing is read back.
        result = {"order": order, "payment_url": None,
                  "order_url": order_url}
        if not values["pay_at_counter"]:
            from .services.payments import payment_start  # another part of the sale

            # After checkout_place's commit: Stripe is never called inside it.
            with reported() as outcome:
                result["payment_url"] = request.build_absolute_uri(payment_start(
                    order=order, success_url=order_url, cancel_url=order_url))
            if outcome.error is not None:
                result["payment_error"] = outcome.error.as_dict()
        return Response(represent(CheckoutResultSerializer, result), status=201)


def path_for_order(order: Order) -> str:
    """The order's page for whoever holds the link (guests too)."""
    return reverse("orders:by_link", kwargs={"token": order_token(order)})


class OrdersPagination(PageNumberPagination):
    page_size = 20


def _my_orders(request):
    return orders_of_member(member=request.user)


NUMBER_PARAM = OpenApiParameter("number", str, OpenApiParameter.PATH,
                                description="The order number")


class OrderListView(generics.ListAPIView):
    """Paginated like every list (``count``, ``next``, ``previous``, ``results``), and
    documented so."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = OrderSerializer
    pagination_class = OrdersPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator's visit
            return Order.objects.none()
        return _my_orders(self.request)

    @extend_schema(summary="My orders, newest first", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _my_order(request, number: str) -> Order:
    order = _my_orders(request).filter(number=number).first()
    if order is None:
        raise NotFoundError(_("You have no order %(number)s.") % {"number": number},
                            code="order_not_found")
    return order


class OrderDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="One of my orders", parameters=[NUMBER_PARAM],
                   responses={200: OrderSerializer, 403: E403, 404: E404}, tags=TAGS)
    def get(self, request, number):
        return Response(OrderSerializer(_my_order(request, number)).data)


class OrderCancelView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="Cancel one of my orders while it is unpaid",
                   description="Its pieces go back on sale. A paid order answers 409 "
                               "order_transition_not_allowed (ask for a refund instead).",
                   parameters=[NUMBER_PARAM], request=None,
                   responses={200: OrderSerializer, 403: E403, 404: E404, 409: E409},
                   tags=TAGS)
    def post(self, request, number):
        order = order_cancel(order=_my_order(request, number), actor=request.user, via="api",
                             reason="cancelled by the shopper")
        return Response(OrderSerializer(_my_order(request, order.number)).data)


urlpatterns = [
    path("cart/", CartView.as_view(), name="api-cart"),
    path("cart/items/", CartItemsView.as_view(), name="api-cart-items"),
    path("cart/items/<str:sku>/", CartItemView.as_view(), name="api-cart-item"),
    path("cart/confirm-prices/", CartConfirmPricesView.as_view(), name="api-cart-confirm"),
    path("cart/discounts/", CartDiscountsView.as_view(), name="api-cart-discounts"),
    path("checkout/", CheckoutView.as_view(), name="api-checkout"),
    path("orders/", OrderListView.as_view(), name="api-orders"),
    path("orders/<str:number>/", OrderDetailView.as_view(), name="api-order"),
    path("orders/<str:number>/cancel/", OrderCancelView.as_view(), name="api-order-cancel"),
]
