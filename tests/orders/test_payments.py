"""Payments: Stripe Checkout through the real stripe library against a local stand-in,
signed webhooks applied exactly once, the offline test gateway, and refunds (also
under real parallel connections)."""

import json
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from o2o.errors import ApplicationError, ConflictError
from orders.errors import OrderTransitionNotAllowed
from orders.models import (
    Fulfilment,
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from orders.services import order_cancel, order_collect, order_place
from orders.services.payments import (
    PaymentUnavailable,
    RefundFailed,
    from_minor,
    payment_refund,
    payment_start,
    payments_provider,
    refunds_pending_send,
    to_minor,
)
from stores.models import StockLevel
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.concurrency import race
from tests.members.factories import StaffFactory
from tests.orders.factories import pickup_order
from tests.orders.stripe_standin import signed, stripe_standin_fixture  # noqa: F401
from tests.stores.factories import StoreFactory

S = OrderStatus
WEBHOOK = "/payments/stripe/webhook"
SUCCESS = "http://testserver/orders/done/"
CANCEL = "http://testserver/checkout/review/"


def session_event(order, *, kind="checkout.session.completed", event_id=None, amount=None,
                  currency=None, payment_status="paid", intent=None, number=None):
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": {
            "id": f"cs_test_{uuid.uuid4().hex[:16]}",
            "object": "checkout.session",
            "client_reference_id": number or order.number,
            "metadata": {"order": number or order.number},
            "payment_status": payment_status,
            "amount_total": to_minor(order.total, order.currency) if amount is None else amount,
            "currency": (currency or order.currency).lower(),
            "payment_intent": intent or f"pi_test_{uuid.uuid4().hex[:16]}",
        }},
    }


def post_event(client, event, **sign):
    body, header = signed(event, **sign)
    return client.post(WEBHOOK, data=body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header)


def two_pieces():
    return [VariantFactory(list_price=Decimal("1999.00")),
            VariantFactory(list_price=Decimal("350.00"))]


# --- Money and provider ------------------------------------------------------------------


def test_minor_units_round_trip():
    assert to_minor(Decimal("1999.00"), "CNY") == 199900
    assert to_minor(Decimal("0.07"), "cny") == 7
    assert to_minor(Decimal("1500"), "JPY") == 1500
    assert from_minor(199900, "CNY") == Decimal("1999.00")
    assert from_minor(1500, "JPY") == Decimal("1500.00")


def test_provider_follows_the_secret_key(settings):
    settings.STRIPE_SECRET_KEY = ""
    assert payments_provider() == "test"
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    assert payments_provider() == "stripe"


# --- payment_start -----------------------------------------------------------------------


@pytest.mark.django_db
def test_payment_start_creates_a_checkout_session_through_the_library(stripe_standin):
    order = pickup_order(variants=two_pieces(), quantity=2, contact_email="lin@example.com")
    url = payment_start(order=order, success_url=SUCCESS, cancel_url=CANCEL)

    [call] = stripe_standin.calls("POST", "/v1/checkout/sessions")
    sent = call["params"]
    session = stripe_standin.sessions[url.rsplit("/", 1)[-1]]
    assert url == session["url"]
    assert sent["mode"] == "payment"
    assert sent["payment_method_types"] == ["card", "alipay", "wechat_pay"]
    assert sent["payment_method_options"] == {"wechat_pay": {"client": "web"}}
    assert sent["client_reference_id"] == order.number
    assert sent["metadata"] == {"order": order.number}
    assert sent["payment_intent_data"]["metadata"] == {"order": order.number}
    assert sent["customer_email"] == "lin@example.com"
    assert sent["success_url"] == SUCCESS and sent["cancel_url"] == CANCEL
    assert sorted((i["price_data"]["unit_amount"], i["quantity"], i["price_data"]["currency"])
                  for i in sent["line_items"]) == [("199900", "2", "cny"), ("35000", "2", "cny")]
    assert session["amount_total"] == to_minor(order.total, "CNY") == 469800
    # The order expires in under 30 minutes: the session gets Stripe's minimum life.
    expires = int(sent["expires_at"]) - int(time.time())
    assert 30 * 60 <= expires <= 32 * 60
    assert call["headers"]["Authorization"] == "Bearer sk_test_standin"
    # Nothing is paid by starting a payment; the session is in the audit trail.
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT and not order.payments.exists()
    assert OrderEvent.objects.get(order=order, kind="payment_started").data["session"] == \
        session["id"]


