"""Order emails: outbox rows written with the move, sent after commit through Celery, once
per order and kind even when the move or the sender runs twice (or twice at once), in the
order's language, the pickup code's QR inline in the ready-for-pickup email, and none
without an email address."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connections
from django.utils import timezone

from o2o.models import OutboxMessage
from o2o.outbox import message_id_for, outbox_deliver
from orders import emails
from orders.models import Fulfilment, OrderStatus
from orders.qr import pickup_qr_png
from orders.services import order_collect, order_place, order_transition
from stores.models import OpeningHours
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.concurrency import race
from tests.members.factories import StaffFactory
from tests.stores.factories import StoreFactory, warehouse

from .factories import pay, pickup_order

S = OrderStatus


@pytest.fixture
def store(db):
    store = StoreFactory(code="sh-mail", name="上海南京西路店", address="南京西路 1266 号")
    OpeningHours.objects.create(store=store, weekday=5, opens="10:00", closes="21:30")
    return store


def by_subject(word):
    return [m for m in mail.outbox if word in m.subject]


def claims(order):
    """The order's emails sent, by kind."""
    return sorted(f"email:{kind}" for kind in OutboxMessage.objects.filter(
        about=emails.about_order(order.pk), state="sent").values_list("payload__kind",
                                                                       flat=True))


def queued(order):
    return OutboxMessage.objects.filter(about=emails.about_order(order.pk))


class FailingBackend(BaseEmailBackend):
    """The mail server is down."""

    def send_messages(self, email_messages):
        raise ConnectionError("smtp down")


@pytest.mark.django_db
def test_placing_and_paying_a_pickup_sends_received_then_ready_with_the_qr_inline(
        store, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = pickup_order(store=store, contact_email="lin@example.com", language="en")
    (received,) = mail.outbox
    assert received.to == ["lin@example.com"] and order.number in received.subject
    assert "We have your order" in received.subject
    assert "as soon as your payment arrives" in received.body
    assert not received.attachments  # no code before it can open a hand-over
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)
    (ready,) = by_subject("ready for pickup")
    assert order.pickup_code in ready.body and "南京西路 1266 号" in ready.body
    assert "Saturday 10:00–21:30" in ready.body
    html, mimetype = ready.alternatives[0]
    assert mimetype == "text/html" and 'src="cid:pickup-qr"' in html and order.pickup_code in html
    (image,) = ready.attachments
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == "<pickup-qr>"
    assert image.get_payload(decode=True) == pickup_qr_png(order.pickup_code)
    assert ready.message().get_content_subtype() == "related"
    # The link opens the order for a guest, in the order's language.
    assert "http://testserver/en/orders/" in ready.body or "/en/orders/" + order.number in ready.body
    assert claims(order) == ["email:placed", "email:ready_for_pickup"]


