"""Checkout in steps: contact -> fulfilment (delivery address, or a pickup store and
"pay at the counter") -> review with the prices that will be charged -> place and pay.

The steps' answers wait in the session under CHECKOUT_SESSION_KEY; the order is made
only on the review page's POST, by orders.services.checkout.checkout_place. Payment
starts after that transaction (orders.services.payments.payment_start: a network call
to Stripe must not run inside it). See orders/urls.py.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from members.errors import PointsInvalid
from members.forms import DeliveryAddressForm
from members.services.coupons import coupon_guess_ensure, coupons_usable
from o2o.errors import reported
from stores.models import Store

from ..forms import ContactForm, FulfilmentForm
from ..links import order_token
from ..models import Fulfilment
from ..services.cart import (
    CART_SESSION_KEY,
    cart_discounts,
    cart_discounts_set,
    cart_lines,
    cart_subtotal,
)
from ..services.checkout import checkout_pickup_stores, checkout_place, checkout_rate_limit
from ..signals import shopper_step_send
from .cart import request_cart

CHECKOUT_SESSION_KEY = "orders:checkout"


def _state(request: HttpRequest) -> dict:
    state = request.session.get(CHECKOUT_SESSION_KEY)
    return state if isinstance(state, dict) else {}


def _save(request: HttpRequest, **values) -> None:
    request.session[CHECKOUT_SESSION_KEY] = {**_state(request), **values}


def _ready_lines(request: HttpRequest):
    """(cart, lines) or a redirect to the bag when it is empty or needs a look first."""
    cart = request_cart(request)
    lines = cart_lines(cart=cart)
    if not lines:
        messages.info(request, _("Your bag is empty."))
        return None, None, redirect("orders:cart")
    if any(v.blocked for v in lines):
        messages.warning(request, _("Some pieces in your bag changed price or sold out; "
                                    "please look at them before checking out."))
        return None, None, redirect("orders:cart")
    return cart, lines, None


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def checkout(request: HttpRequest) -> HttpResponse:
    return redirect("orders:checkout_contact")


def _render(request, template, context, *, step: int, status: int = 200) -> HttpResponse:
    steps = [(1, _("Contact")), (2, _("Delivery or pickup")), (3, _("Review and pay"))]
    return _no_store(render(request, template, {**context, "steps": steps, "step": step},
                            status=status))


@require_http_methods(["GET", "POST"])
def checkout_contact(request: HttpRequest) -> HttpResponse:
    _cart, lines, away = _ready_lines(request)
    if away:
        return away
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            _save(request, contact=form.cleaned_data)
            return redirect("orders:checkout_fulfilment")
        status = 400
    else:
        shopper_step_send(request, "checkout")
        initial = _state(request).get("contact")
        user = request.user
        if not initial and user.is_authenticated:
            initial = {"name": user.name, "phone": user.phone or "", "email": user.email or ""}
        form, status = ContactForm(initial=initial or {}), 200
    return _render(request, "orders/checkout/contact.html",
                   {"form": form, "lines": lines, "subtotal": cart_subtotal(lines)},
                   step=1, status=status)


@require_http_methods(["GET", "POST"])
def checkout_fulfilment(request: HttpRequest) -> HttpResponse:
    cart, lines, away = _ready_lines(request)
    if away:
        return away
    state = _state(request)
    if not state.get("contact"):
        return redirect("orders:checkout_contact")
    options = checkout_pickup_stores(cart=cart)
    status = 200
    if request.method == "POST":
        form = FulfilmentForm(request.POST, stores=options)
        delivery = request.POST.get("fulfilment") == Fulfilment.DELIVERY
        address_form = DeliveryAddressForm(request.POST if delivery else None, prefix="address")
        if form.is_valid() and (not delivery or address_form.is_valid()):
            data = form.cleaned_data
            _save(request, fulfilment=data["fulfilment"],
                  store=data["store"] if not delivery else "",
                  pay_at_counter=bool(data["pay_at_counter"]),
                  address=address_form.cleaned_data if delivery else {})
            return redirect("orders:checkout_review")
        status = 400
    else:
        form = FulfilmentForm(initial={
            "fulfilment": state.get("fulfilment", Fulfilment.PICKUP),
            "store": state.get("store", ""), "pay_at_counter": state.get("pay_at_counter")},
            stores=options)
        address_form = DeliveryAddressForm(initial=state.get("address") or None,
                                           prefix="address")
    chosen = form["fulfilment"].value() or Fulfilment.PICKUP
    return _render(request, "orders/checkout/fulfilment.html", {
        "form": form, "address_form": address_form, "options": options,
        "chosen": chosen, "chosen_store": form["store"].value() or "",
        "hold_days": settings.PAY_AT_COUNTER_DAYS,
        "lines": lines, "subtotal": cart_subtotal(lines),
    }, step=2, status=status)


@require_http_methods(["GET", "POST"])
def checkout_review(request: HttpRequest) -> HttpResponse:
    cart, lines, away = _ready_lines(request)
    if away:
        return away
    state = _state(request)
    if not state.get("contact"):
        return redirect("orders:checkout_contact")
    if not state.get("fulfilment"):
        return redirect("orders:checkout_fulfilment")
    store = (Store.objects.shops().filter(code=state.get("store")).first()
             if state["fulfilment"] == Fulfilment.PICKUP else None)
    error = None
    member = request.user if request.user.is_authenticated else None
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action in ("discounts", "coupon_remove", "points_remove"):
        with reported() as outcome:
            if action == "discounts":
                typed = request.POST.get("coupon_code", "")[:64]
                if typed.strip():  # the API's limit on guessing codes holds here too
                    coupon_guess_ensure(request=request)
                cart_discounts_set(cart=cart, member=member, coupon_code=typed,
                                   points=_points_typed(request.POST.get("points", "")))
            else:
                cart_discounts_set(cart=cart, member=member,
                                   **({"coupon_code": ""} if action == "coupon_remove"
                                      else {"points": 0}))
        error = outcome.error
        if outcome.ok:
            return redirect("orders:checkout_review")
    elif request.method == "POST":
        contact = state["contact"]
        with reported() as outcome:
            checkout_rate_limit(request=request, contact_phone=contact["phone"],
                                contact_email=contact.get("email", ""))
            order = checkout_place(
                cart=cart, fulfilment=state["fulfilment"], store=store,
                address=state.get("address") or None, contact_name=contact["name"],
                contact_phone=contact["phone"], contact_email=contact.get("email", ""),
                member=member, pay_at_counter=bool(state.get("pay_at_counter")),
                language=get_language())
        error = outcome.error
        if outcome.ok:
            shopper_step_send(request, "placed", order=order)
            request.session.pop(CHECKOUT_SESSION_KEY, None)
            if member is None:
                # The bag is empty now; without its key the guest's pages are cacheable.
                request.session.pop(CART_SESSION_KEY, None)
            return _pay(request, order, pay_at_counter=bool(state.get("pay_at_counter")))
    cart.refresh_from_db(fields=["coupon_code", "points"])
    return _render(request, "orders/checkout/review.html", {
        "lines": lines, "subtotal": cart_subtotal(lines), "state": state, "store": store,
        "contact": state["contact"], "address": state.get("address") or {},
        "hold_days": settings.PAY_AT_COUNTER_DAYS, "error": error, "cart": cart,
        "discounts": cart_discounts(cart=cart, member=member, views=lines),
        "wallet": coupons_usable(member=member, channel="online") if member else [],
    }, step=3, status=error.status if error else 200)


def _points_typed(raw: str) -> int:
    """Points as typed ("", "1,000", " 500 "); PointsInvalid for anything else."""
    raw = (raw or "").replace(",", "").strip()
    if not raw:
        return 0
    if not raw.isdecimal() or len(raw) > 9:
        raise PointsInvalid(_("Give the points to use as a whole number."))
    return int(raw)


def order_link(order) -> str:
    """The order's page that guests can reach (orders:by_link)."""
    return reverse("orders:by_link", kwargs={"token": order_token(order)})


def _pay(request: HttpRequest, order, *, pay_at_counter: bool) -> HttpResponse:
    """After the order is committed: off to the payment page (Stripe Checkout, or the
    test gateway in the demo), or straight to the order when paying at the counter."""
    success_url = order_link(order)
    if pay_at_counter:
        messages.success(request, _("Your pieces are held for you; pay at the counter when "
                                    "you collect them."))
        return redirect(success_url)
    from ..services.payments import payment_start  # another part of the sale

    with reported(request) as outcome:
        url = payment_start(order=order, success_url=request.build_absolute_uri(success_url),
                            cancel_url=request.build_absolute_uri(success_url))
    if not outcome.ok:
        return redirect(success_url)
    return redirect(url)


urlpatterns = [
    path("checkout/", checkout, name="checkout"),
    path("checkout/contact/", checkout_contact, name="checkout_contact"),
    path("checkout/fulfilment/", checkout_fulfilment, name="checkout_fulfilment"),
    path("checkout/review/", checkout_review, name="checkout_review"),
]
