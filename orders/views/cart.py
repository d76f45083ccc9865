"""The cart pages: the bag, add to bag (from the cached product page, with or without
JavaScript), quantity, remove, accept new prices. Thin: parse, call orders.services.cart,
render. See orders/urls.py."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.models import Variant
from catalog.pricing import PriceUnavailable, variant_price
from o2o.errors import ApplicationError, error_response, reported
from o2o.parsing import whole_number

from ..forms import QuantityForm
from ..services.cart import (
    CART_SESSION_KEY,
    MAX_LINE_QUANTITY,
    cart_add,
    cart_confirm_prices,
    cart_count,
    cart_for_request,
    cart_lines,
    cart_set_quantity,
    cart_subtotal,
)
from ..signals import shopper_step_send


def request_cart(request: HttpRequest, *, create: bool = False):
    """The cart of this visitor (a member's, or a guest's through the session)."""
    return cart_for_request(user=request.user, session=request.session, create=create)


def _variant(raw) -> Variant | None:
    pk = whole_number(raw)
    if pk is None:
        return None
    return Variant.objects.select_related("product").filter(pk=pk).first()


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    """The bag: each line with today's price and availability; lines whose price changed
    or that sold out are flagged, with a button to accept the new prices."""
    views = cart_lines(cart=request_cart(request))
    context = {
        "lines": views,
        "subtotal": cart_subtotal(views),
        "count": sum(v.quantity for v in views),
        "price_changed": any(v.price_changed for v in views),
        "blocked": any(v.blocked for v in views),
    }
    return _no_store(render(request, "orders/cart.html", context))


def _add(request: HttpRequest):
    """(variant, line or None, error or None) for an add-to-bag POST."""
    variant = _variant(request.POST.get("variant"))
    if variant is None:
        return None, None, ApplicationError(_("This piece is not in the catalogue."),
                                            code="unknown_variant")
    raw = request.POST.get("quantity", "1")
    quantity = whole_number(raw, max_digits=6)
    quantity = -1 if quantity is None else quantity
    had_cart = request_cart(request) is not None
    # A cart made for this add is rolled back with it when the add is refused, so a
    # refused guest keeps a session the page cache can serve.
    with reported() as outcome, transaction.atomic():
        line = cart_add(cart=request_cart(request, create=True), variant=variant,
                        quantity=quantity)
    if not outcome.ok:
        if not had_cart:
            request.session.pop(CART_SESSION_KEY, None)
        return variant, None, outcome.error
    shopper_step_send(request, "bag")
    return variant, line, None


@require_http_methods(["GET", "POST"])
def cart_add_page(request: HttpRequest) -> HttpResponse:
    """Without JavaScript the product page's button is a link here: a small page to
    confirm (a normal form with its CSRF token), then the bag."""
    if request.method == "POST":
        variant, _line, error = _add(request)
        if error is None:
            messages.success(request, _("%(piece)s is in your bag.") % {
                "piece": variant.product.title})
            return redirect("orders:cart")
    else:
        variant, error = _variant(request.GET.get("variant")), None
        if variant is None:
            error = ApplicationError(_("This piece is not in the catalogue."),
                                     code="unknown_variant")
    price = None
    if variant is not None:
        try:
            price = variant_price(variant=variant).amount
        except PriceUnavailable as unpriced:
            error = error or unpriced
    response = render(request, "orders/cart_add.html",
                      {"variant": variant, "price": price, "error": error},
                      status=error.status if error else 200)
    return _no_store(response)


@csrf_exempt
@require_POST
def cart_add_fetch(request: HttpRequest) -> HttpResponse:
    """Add to bag from the (cached, token-free) product page: catalog.js posts here.

    The CSRF token is replaced by a custom header, as in catalog.views.recently_viewed:
    another site cannot send it without a CORS preflight this site never grants.
    Answers JSON: ``{count, message, cart_url}``, or ``{code, detail}`` with a 4xx."""
    if request.headers.get("X-Requested-With") != "fetch":
        return JsonResponse({"code": "header_required",
                             "detail": _("Ask for this from the shop's pages.")}, status=400)
    variant, line, error = _add(request)
    if error is not None:
        return _no_store(error_response(error))
    cart = line.cart
    return _no_store(JsonResponse({
        "count": cart_count(cart=cart),
        "message": _("%(piece)s is in your bag.") % {"piece": variant.product.title},
        "cart_url": reverse("orders:cart"),
    }))


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    """Change a line's quantity (0 removes it)."""
    form = QuantityForm(request.POST)
    variant = _variant(request.POST.get("variant")) if form.is_valid() else None
    cart = request_cart(request)
    if not form.is_valid():
        messages.error(request, _("Choose a quantity between 0 and %(max)s.")
                       % {"max": MAX_LINE_QUANTITY})
        return redirect("orders:cart")
    if variant is None or cart is None:
        messages.error(request, _("This piece is not in your bag."))
        return redirect("orders:cart")
    with reported(request):
        cart_set_quantity(cart=cart, variant=variant, quantity=form.cleaned_data["quantity"])
    return redirect("orders:cart")


@require_POST
def cart_remove(request: HttpRequest) -> HttpResponse:
    variant = _variant(request.POST.get("variant"))
    cart = request_cart(request)
    if variant is not None and cart is not None:
        cart_set_quantity(cart=cart, variant=variant, quantity=0)
        messages.success(request, _("%(piece)s was removed from your bag.") % {
            "piece": variant.product.title})
    return redirect("orders:cart")


@require_POST
def cart_accept_prices(request: HttpRequest) -> HttpResponse:
    cart = request_cart(request)
    if cart is not None and cart_confirm_prices(cart=cart):
        messages.success(request, _("Today's prices are now the prices in your bag."))
    return redirect("orders:cart")


urlpatterns = [
    path("cart/", cart, name="cart"),
    path("cart/add/", cart_add_page, name="cart_add"),
    # Not under /products/ and not a GET: the page cache never sees it.
    path("cart/add/fetch/", cart_add_fetch, name="cart_add_fetch"),
    path("cart/update/", cart_update, name="cart_update"),
    path("cart/remove/", cart_remove, name="cart_remove"),
    path("cart/accept-prices/", cart_accept_prices, name="cart_accept_prices"),
]
