"""Payments: Stripe Checkout, the offline test gateway, Stripe's webhooks, refunds.

The money is confirmed only by Stripe's signed webhook (or the test gateway, or the
counter), never by a page the shopper returns to. No call to Stripe runs inside a
transaction that holds locks: a refund is reserved in one transaction, sent to
Stripe outside it, then finished in another (Saleor's complete_checkout split).

Amounts go to Stripe in minor units (``to_minor``) and come back as Decimal
(``from_minor``): the one place for that conversion.

The Payment reference of a Stripe payment is its PaymentIntent id (``pi_...``):
every paid notice of one Checkout Session carries the same one, and Stripe's refund
API takes it directly. The session id is kept in PaymentEvent.data.

LOCK ORDER (as in lifecycle): Order row -> its Payment rows by pk -> Refund rows.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import stripe
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import User
from o2o.errors import ApplicationError, ConflictError
from o2o.money import money

from ..errors import OrderTransitionNotAllowed, PaymentMismatch
from ..events import order_event_record
from ..models import (
    Order,
    OrderEventKind,
    OrderStatus,
    Payment,
    PaymentEvent,
    PaymentProvider,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from .lifecycle import PAID_STATUSES, order_pay, order_transition, transition_allowed

logger = logging.getLogger(__name__)

S = OrderStatus

# Providers whose money goes back at once, at the counter or the terminal.
IMMEDIATE_REFUND_PROVIDERS = frozenset({
    PaymentProvider.TEST, PaymentProvider.CASH, PaymentProvider.CARD_TERMINAL,
    PaymentProvider.ALIPAY, PaymentProvider.WECHAT})
# Stripe: currencies without minor units (https://docs.stripe.com/currencies).
ZERO_DECIMAL_CURRENCIES = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
    "VUV", "XAF", "XOF", "XPF"})
# Stripe lets a Checkout Session live 30 minutes to 24 hours; a margin for clocks.
SESSION_MIN_LIFE = timedelta(minutes=31)
SESSION_MAX_LIFE = timedelta(hours=23, minutes=59)
TEST_GATEWAY_SALT = "orders.pay.test-gateway"
# The reason on the refund of money that arrived for an order no longer awaiting it.
LATE_PAYMENT_REASON = "late payment: order no longer awaiting payment"
TEST_GATEWAY_MAX_AGE = 24 * 3600


class PaymentUnavailable(ApplicationError):
    """The payment provider could not be reached or said no; nothing was charged."""

    code = "payment_unavailable"
    status = 503


class OnlinePaymentOff(ApplicationError):
    """No payment provider is configured: nothing can be paid online."""

    code = "online_payment_off"
    status = 503


class RefundFailed(ApplicationError):
    """The provider refused a refund; it is recorded as failed and nothing was given back."""

    code = "refund_failed"
    status = 502


class BadSignature(ApplicationError):
    code = "bad_signature"
    status = 400


# --- Money ------------------------------------------------------------------------------


def to_minor(amount: Decimal, currency: str) -> int:
    """Stripe's integer amount: fen for CNY, yen for JPY."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return int((Decimal(amount) * 10 ** exponent).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_minor(amount: int, currency: str) -> Decimal:
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return (Decimal(int(amount)) / (10 ** exponent)).quantize(Decimal("0.01"))


# --- Starting a payment -----------------------------------------------------------------


def payments_provider() -> str | None:
    """"stripe" when a Stripe secret key is configured, else "test" (the offline gateway)
    where settings say so explicitly (PAYMENT_TEST_GATEWAY), else None: no online payment."""
    if settings.STRIPE_SECRET_KEY:
        return PaymentProvider.STRIPE.value
    if settings.PAYMENT_TEST_GATEWAY:
        return PaymentProvider.TEST.value
    return None


