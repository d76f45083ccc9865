"""Emails about an order, in the shopper's language (Order.language): order received,
ready for pickup (with the pickup code and its QR image inline), collected (thank you),
shipped, refunded. Plain text plus HTML; the link opens the order page through a
signed link (orders.links), so a guest needs no account.

Each email is an outbox row (o2o.outbox) written by the life cycle
(orders.services.lifecycle) in the transaction of the move that causes it, once per
order and kind (the dedupe key ``orders.order:<id>:<kind>``). The outbox's worker
renders it from the order as it is then (``render_order_email``, registered for the
``orders.<kind>`` kinds when the app loads) and sends it: at least once, with a
Message-ID made from the key.
"""

from __future__ import annotations

import logging
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from o2o.models import OutboxMessage
from o2o.outbox import outbox_cancel, outbox_enqueue, outbox_renderer
from stores.tokens import absolute

from .links import order_token
from .models import Fulfilment, Order, OrderStatus
from .qr import pickup_qr_png
from .selectors import orders_for_page

log = logging.getLogger(__name__)

PLACED = "placed"
READY_FOR_PICKUP = "ready_for_pickup"
COLLECTED = "collected"
SHIPPED = "shipped"
REFUNDED = "refunded"
PARTIALLY_REFUNDED = "partially_refunded"
KINDS = (PLACED, READY_FOR_PICKUP, COLLECTED, SHIPPED, REFUNDED, PARTIALLY_REFUNDED)

# The status moves that send an email, and which one.
EMAIL_ON_STATUS: dict[str, str] = {
    OrderStatus.READY_FOR_PICKUP: READY_FOR_PICKUP,
    OrderStatus.COLLECTED: COLLECTED,
    OrderStatus.SHIPPED: SHIPPED,
    OrderStatus.REFUNDED: REFUNDED,
    OrderStatus.PARTIALLY_REFUNDED: PARTIALLY_REFUNDED,
}

# What staff screens call each email.
EMAIL_NAMES: dict[str, str] = {
    PLACED: gettext_lazy("order received"),
    READY_FOR_PICKUP: gettext_lazy("ready for pickup"),
    COLLECTED: gettext_lazy("thank you for collecting"),
    SHIPPED: gettext_lazy("on its way"),
    REFUNDED: gettext_lazy("refund"),
    PARTIALLY_REFUNDED: gettext_lazy("partial refund"),
}

QR_CONTENT_ID = "pickup-qr"


def email_kind_for_move(*, order: Order, to: str) -> str | None:
    """The email a move of ``order`` to status ``to`` sends, if any. A counter sale is
    handed over as it is paid: its "collected" sends nothing."""
    kind = EMAIL_ON_STATUS.get(to)
    if kind == COLLECTED and order.fulfilment != Fulfilment.PICKUP:
        return None
    return kind


def outbox_kind(kind: str) -> str:
    return f"orders.{kind}"


def about_order(order_id: int) -> str:
    """What the outbox rows of an order are about (o2o.outbox ``about``)."""
    return f"orders.order:{order_id}"


def order_link(order: Order, *, language: str | None = None) -> str:
    """The absolute signed link to the order's page, in ``language`` (default the order's)."""
    with translation.override(language or order.language):
        path = reverse("orders:by_link", kwargs={"token": order_token(order)})
    return absolute(path)


def shows_pickup_code(order: Order) -> bool:
    """The pickup code (and its QR) is shown while it can open a hand-over: the order is
    ready for pickup, or waits for its payment at the counter (and has not run out)."""
    if order.fulfilment != Fulfilment.PICKUP or not order.pickup_code:
        return False
    if order.status == OrderStatus.READY_FOR_PICKUP:
        return True
    return (order.status == OrderStatus.PENDING_PAYMENT and order.pay_at_counter
            and (order.expires_at is None or order.expires_at > timezone.now()))