@pytest.mark.django_db
def test_payment_start_keeps_an_order_expiry_stripe_allows(stripe_standin):
    order = pickup_order()
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() + timedelta(hours=2))
    payment_start(order=order, success_url=SUCCESS, cancel_url=CANCEL)
    [call] = stripe_standin.calls("POST", "/v1/checkout/sessions")
    order.refresh_from_db()
    assert int(call["params"]["expires_at"]) == int(order.expires_at.timestamp())
    assert "customer_email" not in call["params"]  # none known


@pytest.mark.django_db
def test_payment_start_refuses_an_order_not_awaiting_payment(stripe_standin):
    paid = pickup_order(paid=True)
    cancelled = order_cancel(order=pickup_order())
    for order in (paid, cancelled):
        with pytest.raises(ConflictError) as refused:
            payment_start(order=order, success_url=SUCCESS, cancel_url=CANCEL)
        assert refused.value.code == "order_not_awaiting_payment"
    assert stripe_standin.requests == []


@pytest.mark.django_db
def test_payment_start_when_stripe_is_unreachable(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on discard
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    order = pickup_order()
    with pytest.raises(PaymentUnavailable) as refused:
        payment_start(order=order, success_url=SUCCESS, cancel_url=CANCEL)
    assert refused.value.status == 503
    assert not OrderEvent.objects.filter(order=order, kind="payment_started").exists()


@pytest.mark.django_db
def test_payment_start_with_the_test_gateway(settings):
    settings.STRIPE_SECRET_KEY = ""
    order = pickup_order()
    url = payment_start(order=order, success_url=SUCCESS, cancel_url=CANCEL)
    assert url.startswith("/pay/test/")  # zh-Hans, the default language, has no prefix
    with translation.override("en"):
        assert payment_start(order=order, success_url=SUCCESS,
                             cancel_url=CANCEL).startswith("/en/pay/test/")


# --- The webhook -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_paid_event_pays_the_order_once(client, stripe_standin):
    order = pickup_order()
    event = session_event(order, intent="pi_test_once")
    answer = post_event(client, event)
    assert answer.status_code == 200 and answer.json()["outcome"] == "paid"
    order.refresh_from_db()
    assert order.status == S.READY_FOR_PICKUP
    payment = Payment.objects.get(order=order)
    assert (payment.provider, payment.reference, payment.amount, payment.status) == (
        "stripe", "pi_test_once", order.total, PaymentStatus.SUCCEEDED)
    record = PaymentEvent.objects.get(event_id=event["id"])
    assert (record.order, record.outcome, record.kind) == (order, "paid",
                                                           "checkout.session.completed")
    assert record.data["payment_intent"] == "pi_test_once"

    # The same event again, and a second notice of the same payment: nothing changes.
    events_before = OrderEvent.objects.filter(order=order).count()
    replay = post_event(client, event)
    assert replay.status_code == 200 and replay.json()["outcome"] == "paid"
    again = post_event(client, session_event(order, kind="checkout.session.async_payment_succeeded",
                                             intent="pi_test_once"))
    assert again.status_code == 200 and again.json()["outcome"] == "already_recorded"
    assert Payment.objects.filter(order=order).count() == 1
    assert PaymentEvent.objects.filter(event_id=event["id"]).count() == 1
    assert OrderEvent.objects.filter(order=order).count() == events_before


@pytest.mark.django_db
def test_an_unpaid_completion_waits_for_the_async_payment(client, stripe_standin):
    order = pickup_order()
    answer = post_event(client, session_event(order, payment_status="unpaid", intent="pi_async"))
    assert answer.json()["outcome"] == "awaiting_async_payment"
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT
    answer = post_event(client, session_event(
        order, kind="checkout.session.async_payment_succeeded", intent="pi_async"))
    assert answer.json()["outcome"] == "paid"
    order.refresh_from_db()
    assert order.status == S.READY_FOR_PICKUP


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["forged", "tampered", "missing", "garbage", "too old"])
def test_a_webhook_without_a_valid_signature_is_refused(client, stripe_standin, how):
    order = pickup_order()
    event = session_event(order)
    body, header = signed(event)
    if how == "forged":
        body, header = signed(event, secret="whsec_someone_else")
    elif how == "tampered":
        body = body.replace(str(to_minor(order.total, "CNY")), "1")
    elif how == "too old":
        body, header = signed(event, timestamp=int(time.time()) - 3600)
    extra = {} if how == "missing" else {
        "HTTP_STRIPE_SIGNATURE": "t=abc,v1=zz" if how == "garbage" else header}
    answer = client.post(WEBHOOK, data=body, content_type="application/json", **extra)
    assert answer.status_code == 400
    assert answer.json()["code"] == "bad_signature"
    assert not PaymentEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT and not order.payments.exists()