def payments_online_ensure() -> str:
    """The online provider, or OnlinePaymentOff (503) with a message saying what to do."""
    provider = payments_provider()
    if provider is None:
        raise OnlinePaymentOff(
            _("Online payment is not available in this shop just now. Choose a pickup and "
              "pay at the counter, or try again later."))
    return provider


def stripe_client() -> stripe.StripeClient:
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses=base,
                               max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES)


def _awaiting_payment(order: Order) -> Order:
    fresh = Order.objects.prefetch_related("lines").get(pk=order.pk)
    if fresh.status != S.PENDING_PAYMENT or (
            fresh.expires_at is not None and fresh.expires_at <= timezone.now()):
        raise ConflictError(
            _("Order %(number)s is not awaiting payment.") % {"number": fresh.number},
            code="order_not_awaiting_payment", extra={"status": fresh.status})
    return fresh


def _stripe_locale(language: str) -> str:
    return "zh" if language.lower().startswith("zh") else "en"


def _stripe_line_items(order: Order) -> list[dict]:
    currency = order.currency.lower()
    lines = list(order.lines.all())
    if sum((line.line_total for line in lines), Decimal("0")) != order.total:
        # A discount: one line of the total, so Stripe charges exactly the order.
        return [{"quantity": 1, "price_data": {
            "currency": currency, "unit_amount": to_minor(order.total, order.currency),
            "product_data": {"name": str(_("Order %(number)s") % {"number": order.number})}}}]
    return [{"quantity": line.quantity, "price_data": {
        "currency": currency, "unit_amount": to_minor(line.unit_price, order.currency),
        "product_data": {"name": line.product_name, "metadata": {"sku": line.sku}}}}
        for line in lines]


def payment_start(*, order: Order, success_url: str, cancel_url: str) -> str:
    """The address to send the shopper to, to pay ``order``.

    Stripe: a Checkout Session (card, Alipay, WeChat Pay) for the order's total in
    minor units, tagged with the order number, expiring with the order (within the
    30 min - 24 h Stripe allows; a payment that arrives after the order expired is
    refunded by the webhook). No lock is held during the call; nothing is recorded as
    paid here (only the signed webhook does that); an OrderEvent notes the session.
    Test gateway: the signed address of the test payment page.

    Raises ConflictError (409) for an order not awaiting payment, PaymentUnavailable
    (503) when Stripe cannot be reached or refuses the session.
    """
    provider = payments_online_ensure()
    order = _awaiting_payment(order)
    if provider == PaymentProvider.TEST:
        token = signing.dumps({"o": order.number, "s": success_url, "c": cancel_url},
                              salt=TEST_GATEWAY_SALT, compress=True)
        return reverse("orders:pay_test", args=[token])

    now = timezone.now()
    expires = order.expires_at or now + SESSION_MAX_LIFE
    expires = min(max(expires, now + SESSION_MIN_LIFE), now + SESSION_MAX_LIFE)
    params: dict = {
        "mode": "payment",
        "payment_method_types": ["card", "alipay", "wechat_pay"],
        "payment_method_options": {"wechat_pay": {"client": "web"}},
        "line_items": _stripe_line_items(order),
        "client_reference_id": order.number,
        "metadata": {"order": order.number},
        "payment_intent_data": {"metadata": {"order": order.number}},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires.timestamp()),
        "locale": _stripe_locale(order.language),
    }
    if order.contact_email:
        params["customer_email"] = order.contact_email
    try:
        session = stripe_client().v1.checkout.sessions.create(params=params)
    except stripe.StripeError as exc:
        logger.warning("Stripe Checkout Session for %s refused: %s", order.number, exc)
        raise PaymentUnavailable(
            _("The payment service is not available just now; nothing was charged. "
              "Please try again in a moment.")) from exc
    order_event_record(order=order, kind=OrderEventKind.PAYMENT_STARTED, provider="stripe",
                       session=session.id, amount_minor=session.amount_total)
    return session.url


# --- The test gateway -------------------------------------------------------------------


