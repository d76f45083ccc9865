"""Emails about an order, in the shopper's language (Order.language): order received,
ready for pickup (with the pickup code and its QR image inline), collected (thank you),
shipped, refunded. Plain text plus HTML; the link opens the order page through a
signed link (orders.links), so a guest needs no account.

Each email goes once per order and kind. The claim is an OrderEvent ``email:<kind>``
written under the order's row lock in its own short transaction and committed before
the mail goes out (no lock is held across SMTP); a failed send deletes its claim so the
task's retry can send it (the same scheme as stores.services.emails). A worker that
dies between claim and send loses that one email.

The life cycle (orders.services.lifecycle) schedules ``orders.tasks.order_email_task``
after commit for the moves named in ``EMAIL_ON_STATUS`` and for a placed order.
"""

from __future__ import annotations

import logging
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from stores.tokens import absolute

from .links import order_token
from .models import Fulfilment, Order, OrderEvent, OrderStatus
from .qr import pickup_qr_png

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

QR_CONTENT_ID = "pickup-qr"


def email_kind_for_move(*, order: Order, to: str) -> str | None:
    """The email a move of ``order`` to status ``to`` sends, if any. A counter sale is
    handed over as it is paid: its "collected" sends nothing."""
    kind = EMAIL_ON_STATUS.get(to)
    if kind == COLLECTED and order.fulfilment != Fulfilment.PICKUP:
        return None
    return kind


def event_kind(kind: str) -> str:
    return f"email:{kind}"


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


def _claim(order_id: int, kind: str) -> OrderEvent | None:
    """Write the ``email:<kind>`` row unless one exists: under the order's row lock, so two
    runs at once cannot both claim it. Committed when this returns."""
    with transaction.atomic():
        order = (Order.objects.select_for_update(of=("self",)).filter(pk=order_id).first())
        if order is None or OrderEvent.objects.filter(order=order, kind=event_kind(kind)).exists():
            return None
        return OrderEvent.objects.create(order=order, kind=event_kind(kind), at=timezone.now(),
                                         data={"to": order.contact_email})


def _order_for_email(order_id: int) -> Order | None:
    return (Order.objects.select_related("store")
            .prefetch_related("lines", "events", "payments", "store__hours")
            .filter(pk=order_id).first())


def order_email_send(*, order_id: int, kind: str) -> bool:
    """Send the ``kind`` email for an order once; True when it was sent now.

    Quietly does nothing for an unknown kind, an order that is gone or has no email,
    or an email already sent (or claimed). Raises the transport's error after
    withdrawing the claim, so the caller (the task) retries.
    """
    if kind not in KINDS:
        log.warning("unknown order email kind %r", kind)
        return False
    order = _order_for_email(order_id)
    if order is None or not order.contact_email:
        return False
    claim = _claim(order_id, kind)
    if claim is None:
        return False
    try:
        order_message(order, kind).send()
    except Exception:
        claim.delete()  # let the task's retry send it
        raise
    return True


def order_email_schedule(*, order: Order, kind: str) -> None:
    """Send the email after the current transaction commits (through Celery); nothing when
    the order has no email address."""
    if not order.contact_email:
        return
    from .tasks import order_email_task  # tasks imports the services, which import this

    order_id = order.pk
    transaction.on_commit(lambda: order_email_task.delay(order_id=order_id, kind=kind))


def order_emails_skip(*, order: Order, reason: str) -> int:
    """Mark the emails an order's moves so far have scheduled as already handled (imported
    or demo orders), so their tasks send nothing. Returns how many were marked."""
    kinds = {PLACED} if order.events.filter(kind="placed").exists() else set()
    for to in order.events.filter(kind="status").values_list("data__to", flat=True):
        kind = email_kind_for_move(order=order, to=to)
        if kind:
            kinds.add(kind)
    done = set(order.events.filter(kind__in=[event_kind(k) for k in kinds])
               .values_list("kind", flat=True))
    now = timezone.now()
    new = [OrderEvent(order=order, kind=event_kind(k), at=now, data={"skipped": reason})
           for k in sorted(kinds) if event_kind(k) not in done]
    OrderEvent.objects.bulk_create(new)
    return len(new)