@pytest.mark.django_db
def test_a_webhook_is_refused_when_no_secret_is_configured(client, stripe_standin, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    order = pickup_order()
    assert post_event(client, session_event(order)).status_code == 400
    assert not PaymentEvent.objects.exists()


@pytest.mark.django_db
def test_signed_nonsense_gets_a_clear_answer(client, stripe_standin):
    body, header = signed("not json at all")
    answer = client.post(WEBHOOK, data=body, content_type="application/json",
                         HTTP_STRIPE_SIGNATURE=header)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_signature"
    odd = {"id": "evt_odd", "type": "checkout.session.completed", "data": ["no", "object"]}
    answer = post_event(client, odd)
    assert answer.status_code == 200 and answer.json()["outcome"] == "unknown_order"
    odd = {"id": "evt_odd2", "type": "checkout.session.completed",
           "data": {"object": {"client_reference_id": "X", "metadata": "oops"}}}
    assert post_event(client, odd).json()["outcome"] == "unknown_order"
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_the_webhook_takes_only_post(client):
    assert client.get(WEBHOOK).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("mismatch", [{"amount": 100}, {"currency": "usd"}])
def test_an_amount_or_currency_mismatch_applies_nothing(client, stripe_standin, mismatch):
    order = pickup_order()
    event = session_event(order, **mismatch)
    answer = post_event(client, event)
    assert answer.status_code == 200 and answer.json()["outcome"] == "amount_mismatch"
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT and not order.payments.exists()
    assert PaymentEvent.objects.get(event_id=event["id"]).outcome == "amount_mismatch"
    assert OrderEvent.objects.filter(order=order, kind="payment_mismatch").count() == 1


@pytest.mark.django_db
def test_money_for_a_cancelled_order_is_refunded_through_stripe(
        client, stripe_standin, django_capture_on_commit_callbacks):
    order = order_cancel(order=pickup_order(), via="expiry")
    event = session_event(order, intent="pi_test_late")
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_event(client, event)
    assert answer.status_code == 200 and answer.json()["outcome"] == "late_payment_refund"
    [call] = stripe_standin.calls("POST", "/v1/refunds")
    assert call["params"]["payment_intent"] == "pi_test_late"
    assert call["params"]["amount"] == str(to_minor(order.total, "CNY"))
    assert call["headers"]["Idempotency-Key"].startswith("refund-")
    order.refresh_from_db()
    assert order.status == S.CANCELLED  # stays cancelled; the money went back
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.refunded_amount) == (PaymentStatus.REFUNDED, order.total)
    refund = Refund.objects.get(payment=payment)
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.reference == stripe_standin.refunds[0]["id"]
    assert OrderEvent.objects.filter(order=order, kind="late_payment").exists()
    # Replayed: no second refund.
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event)
    assert len(stripe_standin.calls("POST", "/v1/refunds")) == 1


