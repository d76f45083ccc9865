"""The order's audit trail: one writer, called inside the service's transaction, and the
sentence staff read for each kind of event (in their language, never the JSON); the actor
and the time are shown beside it."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import User
from o2o.money import money

from .models import Order, OrderEvent, OrderEventKind, OrderStatus, PaymentProvider

K = OrderEventKind


def order_event_record(*, order: Order, kind: OrderEventKind, actor: User | None = None,
                       at: datetime | None = None, **data) -> OrderEvent:
    """One row of ``order``'s trail: ``kind`` from the vocabulary, ``data`` plain values."""
    return OrderEvent.objects.create(order=order, kind=kind, actor=actor,
                                     at=at or timezone.now(), data=data)


EMAIL_NAMES = {
    "placed": gettext_lazy("order received"), "ready_for_pickup": gettext_lazy("ready for pickup"),
    "collected": gettext_lazy("thank you for collecting"), "shipped": gettext_lazy("on its way"),
    "refunded": gettext_lazy("refund"), "partially_refunded": gettext_lazy("partial refund"),
}
VIA = {
    "checkout": gettext_lazy("at checkout"), "api": gettext_lazy("through the app"),
    "admin": gettext_lazy("in the back office"), "counter": gettext_lazy("at the counter"),
    "pickup desk": gettext_lazy("at the pickup desk"),
    "test gateway": gettext_lazy("on the test payment page"),
    "stripe webhook": gettext_lazy("by Stripe"), "expiry": gettext_lazy("not paid in time"),
    "shopper": gettext_lazy("by the shopper"), "refund": gettext_lazy("by a refund"),
    "transfer received": gettext_lazy("when the pieces arrived"),
    "account deleted": gettext_lazy("the account was deleted"),
}


def _status(value: str) -> str:
    try:
        return str(OrderStatus(value).label)
    except ValueError:
        return value or "—"


def _provider(value: str) -> str:
    try:
        return str(PaymentProvider(value).label)
    except ValueError:
        return value or "—"


def _via(data: dict) -> str:
    via = data.get("via") or ""
    return f" ({VIA[via]})" if via in VIA else ""


def _amount(data: dict, key: str = "amount") -> str:
    return money(data.get(key)) if data.get(key) not in (None, "") else ""


def order_event_sentence(event: OrderEvent) -> str:
    """What happened, in a sentence (the actor and the time are shown beside it)."""
    kind, data = event.kind, event.data or {}
    if kind == K.PLACED:
        text = _("Order placed") + _via(data)
        extras = []
        if data.get("pay_at_counter"):
            extras.append(_("to be paid at the counter"))
        if data.get("coupon"):
            extras.append(_("coupon %(code)s (−%(amount)s)") % {
                "code": data["coupon"], "amount": money(data.get("coupon_discount"))})
        if data.get("points"):
            extras.append(_("%(points)s points (−%(amount)s)") % {
                "points": data["points"], "amount": money(data.get("points_discount"))})
        if data.get("transfers"):
            extras.append(_("pieces come from %(store)s, expected %(day)s") % {
                "store": data.get("transfer_from", ""), "day": data.get("expected_on", "")})
        return text + ("; " + "; ".join(extras) if extras else "") + "."
    if kind == K.STATUS:
        text = _("Status: %(from)s → %(to)s") % {"from": _status(data.get("from", "")),
                                                  "to": _status(data.get("to", ""))}
        if data.get("provider"):
            text += "; " + _("paid by %(provider)s") % {
                "provider": _provider(data["provider"])}
        if data.get("carrier") or data.get("tracking"):
            text += "; " + _("sent by %(carrier)s, tracking number %(tracking)s") % {
                "carrier": data.get("carrier", ""), "tracking": data.get("tracking", "")}
        if data.get("reason"):
            text += "; " + _("reason: %(reason)s") % {"reason": data["reason"]}
        return text + _via(data) + "."
    if kind == K.PAYMENT_STARTED:
        return _("Payment started with %(provider)s.") % {
            "provider": _provider(data.get("provider", ""))}
    if kind == K.PAYMENT_FAILED:
        return _("A payment attempt failed; nothing was paid.")
    if kind == K.PAYMENT_MISMATCH:
        return _("A payment notice did not match the order (%(amount)s); it was not "
                 "counted.") % {"amount": _amount(data) or "—"}
    if kind == K.LATE_PAYMENT:
        return _("Paid %(amount)s after the order had run out; the money is being "
                 "refunded.") % {"amount": _amount(data)}
    if kind == K.REFUND:
        text = _("Refund of %(amount)s") % {"amount": _amount(data)}
        return text + (("; " + _("reason: %(reason)s") % {"reason": data["reason"]})
                       if data.get("reason") else "") + "."
    if kind == K.REFUND_SUCCEEDED:
        return _("Refund of %(amount)s went through.") % {"amount": _amount(data)}
    if kind == K.REFUND_FAILED:
        return _("Refund of %(amount)s failed; the money is still with the shop.") % {
            "amount": _amount(data)}
    if kind == K.IMPORTED:
        return _("Imported from an earlier system.")
    if kind == K.MEMBER_ERASED:
        return _("The member deleted their account; the order stays without their details.")
    if kind.startswith("email:"):
        name = EMAIL_NAMES.get(kind.partition(":")[2], kind.partition(":")[2])
        if data.get("skipped"):
            return _("Email “%(name)s” not sent (%(reason)s).") % {
                "name": name, "reason": data["skipped"]}
        return _("Email “%(name)s” sent to %(to)s.") % {"name": name, "to": data.get("to", "")}
    return _("%(kind)s.") % {"kind": kind.replace("_", " ").capitalize()}
