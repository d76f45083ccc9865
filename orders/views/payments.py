"""Payment pages: the offline test gateway (only when no Stripe key is configured).

Stripe Checkout needs no return page here: the caller of ``payment_start`` gives the
success and cancel addresses, and only the signed webhook confirms the money.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from o2o.errors import reported

from ..models import OrderStatus
from ..services.payments import (
    payment_test_complete,
    payment_test_fail,
    payments_provider,
    test_gateway_visit,
)


def _safe(request, url: str) -> str:
    """The address only if it stays on this shop (the token is signed, this is a second lock)."""
    hosts = {request.get_host()}
    shop = getattr(settings, "SHOP_BASE_URL", "")
    if shop:
        hosts.add(shop.split("://", 1)[-1].split("/", 1)[0])
    if url_has_allowed_host_and_scheme(url, allowed_hosts=hosts,
                                       require_https=request.is_secure()):
        return url
    return "/"


@never_cache
@require_http_methods(["GET", "POST"])
def pay_test(request, token: str):
    if payments_provider() != "test":
        raise Http404("The test gateway is off.")
    visit = test_gateway_visit(token=token)
    if visit is None:
        raise Http404("Unknown or expired payment link.")
    order = visit.order
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "fail":
            payment_test_fail(order=order)
            messages.warning(request, _("The test payment failed; nothing was paid. "
                                        "You can try again."))
            return HttpResponseRedirect(_safe(request, visit.cancel_url))
        if action == "pay":
            with reported(request) as outcome:
                payment_test_complete(order=order)
            if outcome.ok:
                return HttpResponseRedirect(_safe(request, visit.success_url))
            status = outcome.status
            order.refresh_from_db()
        else:
            messages.error(request, _("Choose Pay or Fail."))
            status = 400
    return render(request, "orders/pay/test_gateway.html", {
        "order": order,
        "lines": order.lines.all(),
        "awaiting": order.status == OrderStatus.PENDING_PAYMENT,
        "success_url": _safe(request, visit.success_url),
        "cancel_url": _safe(request, visit.cancel_url),
    }, status=status)


urlpatterns = [
    path("pay/test/<str:token>/", pay_test, name="pay_test"),
]