@pytest.mark.django_db
def test_a_second_payment_of_a_paid_order_is_refunded_and_the_order_kept(
        client, stripe_standin, django_capture_on_commit_callbacks):
    store = StoreFactory()
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=1)
    order = order_place(lines=[(variant, 1)], fulfilment=Fulfilment.DELIVERY, stock_from=store,
                        contact_name="林小姐", contact_phone="+8613800138000")
    post_event(client, session_event(order, intent="pi_first"))
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_event(client, session_event(order, intent="pi_second"))
    assert answer.json()["outcome"] == "late_payment_refund"
    [call] = stripe_standin.calls("POST", "/v1/refunds")
    assert call["params"]["payment_intent"] == "pi_second"
    order.refresh_from_db()
    assert order.status == S.PAID  # the first payment stands; no partial refund of it
    first = Payment.objects.get(reference="pi_first")
    assert (first.status, first.refunded_amount) == (PaymentStatus.SUCCEEDED, 0)
    assert Payment.objects.get(reference="pi_second").status == PaymentStatus.REFUNDED
    # The order's own money is still all refundable.
    assert payment_refund(order=order, actor=None).amount == order.total
    order.refresh_from_db()
    assert order.status == S.REFUNDED


@pytest.mark.django_db
def test_a_refund_left_pending_is_sent_by_the_beat(client, stripe_standin):
    order = order_cancel(order=pickup_order(), via="expiry")
    post_event(client, session_event(order, intent="pi_test_stuck"))  # on_commit never ran
    refund = Refund.objects.get(payment__order=order)
    assert refund.status == RefundStatus.PENDING and stripe_standin.refunds == []
    assert refunds_pending_send(older_than=timedelta(hours=1)) == 0  # too fresh to retry
    assert refunds_pending_send(older_than=timedelta(0)) == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and len(stripe_standin.refunds) == 1
    assert refunds_pending_send(older_than=timedelta(0)) == 0