@dataclass(frozen=True)
class TestGatewayVisit:
    order: Order
    success_url: str
    cancel_url: str


def test_gateway_visit(*, token: str) -> TestGatewayVisit | None:
    """What a test gateway link opens, or None (forged, too old, unknown order)."""
    try:
        data = signing.loads(token, salt=TEST_GATEWAY_SALT, max_age=TEST_GATEWAY_MAX_AGE)
    except signing.BadSignature:
        return None
    order = Order.objects.filter(number=data.get("o")).prefetch_related("lines").first()
    if order is None:
        return None
    return TestGatewayVisit(order=order, success_url=data.get("s") or "/",
                            cancel_url=data.get("c") or "/")


def payment_test_complete(*, order: Order) -> Order:
    """The test gateway's "Pay": the order is paid through the real order_pay, with a
    fresh reference. Refused unless the test gateway is the provider."""
    if payments_provider() != PaymentProvider.TEST:
        raise ApplicationError(_("The test gateway is off."), code="test_gateway_off")
    return order_pay(order=order, provider=PaymentProvider.TEST, reference=uuid.uuid4().hex,
                     amount=order.total, currency=order.currency, via="test gateway")


def payment_test_fail(*, order: Order) -> None:
    """The test gateway's "Fail": nothing is paid; the attempt is noted on the order."""
    if payments_provider() != PaymentProvider.TEST:
        raise ApplicationError(_("The test gateway is off."), code="test_gateway_off")
    order_event_record(order=order, kind=OrderEventKind.PAYMENT_FAILED, provider="test",
                       via="test gateway")


# --- Stripe's webhook -------------------------------------------------------------------

PAID_EVENTS = frozenset({"checkout.session.completed",
                         "checkout.session.async_payment_succeeded"})


