"""The shopper's order pages: a member's orders, one order, and an order opened by its
signed link (guests; the emails and the checkout's return address point there).

    orders:mine            /account/orders/                 a member's orders, newest first
    orders:detail          /account/orders/<number>/        a member's own order (others: 404)
    orders:cancel          /account/orders/<number>/cancel/ POST: cancel while unpaid
    orders:pay             /account/orders/<number>/pay/    POST: pay online now
    orders:by_link         /orders/<token>/                 the order for whoever holds the link
    orders:cancel_by_link  /orders/<token>/cancel/          POST
    orders:pay_by_link     /orders/<token>/pay/             POST

Thin: find the order, call orders.services, render. Pages are private (never cached).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from o2o.errors import reported

from .. import services
from ..emails import shows_pickup_code
from ..links import order_from_token, order_token
from ..models import Fulfilment, Order, OrderStatus, PaymentStatus
from ..qr import pickup_qr_svg
from ..selectors import SERVICEABLE_ORDER_STATUSES, orders_for_page, orders_of_member
from ..services.lifecycle import order_pieces_expected_on
from ..services.payments import payment_start

S = OrderStatus
PER_PAGE = 20
# After the payment page sends a shopper back, the webhook may land a moment later: the
# order page looks again by itself for this long.
REFRESH_WHILE_WAITING = timedelta(minutes=15)
REFRESH_SECONDS = 5

# The usual path of an order, by fulfilment; the timeline shows what is done and what comes.
_PATHS: dict[str, list[str]] = {
    Fulfilment.PICKUP: ["placed", S.PAID, S.READY_FOR_PICKUP, S.COLLECTED],
    Fulfilment.DELIVERY: ["placed", S.PAID, S.SHIPPED, S.DELIVERED],
    Fulfilment.COUNTER: ["placed", S.PAID, S.COLLECTED],
}
# Ends an order can reach off (or after) its path.
_ENDS = [S.COMPLETED, S.PARTIALLY_REFUNDED, S.REFUNDED, S.CANCELLED]
_LABELS = {
    "placed": gettext_lazy("Order placed"),
    S.PAID: gettext_lazy("Payment received"),
    S.READY_FOR_PICKUP: gettext_lazy("Ready for pickup"),
    S.COLLECTED: gettext_lazy("Collected"),
    S.SHIPPED: gettext_lazy("Shipped"),
    S.DELIVERED: gettext_lazy("Delivered"),
    S.COMPLETED: gettext_lazy("Completed"),
    S.PARTIALLY_REFUNDED: gettext_lazy("Partly refunded"),
    S.REFUNDED: gettext_lazy("Refunded"),
    S.CANCELLED: gettext_lazy("Cancelled"),
}


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    at: datetime | None
    done: bool
    current: bool


def order_timeline(order: Order) -> list[Step]:
    """The order's progress from its events: each step of its path with when it happened,
    the steps still to come, and how it ended (completed, refunded, cancelled)."""
    reached: dict[str, datetime | None] = {"placed": order.placed_at}
    for event in order.events.all():
        if event.kind == "status":
            reached.setdefault(event.data.get("to", ""), event.at)
    if order.paid_at:
        reached.setdefault(S.PAID, order.paid_at)
    path_keys = _PATHS.get(order.fulfilment, _PATHS[Fulfilment.DELIVERY])
    status = order.status
    # Imported orders have no status events: everything up to their status is done.
    position = max((i for i, key in enumerate(path_keys) if key in reached), default=0)
    if status in path_keys:
        position = max(position, path_keys.index(status))
    if status in (S.COMPLETED, S.PARTIALLY_REFUNDED, S.REFUNDED) and S.PAID in reached:
        position = len(path_keys) - 1
    if status == S.CANCELLED:
        keys = [key for key in path_keys if key in reached]
    else:
        keys = list(path_keys)
    keys += [end for end in _ENDS if end in reached or end == status]
    last_done = max((i for i, key in enumerate(keys)
                     if key in reached or key == status
                     or (key in path_keys and path_keys.index(key) <= position)), default=0)
    return [Step(key=key, label=str(_LABELS.get(key, key)), at=reached.get(key),
                 done=i <= last_done, current=i == last_done)
            for i, key in enumerate(keys)]


def _order_query():
    return orders_for_page()


def _awaiting_online_payment(order: Order) -> bool:
    return (order.status == S.PENDING_PAYMENT and not order.pay_at_counter
            and (order.expires_at is None or order.expires_at > timezone.now()))


def _render_order(request, order: Order, *, token: str | None):
    if token is not None:
        cancel_url = reverse("orders:cancel_by_link", kwargs={"token": token})
        pay_url = reverse("orders:pay_by_link", kwargs={"token": token})
    else:
        cancel_url = reverse("orders:cancel", kwargs={"number": order.number})
        pay_url = reverse("orders:pay", kwargs={"number": order.number})
    waiting_online = _awaiting_online_payment(order)
    show_code = shows_pickup_code(order)
    payments = list(order.payments.all())
    paid = [p for p in payments if p.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED)]
    refunded = sum((p.refunded_amount for p in payments), 0)
    context = {
        "order": order, "lines": list(order.lines.all()), "timeline": order_timeline(order),
        "store": order.store, "hours": list(order.store.hours.all()) if order.store else [],
        "address": order.address or {}, "payments": paid, "refunded": refunded,
        "pay_at_counter": order.pay_at_counter, "show_code": show_code,
        "qr_svg": pickup_qr_svg(order.pickup_code) if show_code else "",
        "can_cancel": order.status == S.PENDING_PAYMENT,
        # Pieces coming by transfer: "on its way, expected <date>".
        "expected_on": (order_pieces_expected_on(order=order)
                        if order.status in (S.PENDING_PAYMENT, S.PAID) else None),
        "can_pay": waiting_online,
        "cancel_url": cancel_url, "pay_url": pay_url,
        "auto_refresh": waiting_online
        and timezone.now() - order.placed_at < REFRESH_WHILE_WAITING,
        "refresh_seconds": REFRESH_SECONDS, "by_link": token is not None,
        # After the hand-over a member can ask for a return, resizing, repair...
        "can_ask_service": token is None and order.member_id is not None
        and order.status in SERVICEABLE_ORDER_STATUSES,
    }
    return render(request, "orders/account/order_detail.html", context)


def _member_order(request, number: str) -> Order:
    order = _order_query().filter(number=number, member=request.user).first()
    if order is None:
        raise Http404(_("There is no such order in your account."))
    return order


def _linked_order(token: str) -> Order | None:
    found = order_from_token(token)
    return _order_query().filter(pk=found.pk).first() if found is not None else None


def _bad_link(request):
    return render(request, "orders/account/link_invalid.html", status=404)


@never_cache
@login_required
def my_orders(request):
    """The member's orders, newest first, each with its status."""
    orders = orders_of_member(member=request.user)
    page = Paginator(orders, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/account/my_orders.html", {"page": page, "orders": page})


@never_cache
@login_required
def order_detail(request, number):
    return _render_order(request, _member_order(request, number), token=None)


@never_cache
def order_by_link(request, token):
    order = _linked_order(token)
    if order is None:
        return _bad_link(request)
    return _render_order(request, order, token=token)


def _cancel(request, order: Order) -> None:
    with reported(request) as outcome:
        services.order_cancel(order=order, via="shopper",
                              actor=request.user if request.user.is_authenticated else None,
                              reason="cancelled by the shopper")
    if outcome.ok:
        messages.success(request, _("Your order is cancelled; the pieces are back on sale."))


def _pay(request, order: Order, back: str) -> HttpResponseRedirect:
    if not _awaiting_online_payment(order):
        messages.error(request, _("This order cannot be paid online now."))
        return redirect(back)
    # The order page by its signed link is where the payment page sends the shopper back.
    return_url = request.build_absolute_uri(
        reverse("orders:by_link", kwargs={"token": order_token(order)}))
    with reported(request) as outcome:
        url = payment_start(order=order, success_url=return_url, cancel_url=return_url)
    if not outcome.ok:
        return redirect(back)
    return HttpResponseRedirect(url)


@require_POST
@login_required
def order_cancel(request, number):
    order = _member_order(request, number)
    _cancel(request, order)
    return redirect("orders:detail", number=order.number)


@require_POST
@login_required
def order_pay(request, number):
    order = _member_order(request, number)
    return _pay(request, order, reverse("orders:detail", kwargs={"number": order.number}))


@require_POST
def order_cancel_by_link(request, token):
    order = _linked_order(token)
    if order is None:
        return _bad_link(request)
    _cancel(request, order)
    return redirect("orders:by_link", token=token)


@require_POST
def order_pay_by_link(request, token):
    order = _linked_order(token)
    if order is None:
        return _bad_link(request)
    return _pay(request, order, reverse("orders:by_link", kwargs={"token": token}))


urlpatterns = [
    path("account/orders/", my_orders, name="mine"),
    path("account/orders/<str:number>/", order_detail, name="detail"),
    path("account/orders/<str:number>/cancel/", order_cancel, name="cancel"),
    path("account/orders/<str:number>/pay/", order_pay, name="pay"),
    path("orders/<str:token>/", order_by_link, name="by_link"),
    path("orders/<str:token>/cancel/", order_cancel_by_link, name="cancel_by_link"),
    path("orders/<str:token>/pay/", order_pay_by_link, name="pay_by_link"),
]