@pytest.mark.django_db
def test_emails_speak_the_orders_language(store, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        chinese = pickup_order(store=store, contact_name="林小姐",
                               contact_email="lin@example.com", language="zh-hans")
        english = pickup_order(store=store, contact_name="Ms Lin", contact_email="ms@example.com",
                               language="en")
    zh = next(m for m in mail.outbox if m.to == ["lin@example.com"])
    en = next(m for m in mail.outbox if m.to == ["ms@example.com"])
    assert "林小姐，您好：" in zh.body
    assert f"/orders/{chinese.number}:" in zh.body and "/en/orders/" not in zh.body
    assert 'lang="zh-hans"' in zh.alternatives[0][0]
    assert "Dear Ms Lin," in en.body and f"/en/orders/{english.number}:" in en.body


@pytest.mark.django_db
def test_each_email_goes_once_even_when_the_move_or_the_sender_runs_twice(store):
    order = pay(pickup_order(store=store, contact_email="lin@example.com"))
    assert queued(order).count() == 2  # placed, ready: written with the moves
    assert not emails.order_email_enqueue(order=order, kind="ready_for_pickup")  # once
    assert outbox_deliver().sent == 2
    assert outbox_deliver().sent == 0
    assert len(mail.outbox) == 2
    assert claims(order) == ["email:placed", "email:ready_for_pickup"]
    # The Message-ID is the key's: a resend would be recognisably the same message.
    assert sorted(m.message()["Message-ID"] for m in mail.outbox) == sorted(
        message_id_for(f"orders.order:{order.pk}:{kind}")
        for kind in ("placed", "ready_for_pickup"))


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_the_email_once():
    order = pay(pickup_order(contact_email="lin@example.com"))
    results, errors = race(4, lambda _i: outbox_deliver().sent)
    connections.close_all()
    assert errors == [] and sorted(results)[-1] <= 2 and sum(results) == 2
    assert len(mail.outbox) == 2
    assert claims(order) == ["email:placed", "email:ready_for_pickup"]


@pytest.mark.django_db
def test_no_email_without_an_address(store, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = pay(pickup_order(store=store, contact_phone="+8613800138000"))
    assert order.contact_email == "" and mail.outbox == []
    assert not emails.order_email_enqueue(order=order, kind="ready_for_pickup")
    assert not queued(order).exists()


@pytest.mark.django_db
def test_a_failed_send_is_tried_again_later(store, settings):
    order = pay(pickup_order(store=store, contact_email="lin@example.com"))
    settings.EMAIL_BACKEND = "tests.orders.test_emails.FailingBackend"
    assert outbox_deliver().retried == 2
    assert claims(order) == []
    assert {r.attempts for r in queued(order)} == {1}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_deliver(now=timezone.now() + timedelta(hours=1)).sent == 2
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_collected_shipped_and_refunded_each_send_theirs(store, eager,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pickup = pay(pickup_order(store=store, contact_email="a@example.com", language="en"))
        order_collect(order=pickup, store=store, actor=StaffFactory())
    (thanks,) = by_subject("Thank you for collecting")
    assert thanks.to == ["a@example.com"] and not thanks.attachments

    depot = warehouse()
    variant = VariantFactory()
    stock_receive(store=depot, variant=variant, quantity=1)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = order_place(lines=[(variant, 1)], fulfilment=Fulfilment.DELIVERY,
                               stock_from=depot, contact_name="Ms Lin",
                               contact_email="b@example.com", language="en")
        pay(delivery)
        order_transition(order=delivery, to=S.SHIPPED, via="admin",
                         data={"carrier": "SF Express", "tracking": "SF1234567890"})
        order_transition(order=delivery, to=S.DELIVERED, via="admin")
        order_transition(order=delivery, to=S.REFUNDED, via="admin")
    (shipped,) = by_subject("is on its way")
    assert "SF1234567890" in shipped.body and "SF Express" in shipped.body
    (refunded,) = by_subject("Your refund")
    assert delivery.number in refunded.subject
    sent_to_b = sorted(m.subject.split(" ")[0] for m in mail.outbox if m.to == ["b@example.com"])
    assert len(sent_to_b) == 3  # received, shipped, refunded: nothing for paid or delivered
    assert claims(delivery) == ["email:placed", "email:refunded", "email:shipped"]


@pytest.mark.django_db
def test_nothing_is_sent_before_commit(store, eager,
                                                                 django_capture_on_commit_callbacks):
    order = pickup_order(store=store, contact_email="lin@example.com")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pay(order)
    assert mail.outbox == [] and callbacks
    for callback in callbacks:
        callback()
    # The ready email, and the received one (its commit never came in this test).
    assert [m.to for m in mail.outbox] == [["lin@example.com"]] * 2
    assert claims(order) == ["email:placed", "email:ready_for_pickup"]


@pytest.mark.django_db
def test_demo_or_imported_orders_can_be_marked_as_already_emailed(store, eager):
    order = pay(pickup_order(store=store, contact_email="lin@example.com"))
    assert emails.order_emails_skip(order=order, reason="demo") == 2
    assert emails.order_emails_skip(order=order, reason="demo") == 0
    assert outbox_deliver().claimed == 0
    assert mail.outbox == []
    assert {r.state for r in queued(order)} == {"cancelled"}


@pytest.mark.django_db(transaction=True)
def test_the_emails_go_through_a_real_worker_after_commit(celery_worker_real):
    order = pickup_order(contact_email="lin@example.com")
    pay(order)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(mail.outbox) < 2:
        time.sleep(0.1)
    assert len(mail.outbox) == 2 and all(order.number in m.subject for m in mail.outbox)
    # Sent, then marked (at least once): the mark follows the send by a moment.
    while time.monotonic() < deadline and len(claims(order)) < 2:
        time.sleep(0.1)
    assert claims(order) == ["email:placed", "email:ready_for_pickup"]
    assert any(m.attachments for m in mail.outbox)