@pytest.mark.django_db
def test_an_event_for_an_unknown_order_is_recorded(client, stripe_standin):
    order = pickup_order()
    event = session_event(order, number="ONOSUCHORDER")
    answer = post_event(client, event)
    assert answer.status_code == 200 and answer.json()["outcome"] == "unknown_order"
    record = PaymentEvent.objects.get(event_id=event["id"])
    assert record.order is None and record.outcome == "unknown_order"
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_other_events_are_recorded_and_ignored(client, stripe_standin):
    event = {"id": "evt_other", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    answer = post_event(client, event)
    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"
    assert PaymentEvent.objects.get(event_id="evt_other").kind == "customer.created"


@pytest.mark.django_db(transaction=True)
def test_parallel_deliveries_of_one_event_pay_once(stripe_standin):
    order = pickup_order()
    event = session_event(order)
    results, errors = race(6, lambda i: post_event(Client(), event).status_code)
    assert errors == [] and results == [200] * 6
    assert Payment.objects.filter(order=order).count() == 1
    assert PaymentEvent.objects.filter(event_id=event["id"]).count() == 1
    assert OrderEvent.objects.filter(order=order, kind="status", data__to="paid").count() == 1


# --- The test gateway --------------------------------------------------------------------


def gateway_url(order, success=SUCCESS, cancel=CANCEL):
    with translation.override("en"):  # the English page: its words are the msgids
        return payment_start(order=order, success_url=success, cancel_url=cancel)


@pytest.mark.django_db
def test_the_test_gateway_page_pays_the_order(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    order = pickup_order(variants=two_pieces())
    url = gateway_url(order)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Test payment: no money moves" in html
    assert order.number in html and "csrfmiddlewaretoken" in html
    assert all(line.sku in html for line in order.lines.all())
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]

    answer = client.post(url, {"action": "pay"})
    assert answer.status_code == 302 and answer["Location"] == SUCCESS
    order.refresh_from_db()
    assert order.status == S.READY_FOR_PICKUP
    payment = Payment.objects.get(order=order)
    assert (payment.provider, payment.amount) == ("test", order.total)
    # Pay again (a double click): nothing more is paid; the page says so.
    again = client.post(url, {"action": "pay"})
    assert again.status_code == 409
    assert Payment.objects.filter(order=order).count() == 1


@pytest.mark.django_db
def test_the_test_gateway_fail_button_pays_nothing(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    order = pickup_order()
    answer = client.post(gateway_url(order), {"action": "fail"}, follow=False)
    assert answer.status_code == 302 and answer["Location"] == CANCEL
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT and not order.payments.exists()
    assert OrderEvent.objects.filter(order=order, kind="payment_failed").exists()
    messages = [str(m) for m in answer.wsgi_request._messages]
    assert any("nothing was paid" in m for m in messages)


@pytest.mark.django_db
def test_the_test_gateway_is_404_when_stripe_is_configured(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    order = pickup_order()
    url = gateway_url(order)
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "pay"}).status_code == 404
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT


@pytest.mark.django_db
def test_the_test_gateway_refuses_forged_links_foreign_hosts_and_missing_csrf(settings):
    settings.STRIPE_SECRET_KEY = ""
    order = pickup_order()
    client = Client(enforce_csrf_checks=True)
    url = gateway_url(order)
    assert client.get(url[:-3] + "xx/").status_code == 404
    assert client.get(reverse("orders:pay_test", args=["not-a-token"])).status_code == 404
    assert client.post(url, {"action": "pay"}).status_code == 403  # no CSRF token
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT

    evil = gateway_url(order, success="https://evil.example/steal", cancel="//evil.example/")
    assert Client().post(evil, {"action": "fail"})["Location"] == "/"
    assert urlparse(Client().post(evil, {"action": "pay"})["Location"]).netloc == ""


# --- Refunds -----------------------------------------------------------------------------


def completed_order(**kwargs):
    order = pickup_order(paid=True, **kwargs)
    return order_collect(order=order, store=order.store, actor=StaffFactory())


@pytest.mark.django_db
def test_a_full_refund_of_a_test_payment():
    order = pickup_order(paid=True)
    staff = StaffFactory()
    refund = payment_refund(order=order, actor=staff, reason="changed mind")
    assert (refund.amount, refund.status, refund.actor, refund.reason) == (
        order.total, RefundStatus.SUCCEEDED, staff, "changed mind")
    order.refresh_from_db()
    assert order.status == S.REFUNDED
    payment = order.payments.get()
    assert (payment.refunded_amount, payment.status) == (order.total, PaymentStatus.REFUNDED)
    move = OrderEvent.objects.filter(order=order, kind="status").last()
    assert (move.data["to"], move.data["via"], move.actor) == ("refunded", "refund", staff)
    # Never handed over: the piece goes back on sale.
    level = StockLevel.objects.get(store=order.store, variant=order.lines.get().variant)
    assert (level.on_hand, level.reserved) == (1, 0)


@pytest.mark.django_db
def test_a_partial_refund_then_the_rest():
    order = completed_order(variants=two_pieces())
    staff = StaffFactory()
    first = payment_refund(order=order, amount=Decimal("350.00"), actor=staff)
    order.refresh_from_db()
    payment = order.payments.get()
    assert first.amount == Decimal("350.00")
    assert order.status == S.PARTIALLY_REFUNDED
    assert payment.refunded_amount == Decimal("350.00") and payment.status == "succeeded"
    rest = payment_refund(order=order, actor=staff)
    assert rest.amount == order.total - Decimal("350.00")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == S.REFUNDED
    assert (payment.refunded_amount, payment.status) == (order.total, PaymentStatus.REFUNDED)
    with pytest.raises(ConflictError) as refused:
        payment_refund(order=order, actor=staff)
    assert refused.value.code == "nothing_to_refund"


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["2000.00", "0", "-5", "10.001", "lots"])
def test_a_refund_beyond_what_was_paid_or_nonsense_is_refused(amount):
    order = completed_order()  # 1999.00 paid
    with pytest.raises(ApplicationError) as refused:
        payment_refund(order=order, amount=amount, actor=None)
    assert refused.value.code in ("refund_exceeds_payment", "refund_amount_invalid")
    assert refused.value.status == 400
    assert not Refund.objects.exists()
    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.payments.get().refunded_amount == 0


