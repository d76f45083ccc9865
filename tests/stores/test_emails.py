"""Appointment emails: outbox rows written with the booking, the move or the cancellation;
the shopper's language, an .ics the standard library can read, signed links, once per
email even when the sender runs twice; reminders due 24 h and 2 h before, moot once the
try-on moved or was cancelled."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from o2o.models import OutboxMessage
from o2o.outbox import outbox_deliver
from stores.services import (
    appointment_book,
    appointment_cancel,
    appointment_emails_enqueue,
    appointment_reschedule,
    stock_receive,
)
from stores.services.emails import about_appointment
from stores.tokens import appointment_number_from_token
from tests.catalog.factories import VariantFactory
from tests.members.factories import UserFactory

from .factories import days_ahead, local, tryon_store


def parse_ics(text: str) -> dict[str, str]:
    """The VEVENT's properties: unfold continuation lines (RFC 5545 3.1), split name:value."""
    props = {}
    for line in text.replace("\r\n ", "").split("\r\n"):
        if ":" in line:
            name, value = line.split(":", 1)
            props.setdefault(name.split(";")[0], value)
    return props


def ics_of(message) -> dict[str, str]:
    (attachment,) = message.attachments
    filename, content, mimetype = attachment
    assert filename.endswith(".ics") and mimetype == "text/calendar"
    return parse_ics(content)


def utc(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def rows(appointment, **filters):
    return OutboxMessage.objects.filter(about=about_appointment(appointment.pk), **filters)


def sent_kinds(appointment):
    return list(rows(appointment, state="sent").order_by("sent_at", "pk")
                .values_list("payload__kind", flat=True))


@pytest.fixture
def piece(shop):
    variant = VariantFactory()
    stock_receive(store=shop, variant=variant, quantity=3)
    return variant


def book(store, start, variant, **kwargs):
    kwargs.setdefault("contact_name", "林小姐")
    kwargs.setdefault("contact_phone", "13800138000")
    kwargs.setdefault("contact_email", "lin@example.com")
    return appointment_book(store=store, starts_at=start, variant_ids=[variant.pk], **kwargs)


@pytest.mark.django_db
def test_a_guest_gets_the_confirmation_in_the_page_language_with_a_calendar_file(
        shop, piece, eager, django_capture_on_commit_callbacks):
    start = local(shop, days_ahead(shop, 3), 15)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(shop, start, piece, language="zh-hans")
    (message,) = mail.outbox
    assert message.to == ["lin@example.com"]
    assert "试戴" in message.subject and shop.name in message.subject
    assert "15:00" in message.subject
    ics = ics_of(message)
    assert utc(ics["DTSTART"]) == start and utc(ics["DTEND"]) == start + timedelta(hours=1)
    assert ics["UID"] == f"{appointment.number}@tryon.jinyuan" and ics["METHOD"] == "PUBLISH"
    html = message.alternatives[0][0]
    assert appointment.number in message.body and appointment.number in html
    # The body's link manages the booking without logging in.
    link = next(w for w in message.body.split() if "/try-on/" in w)
    token = link.rstrip("/").split("/try-on/")[1]
    assert appointment_number_from_token(token) == appointment.number
    assert sent_kinds(appointment) == ["confirmation"]


@pytest.mark.django_db
def test_a_member_gets_it_in_their_own_language(shop, piece, eager,
                                                django_capture_on_commit_callbacks):
    member = UserFactory(language="en", email="wang@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        book(shop, local(shop, days_ahead(shop, 3), 16), piece, member=member, contact_email="")
    (message,) = mail.outbox
    assert message.subject.startswith("Your try-on at Store") and "/en/try-on/" in message.body


@pytest.mark.django_db
def test_each_email_goes_once_and_a_stale_one_not_at_all(shop, piece):
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), piece)
    assert outbox_deliver().sent == 1
    assert appointment_emails_enqueue(appointment=appointment, kind="confirmation") == 0
    assert outbox_deliver().claimed == 0
    appointment = appointment_reschedule(appointment=appointment,
                                         starts_at=local(shop, days_ahead(shop, 4), 15))
    assert outbox_deliver().sent == 1
    assert ics_of(mail.outbox[-1])["SEQUENCE"] == "1"
    # Two moves before the sender runs: the first move's email is moot, not sent.
    appointment = appointment_reschedule(appointment=appointment,
                                         starts_at=local(shop, days_ahead(shop, 4), 16))
    appointment = appointment_reschedule(appointment=appointment,
                                         starts_at=local(shop, days_ahead(shop, 5), 16))
    result = outbox_deliver()
    assert (result.sent, result.cancelled) == (1, 1)
    assert ics_of(mail.outbox[-1])["SEQUENCE"] == "3"
    appointment_cancel(appointment=appointment, by_shopper=True)
    assert outbox_deliver().sent == 1
    cancelled = ics_of(mail.outbox[-1])
    assert cancelled["METHOD"] == "CANCEL" and cancelled["STATUS"] == "CANCELLED"
    assert len(mail.outbox) == 4
    assert sent_kinds(appointment) == ["confirmation", "rescheduled", "rescheduled",
                                       "cancelled"]
    # No reminder of any of those times is left to go.
    assert not rows(appointment, state="pending").exists()