def stripe_event_verify(*, payload: bytes, signature: str | None) -> dict:
    """The event in a webhook request, once its Stripe-Signature is checked with the
    library and STRIPE_WEBHOOK_SECRET. Raises BadSignature (400) otherwise."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret or not signature:
        raise BadSignature(_("Missing Stripe signature."))
    try:
        text = payload.decode("utf-8")
        # The signature first, then the body's shape: the library's construct_event would
        # build an Event from any JSON, and a correctly signed array is not one.
        stripe.WebhookSignature.verify_header(text, signature, secret,
                                              stripe.Webhook.DEFAULT_TOLERANCE)
        event = json.loads(text)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        raise BadSignature(_("Invalid Stripe signature or payload.")) from exc
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise BadSignature(_("Not a Stripe event."))
    return event


def _metadata(obj: dict) -> dict:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _session_summary(obj: dict) -> dict:
    return {key: obj.get(key) for key in (
        "id", "payment_intent", "payment_status", "amount_total", "currency",
        "client_reference_id") if key in obj} | {"metadata": _metadata(obj)}


def stripe_event_process(*, event: dict) -> PaymentEvent:
    """Apply a verified Stripe event exactly once; returns its PaymentEvent.

    The PaymentEvent (UNIQUE provider + event id) is written first, in the same
    transaction as its effect, so a replay, even a parallel one, finds it and does
    nothing. Outcomes: paid, already_recorded, awaiting_async_payment, payment_failed,
    amount_mismatch (nothing applied; staff see an OrderEvent), late_payment_refund
    (the order was no longer awaiting payment: the money goes back through Stripe after
    commit), unknown_order, ignored. Unexpected errors roll everything back, so Stripe
    sends the event again.
    """
    kind = str(event.get("type"))
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    obj = obj if isinstance(obj, dict) else {}
    summary = _session_summary(obj) if kind.startswith("checkout.session.") else {}
    refund_ids: list[int] = []
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = PaymentEvent.objects.create(
                    provider=PaymentProvider.STRIPE, event_id=str(event["id"])[:100],
                    kind=kind[:60], data=summary)
        except IntegrityError:
            return PaymentEvent.objects.get(provider=PaymentProvider.STRIPE,
                                            event_id=str(event["id"])[:100])
        record.outcome = _stripe_event_apply(record, kind, obj, refund_ids)
        record.save(update_fields=["outcome", "order"])
        if refund_ids:
            transaction.on_commit(lambda: [refund_send(refund_id=pk) for pk in refund_ids])
    return record


def _stripe_event_apply(record: PaymentEvent, kind: str, obj: dict,
                        refund_ids: list[int]) -> str:
    if not kind.startswith("checkout.session."):
        return "ignored"
    number = obj.get("client_reference_id") or _metadata(obj).get("order")
    # Locked first, so parallel notices of one payment queue here (LOCK ORDER).
    order = (Order.objects.select_for_update(of=("self",)).filter(number=str(number)).first()
             if number else None)
    if order is None:
        logger.warning("Stripe event %s names no known order (%r)", record.event_id, number)
        return "unknown_order"
    record.order = order
    now = timezone.now()
    if kind == "checkout.session.async_payment_failed":
        order_event_record(order=order, kind=OrderEventKind.PAYMENT_FAILED, at=now,
                           provider="stripe", session=obj.get("id"))
        return "payment_failed"
    if kind not in PAID_EVENTS:
        return "ignored"
    if obj.get("payment_status") != "paid":
        return "awaiting_async_payment"
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):  # expanded
        intent = intent.get("id")
    reference = str(intent or obj.get("id") or "")[:100]
    currency = str(obj.get("currency") or "").upper()
    try:
        amount = from_minor(obj.get("amount_total"), currency)
    except (TypeError, ValueError, InvalidOperation):
        amount = None
    if not reference or amount is None or amount <= 0:
        order_event_record(order=order, kind=OrderEventKind.PAYMENT_MISMATCH, at=now,
                           provider="stripe", event=record.event_id,
                           reason="no reference or amount")
        return "amount_mismatch"
    if Payment.objects.filter(provider=PaymentProvider.STRIPE, reference=reference).exists():
        return "already_recorded"
    try:
        order_pay(order=order, provider=PaymentProvider.STRIPE, reference=reference,
                  amount=amount, currency=currency, via="stripe webhook")
    except PaymentMismatch as exc:
        logger.error("Stripe payment %s does not match order %s: %s", reference, order.number,
                     exc.message)
        order_event_record(order=order, kind=OrderEventKind.PAYMENT_MISMATCH, at=now,
                           provider="stripe", reference=reference, event=record.event_id,
                           amount=str(amount), currency=currency)
        return "amount_mismatch"
    except OrderTransitionNotAllowed:
        # Paid after the order expired (or paid twice): the money goes back.
        refund_ids.append(_late_payment_refund(order=order, reference=reference, amount=amount,
                                               currency=currency, event_id=record.event_id))
        return "late_payment_refund"
    return "paid"


def _late_payment_refund(*, order: Order, reference: str, amount: Decimal, currency: str,
                         event_id: str) -> int:
    locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
    payment = Payment.objects.create(order=locked, provider=PaymentProvider.STRIPE,
                                     reference=reference, amount=amount, currency=currency,
                                     status=PaymentStatus.SUCCEEDED, refunded_amount=amount)
    refund = Refund.objects.create(payment=payment, amount=amount, status=RefundStatus.PENDING,
                                   reason=LATE_PAYMENT_REASON)
    order_event_record(order=locked, kind=OrderEventKind.LATE_PAYMENT, provider="stripe",
                       reference=reference, amount=str(amount), status=locked.status,
                       event=event_id, refund=refund.pk)
    return refund.pk


# --- Refunds ----------------------------------------------------------------------------


def _refund_amount(value) -> Decimal:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount != amount.quantize(
            Decimal("0.01")):
        raise ApplicationError(_("Give a refund amount above zero, to the cent."),
                               code="refund_amount_invalid")
    return amount


def payment_refund(*, order: Order, amount: Decimal | None = None, actor: User | None,
                   reason: str = "") -> Refund:
    """Give back ``amount`` (everything still refundable when None) of the order's paid
    money; returns the Refund (the first one, when the order had several payments).

    Locks the order, then its succeeded payments, and reserves the amount on
    Payment.refunded_amount in that transaction, so parallel refunds never give back
    more than was paid (the loser gets ConflictError "nothing left" or
    ApplicationError "more than is left"). Test, cash and terminal payments are
    refunded at once (the money goes back at the counter or terminal). Stripe
    refunds are recorded pending, sent with stripe's Refund API after the commit
    (no lock held), then marked succeeded, or failed with the reservation given back
    (RefundFailed, 502). The order becomes refunded or partially_refunded through
    order_transition (via "refund") when the money is back.

    Stock is not restocked here: an after-sales return decides what happens to the piece.
    """
    reason = (reason or "")[:200]
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        payments = list(locked.payments.select_for_update()
                        .filter(status=PaymentStatus.SUCCEEDED).order_by("pk"))
        left = sum((p.amount - p.refunded_amount for p in payments), Decimal("0"))
        if locked.status not in PAID_STATUSES or left <= 0:
            raise ConflictError(
                _("Order %(number)s has nothing left to refund.") % {"number": locked.number},
                code="nothing_to_refund", extra={"status": locked.status})
        wanted = left if amount is None else _refund_amount(amount)
        if wanted > left:
            raise ApplicationError(
                _("%(amount)s is more than is left to refund on order %(number)s "
                  "(%(left)s).") % {"amount": money(wanted), "number": locked.number,
                                    "left": money(left)},
                code="refund_exceeds_payment", extra={"refundable": str(left)})
        to = S.REFUNDED if wanted == left else S.PARTIALLY_REFUNDED
        if not transition_allowed(status=locked.status, fulfilment=locked.fulfilment, to=to):
            raise OrderTransitionNotAllowed(
                _("Order %(number)s is %(status)s; it cannot be %(to)s now.") % {
                    "number": locked.number, "status": locked.get_status_display(),
                    "to": to.label}, extra={"status": locked.status, "to": str(to)})
        refunds: list[Refund] = []
        remaining = wanted
        for payment in payments:
            part = min(payment.amount - payment.refunded_amount, remaining)
            if part <= 0:
                continue
            immediate = payment.provider in IMMEDIATE_REFUND_PROVIDERS
            refunds.append(Refund.objects.create(
                payment=payment, amount=part, reason=reason, actor=actor,
                status=RefundStatus.SUCCEEDED if immediate else RefundStatus.PENDING))
            Payment.objects.filter(pk=payment.pk).update(
                refunded_amount=F("refunded_amount") + part)
            remaining -= part
            if remaining <= 0:
                break
        Payment.objects.filter(pk__in=[p.pk for p in payments], status=PaymentStatus.SUCCEEDED,
                               refunded_amount=F("amount")).exclude(
            refunds__status=RefundStatus.PENDING).update(status=PaymentStatus.REFUNDED)
        order_event_record(order=locked, kind=OrderEventKind.REFUND, actor=actor,
                           amount=str(wanted), reason=reason, refunds=[r.pk for r in refunds])
        pending = [r.pk for r in refunds if r.status == RefundStatus.PENDING]
        if not pending:
            _order_refund_settle(locked, actor=actor)
    failed = None
    for pk in pending:
        if refund_send(refund_id=pk, actor=actor).status == RefundStatus.FAILED:
            failed = pk
    if failed is not None:
        raise RefundFailed(_("The payment service refused the refund; nothing was given back."),
                           extra={"refund": failed})
    first = refunds[0]
    first.refresh_from_db()
    return first


def _order_refund_settle(locked: Order, *, actor: User | None) -> None:
    """Move a locked, paid order to refunded or partially_refunded by the money back."""
    if locked.status not in PAID_STATUSES:
        return  # a late payment on a cancelled order: it stays cancelled
    payments = list(locked.payments.exclude(status__in=[PaymentStatus.PENDING,
                                                        PaymentStatus.FAILED]))
    paid = sum((p.amount for p in payments), Decimal("0"))
    back = sum((r.amount for r in Refund.objects.filter(
        payment__in=payments, status=RefundStatus.SUCCEEDED)), Decimal("0"))
    if back <= 0:
        return
    to = S.REFUNDED if back >= paid else S.PARTIALLY_REFUNDED
    if locked.status == to:
        return
    if not transition_allowed(status=locked.status, fulfilment=locked.fulfilment, to=to):
        logger.error("Order %s refunded %s but cannot become %s from %s", locked.number, back,
                     to, locked.status)
        return
    order_transition(order=locked, to=to, actor=actor, via="refund",
                     data={"refunded": str(back)})


def refund_send(*, refund_id: int, actor: User | None = None) -> Refund:
    """Send a pending Stripe refund (no transaction open during the call), then record
    the answer: succeeded (the order settles) or failed (the amount is refundable
    again). Safe to call again: a refund no longer pending is returned as it is, and
    Stripe's idempotency key makes a resent request one refund."""
    refund = Refund.objects.select_related("payment", "payment__order").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        return refund
    payment = refund.payment
    params = {"amount": to_minor(refund.amount, payment.currency),
              "metadata": {"order": payment.order.number, "refund": str(refund.pk)}}
    try:
        client = stripe_client()
        if payment.reference.startswith("pi_"):
            params["payment_intent"] = payment.reference
        else:  # a session id: its PaymentIntent is the money
            session = client.v1.checkout.sessions.retrieve(payment.reference)
            params["payment_intent"] = session.payment_intent
        answer = client.v1.refunds.create(params=params,
                                          options={"idempotency_key": f"refund-{refund.pk}"})
        succeeded = answer.status in ("succeeded", "pending", "requires_action")
        reference = answer.id
    except stripe.StripeError as exc:
        logger.error("Stripe refund %s for order %s failed: %s", refund.pk,
                     payment.order.number, exc)
        succeeded, reference = False, ""
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).get(pk=payment.order_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != RefundStatus.PENDING:
            return refund
        refund.status = RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED
        refund.reference = reference
        refund.save(update_fields=["status", "reference"])
        if succeeded:
            Payment.objects.filter(pk=payment.pk, refunded_amount=F("amount")).exclude(
                refunds__status=RefundStatus.PENDING).update(status=PaymentStatus.REFUNDED)
            order_event_record(order=locked, kind=OrderEventKind.REFUND_SUCCEEDED, actor=actor,
                               refund=refund.pk, reference=reference,
                               amount=str(refund.amount))
            if refund.reason != LATE_PAYMENT_REASON:  # that money never paid the order
                _order_refund_settle(locked, actor=actor)
        else:
            Payment.objects.filter(pk=payment.pk).update(
                refunded_amount=F("refunded_amount") - refund.amount)
            order_event_record(order=locked, kind=OrderEventKind.REFUND_FAILED, actor=actor,
                               refund=refund.pk, amount=str(refund.amount))
    return refund


def refunds_pending_send(*, older_than: timedelta = timedelta(minutes=10), limit: int = 100) -> int:
    """For a beat: send again Stripe refunds left pending (a crash or timeout between the
    commit and Stripe's answer). Safe to run twice: each is sent with its own idempotency
    key and a refund no longer pending is skipped. Returns how many were sent."""
    due = list(Refund.objects.filter(status=RefundStatus.PENDING,
                                     payment__provider=PaymentProvider.STRIPE,
                                     created_at__lte=timezone.now() - older_than)
               .order_by("pk").values_list("pk", flat=True)[:limit])
    for pk in due:
        refund_send(refund_id=pk)
    return len(due)