@pytest.mark.django_db
def test_refunds_follow_the_life_cycle():
    unpaid = pickup_order()
    with pytest.raises(ConflictError):
        payment_refund(order=unpaid, actor=None)
    waiting = pickup_order(paid=True)  # ready for pickup: the table allows only a full refund
    with pytest.raises(OrderTransitionNotAllowed):
        payment_refund(order=waiting, amount=Decimal("10.00"), actor=None)
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_a_stripe_refund_goes_through_the_library(client, stripe_standin):
    order = pickup_order()
    post_event(client, session_event(order, intent="pi_test_paid"))
    refund = payment_refund(order=order, amount=None, actor=None, reason="return")
    [call] = stripe_standin.calls("POST", "/v1/refunds")
    assert call["params"]["payment_intent"] == "pi_test_paid"
    assert call["params"]["amount"] == str(to_minor(order.total, "CNY"))
    assert call["params"]["metadata"] == {"order": order.number, "refund": str(refund.pk)}
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.reference == stripe_standin.refunds[0]["id"]
    order.refresh_from_db()
    assert order.status == S.REFUNDED
    assert order.payments.get().status == PaymentStatus.REFUNDED


@pytest.mark.django_db
def test_a_stripe_refund_refused_by_stripe_gives_nothing_back(client, stripe_standin):
    order = pickup_order()
    post_event(client, session_event(order, intent="pi_test_refused"))
    stripe_standin.refuse_refunds = True
    with pytest.raises(RefundFailed):
        payment_refund(order=order, actor=None)
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.FAILED
    order.refresh_from_db()
    assert order.status == S.READY_FOR_PICKUP
    payment = order.payments.get()
    assert (payment.refunded_amount, payment.status) == (0, PaymentStatus.SUCCEEDED)
    assert OrderEvent.objects.filter(order=order, kind="refund_failed").exists()
    # Stripe takes it later: the whole amount is refundable again.
    stripe_standin.refuse_refunds = False
    assert payment_refund(order=order, actor=None).status == RefundStatus.SUCCEEDED
    order.refresh_from_db()
    assert order.status == S.REFUNDED


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", ["test", "stripe"])
def test_two_parallel_full_refunds_give_exactly_one(request, provider):
    order = pickup_order()
    if provider == "stripe":
        standin = request.getfixturevalue("stripe_standin")
        post_event(Client(), session_event(order))
    else:
        order = pickup_order(paid=True)
    results, errors = race(2, lambda i: payment_refund(order=order, actor=None))
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], ConflictError) and errors[0].code == "nothing_to_refund"
    assert Refund.objects.filter(payment__order=order).count() == 1
    order.refresh_from_db()
    assert order.status == S.REFUNDED
    assert order.payments.get().refunded_amount == order.total
    if provider == "stripe":
        assert len(standin.calls("POST", "/v1/refunds")) == 1


def test_the_standin_decodes_stripe_forms():
    from tests.orders.stripe_standin import decode_form
    assert decode_form("a[b][0][c]=1&a[b][1][c]=2&x=y&l[0]=p&l[1]=q") == {
        "a": {"b": [{"c": "1"}, {"c": "2"}]}, "x": "y", "l": ["p", "q"]}
    assert json.dumps(decode_form("")) == "{}"


@pytest.mark.django_db
@pytest.mark.parametrize("body", [[{"id": "evt_1", "type": "checkout.session.completed"}],
                                  [], 42, "a string", None])
def test_a_correctly_signed_body_that_is_not_an_event_is_a_400(client, stripe_standin, body):
    text, header = signed(json.dumps(body))
    answer = client.post(WEBHOOK, data=text, content_type="application/json",
                         HTTP_STRIPE_SIGNATURE=header)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_signature"
    assert not PaymentEvent.objects.exists()