@pytest.mark.django_db
def test_a_failed_send_is_tried_again(shop, piece, monkeypatch):
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), piece)

    def refuse(*args, **kwargs):
        raise ConnectionError("smtp down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    assert outbox_deliver().retried == 1
    assert sent_kinds(appointment) == []
    monkeypatch.undo()
    assert outbox_deliver(now=timezone.now() + timedelta(minutes=5)).sent == 1
    assert sent_kinds(appointment) == ["confirmation"]


@pytest.mark.django_db
def test_reminders_go_24h_and_2h_before_once_each_even_when_run_twice(shop, piece):
    start = local(shop, days_ahead(shop, 3), 15)
    appointment = book(shop, start, piece, notify=False, language="en")
    cancelled = book(shop, start + timedelta(hours=1), piece, notify=False)
    appointment_cancel(appointment=cancelled, by_shopper=True, notify=False)
    no_email = book(shop, start, piece, notify=False, contact_email="")

    assert outbox_deliver(now=start - timedelta(hours=30)).claimed == 0  # not due yet
    day_before = start - timedelta(hours=23)
    assert outbox_deliver(now=day_before).sent == 1
    assert outbox_deliver(now=day_before + timedelta(minutes=5)).sent == 0
    assert mail.outbox[-1].subject.startswith("Reminder: your try-on")
    two_hours = start - timedelta(hours=1, minutes=55)
    assert outbox_deliver(now=two_hours).sent == 1
    assert outbox_deliver(now=two_hours).sent == 0
    assert outbox_deliver(now=start + timedelta(minutes=1)).sent == 0  # begun
    assert len(mail.outbox) == 2
    assert sent_kinds(appointment) == ["reminder_24h", "reminder_2h"]
    due = dict(rows(appointment).values_list("payload__kind", "due_at"))
    assert due == {"reminder_24h": start - timedelta(hours=24),
                   "reminder_2h": start - timedelta(hours=2)}
    assert not rows(no_email).exists()
    assert set(rows(cancelled).values_list("state", flat=True)) == {"cancelled"}


@pytest.mark.django_db
def test_a_booking_made_inside_a_window_skips_that_reminder(shop, piece):
    start = local(shop, days_ahead(shop, 3), 15)
    appointment = book(shop, start, piece, notify=False, now=start - timedelta(hours=10))
    assert list(rows(appointment).values_list("payload__kind", flat=True)) == ["reminder_2h"]
    assert outbox_deliver(now=start - timedelta(hours=9)).sent == 0
    assert outbox_deliver(now=start - timedelta(hours=1, minutes=30)).sent == 1


@pytest.mark.django_db
def test_the_24h_reminder_is_moot_once_the_2h_one_is_due(shop, piece):
    start = local(shop, days_ahead(shop, 3), 15)
    appointment = book(shop, start, piece, notify=False)
    result = outbox_deliver(now=start - timedelta(hours=1))  # the sender was down all day
    assert (result.sent, result.cancelled) == (1, 1)
    assert sent_kinds(appointment) == ["reminder_2h"]


@pytest.mark.django_db(transaction=True)
def test_two_reminder_runs_at_once_send_each_reminder_once():
    store = tryon_store(code="remind")
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=10)
    start = local(store, days_ahead(store, 3), 15)
    for _ in range(2):
        book(store, start, variant, notify=False)
    now, errors, sent = start - timedelta(hours=20), [], []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait(timeout=10)
            sent.append(outbox_deliver(now=now).sent)
        except Exception as exc:  # pragma: no cover
            errors.append(repr(exc))
        finally:
            connection.close()

    pool = [threading.Thread(target=run) for _ in range(4)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert errors == [] and sum(sent) == 2 and len(mail.outbox) == 2
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_the_confirmation_goes_through_a_real_worker_after_commit(celery_worker_real):
    store = tryon_store(code="worker")
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=1)
    appointment = book(store, local(store, days_ahead(store, 3), 15), variant)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not mail.outbox:
        time.sleep(0.1)
    assert len(mail.outbox) == 1 and appointment.number in mail.outbox[0].body
    (row,) = rows(appointment, state="sent")
    assert row.payload["kind"] == "confirmation"
    assert appointment.created_at <= row.sent_at <= timezone.now()
