"""The order's audit trail: one writer, called inside the service's transaction, and the
sentence staff read for each kind of event (in their language, never the JSON)."""

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


def _status(value) -> str:
    try:
        return str(OrderStatus(value).label)
    except ValueError:
        return str(value or "")


def _provider(value) -> str:
    try:
        return str(PaymentProvider(value).label)
    except ValueError:
        return str(value or "")


# Where a move came from (``via`` in the data), in words.
VIA = {
    "admin": gettext_lazy("the back office"), "checkout": gettext_lazy("the web shop"),
    "webhook": gettext_lazy("the payment provider"), "pickup desk": gettext_lazy("the pickup desk"),
    "expiry": gettext_lazy("the payment time running out"), "counter": gettext_lazy("the counter"),
    "transfer received": gettext_lazy("the transfer's arrival"),
    "test gateway": gettext_lazy("the test gateway"), "api": gettext_lazy("the API"),
    "stripe webhook": gettext_lazy("the payment provider"), "shopper": gettext_lazy("the shopper"),
    "refund": gettext_lazy("a refund"), "account deleted": gettext_lazy("the account's deletion"),
}


def _via(data: dict) -> str:
    via = data.get("via")
    return _(" (by %(via)s)") % {"via": VIA.get(via, via)} if via else ""


def _placed(data: dict) -> str:
    if data.get("via") == "counter":
        text = _("Sold at the counter of %(store)s.") % {"store": data.get("stock_from", "")}
    elif data.get("pay_at_counter"):
        text = _("Placed online, to be paid at the counter; pieces held at %(store)s.") % {
            "store": data.get("stock_from", "")}
    else:
        text = _("Placed online; pieces held at %(store)s.") % {
            "store": data.get("stock_from", "")}
    if data.get("transfers"):
        text += " " + _("Pieces come from %(source)s by transfer %(transfers)s, expected on "
                        "%(day)s.") % {"source": data.get("transfer_from", ""),
                                       "transfers": ", ".join(data["transfers"]),
                                       "day": data.get("expected_on", "")}
    if data.get("coupon"):
        text += " " + _("Coupon %(code)s: %(amount)s off.") % {
            "code": data["coupon"], "amount": money(data.get("coupon_discount"))}
    if data.get("points"):
        text += " " + _("%(points)s points: %(amount)s off.") % {
            "points": data["points"], "amount": money(data.get("points_discount"))}
    return text


def order_event_sentence(event: OrderEvent) -> str:
    """What ``event`` says, as one sentence for staff."""
    data = event.data or {}
    kind = event.kind
    if kind == K.PLACED:
        return _placed(data)
    if kind == K.STATUS:
        text = _("From %(from)s to %(to)s") % {"from": _status(data.get("from")),
                                               "to": _status(data.get("to"))} + _via(data)
        if data.get("reason"):
            text += _(": %(reason)s") % {"reason": data["reason"]}
        if data.get("tracking"):
            text += " " + _("Carrier %(carrier)s, tracking number %(tracking)s.") % {
                "carrier": data.get("carrier", ""), "tracking": data["tracking"]}
        if data.get("provider"):
            text += " " + _("Paid by %(provider)s %(reference)s.") % {
                "provider": _provider(data["provider"]), "reference": data.get("reference", "")}
        return text
    if kind == K.IMPORTED:
        return _("Imported from the sales history as %(status)s.") % {
            "status": _status(data.get("status"))}
    if kind == K.PAYMENT_STARTED:
        return _("The shopper went to pay with %(provider)s.") % {
            "provider": _provider(data.get("provider"))}
    if kind == K.PAYMENT_FAILED:
        return _("A payment with %(provider)s failed.") % {
            "provider": _provider(data.get("provider"))}
    if kind == K.PAYMENT_MISMATCH:
        return _("A payment notice did not match the order and was not applied.")
    if kind == K.LATE_PAYMENT:
        return _("%(amount)s arrived after the order had ended; it is refunded.") % {
            "amount": money(data.get("amount"))}
    if kind == K.REFUND:
        return _("Refund of %(amount)s asked: %(reason)s") % {
            "amount": money(data.get("amount")), "reason": data.get("reason", "")}
    if kind == K.REFUND_SUCCEEDED:
        return _("Refund of %(amount)s made.") % {"amount": money(data.get("amount"))}
    if kind == K.REFUND_FAILED:
        return _("Refund of %(amount)s failed; it is tried again.") % {
            "amount": money(data.get("amount"))}
    if kind == K.MEMBER_ERASED:
        return _("The shopper's personal data was erased at their request.")
    if kind.startswith("email:"):
        return _("Email sent to the shopper: %(kind)s.") % {"kind": kind.split(":", 1)[1]}
    return event.get_kind_display()