def _subject(kind: str, order: Order) -> str:
    values = {"number": order.number, "store": order.store.title if order.store else ""}
    return {
        PLACED: _("We have your order %(number)s"),
        READY_FOR_PICKUP: _("Order %(number)s is ready for pickup at %(store)s"),
        COLLECTED: _("Thank you for collecting order %(number)s"),
        SHIPPED: _("Order %(number)s is on its way"),
        REFUNDED: _("Your refund for order %(number)s"),
        PARTIALLY_REFUNDED: _("A partial refund for order %(number)s"),
    }[kind] % values


def _shipping(order: Order) -> dict:
    """Carrier and tracking number, when the shipping move recorded them."""
    for event in reversed(order.events.all()):
        if event.kind == "status" and event.data.get("to") == OrderStatus.SHIPPED:
            return {"carrier": event.data.get("carrier", ""),
                    "tracking": event.data.get("tracking", "")}
    return {}


def order_message(order: Order, kind: str) -> EmailMultiAlternatives:
    """The email, rendered in the order's language; a pickup code comes with its QR as an
    inline PNG (Content-ID ``pickup-qr``)."""
    with translation.override(order.language):
        counter = order.pay_at_counter
        show_code = kind in (PLACED, READY_FOR_PICKUP) and shows_pickup_code(order)
        store = order.store
        context = {
            "order": order, "kind": kind, "lines": list(order.lines.all()),
            "store": store, "hours": list(store.hours.all()) if store else [],
            "pay_at_counter": counter, "show_code": show_code,
            "qr_cid": QR_CONTENT_ID, "order_url": order_link(order),
            "refunded": sum((p.refunded_amount for p in order.payments.all()), 0),
            "shipping": _shipping(order) if kind == SHIPPED else {},
            "address": order.address or {},
            "shop_name": settings.SHOP_NAME or _("Jinyuan Jewellery"),
        }
        subject = _subject(kind, order)
        text = render_to_string("orders/email/order.txt", context)
        html = render_to_string("orders/email/order.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text,
                                     from_email=settings.DEFAULT_FROM_EMAIL,
                                     to=[order.contact_email])
    message.attach_alternative(html, "text/html")
    if show_code:
        # multipart/related: the HTML's <img src="cid:pickup-qr"> shows the attached image.
        message.mixed_subtype = "related"
        image = MIMEImage(pickup_qr_png(order.pickup_code), "png")
        image.add_header("Content-ID", f"<{QR_CONTENT_ID}>")
        image.add_header("Content-Disposition", "inline",
                         filename=f"pickup-{order.number}.png")
        message.attach(image)
    return message


def _order_for_email(order_id: int) -> Order | None:
    return orders_for_page().filter(pk=order_id).first()


def order_email_enqueue(*, order: Order, kind: str) -> bool:
    """Queue the ``kind`` email of ``order`` in the current transaction (the move's), once
    per order and kind; nothing for an order without an email address. True when new."""
    if kind not in KINDS:
        raise ValueError(f"unknown order email kind {kind!r}")
    if not order.contact_email:
        return False
    return outbox_enqueue(channel=OutboxMessage.Channel.EMAIL, kind=outbox_kind(kind),
                          recipient=order.contact_email,
                          dedupe_key=f"{about_order(order.pk)}:{kind}",
                          payload={"order_id": order.pk, "kind": kind},
                          about=about_order(order.pk))


@outbox_renderer(*[outbox_kind(kind) for kind in KINDS],
                 labels={outbox_kind(kind): name for kind, name in EMAIL_NAMES.items()})
def render_order_email(message: OutboxMessage) -> EmailMultiAlternatives | None:
    """The outbox's renderer: the email from the order as it is now (None: it is gone)."""
    order = _order_for_email(message.payload.get("order_id"))
    if order is None:
        return None
    email = order_message(order, message.payload["kind"])
    email.to = [message.recipient]
    return email


def order_emails_skip(*, order: Order, reason: str) -> int:
    """Withdraw the emails an order's moves so far have queued and that have not gone yet
    (imported or demo orders). Returns how many were withdrawn."""
    return outbox_cancel(about=about_order(order.pk), reason=f"skipped: {reason}")
