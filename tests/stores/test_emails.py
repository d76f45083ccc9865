"""Appointment emails: the shopper's language, an .ics the standard library can read,
signed links, once per email even when a task runs twice; reminders 24 h and 2 h before."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from o2o.celery import app as celery_app
from stores.models import Appointment, AppointmentEmail
from stores.services import (
    appointment_book,
    appointment_cancel,
    appointment_email_send,
    appointment_reminders_send,
    appointment_reschedule,
    stock_receive,
)
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


@pytest.fixture
def eager():
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


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
    assert AppointmentEmail.objects.filter(appointment=appointment, kind="confirmation").count() == 1


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
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), piece, notify=False)
    assert appointment_email_send(appointment_id=appointment.pk, kind="confirmation") is True
    assert appointment_email_send(appointment_id=appointment.pk, kind="confirmation") is False
    appointment_reschedule(appointment=appointment, starts_at=local(shop, days_ahead(shop, 4), 15),
                           notify=False)
    # A confirmation queued before the move is moot: the new time's email follows.
    assert appointment_email_send(appointment_id=appointment.pk, kind="confirmation",
                                  sequence=0) is False
    assert appointment_email_send(appointment_id=appointment.pk, kind="rescheduled") is True
    assert ics_of(mail.outbox[-1])["SEQUENCE"] == "1"
    appointment_cancel(appointment=appointment, by_shopper=True, notify=False)
    assert appointment_email_send(appointment_id=appointment.pk, kind="cancelled") is True
    cancelled = ics_of(mail.outbox[-1])
    assert cancelled["METHOD"] == "CANCEL" and cancelled["STATUS"] == "CANCELLED"
    assert appointment_email_send(appointment_id=999999, kind="confirmation") is False
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_a_failed_send_withdraws_its_claim_for_the_retry(shop, piece, monkeypatch):
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), piece, notify=False)

    def refuse(*args, **kwargs):
        raise ConnectionError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with pytest.raises(ConnectionError):
        appointment_email_send(appointment_id=appointment.pk, kind="confirmation")
    assert not AppointmentEmail.objects.exists()
    monkeypatch.undo()
    assert appointment_email_send(appointment_id=appointment.pk, kind="confirmation") is True


@pytest.mark.django_db
def test_reminders_go_24h_and_2h_before_once_each_even_when_run_twice(shop, piece):
    start = local(shop, days_ahead(shop, 3), 15)
    appointment = book(shop, start, piece, notify=False, language="en")
    cancelled = book(shop, start + timedelta(hours=1), piece, notify=False)
    appointment_cancel(appointment=cancelled, by_shopper=True, notify=False)
    no_email = book(shop, start, piece, notify=False, contact_email="")

    assert appointment_reminders_send(now=start - timedelta(hours=30)) == 0  # not due yet
    day_before = start - timedelta(hours=23)
    assert appointment_reminders_send(now=day_before) == 1
    assert appointment_reminders_send(now=day_before + timedelta(minutes=5)) == 0
    assert mail.outbox[-1].subject.startswith("Reminder: your try-on")
    two_hours = start - timedelta(hours=1, minutes=55)
    assert appointment_reminders_send(now=two_hours) == 1
    assert appointment_reminders_send(now=two_hours) == 0
    assert appointment_reminders_send(now=start + timedelta(minutes=1)) == 0  # begun
    assert len(mail.outbox) == 2
    appointment.refresh_from_db()
    assert appointment.reminder_24h_sent_at == day_before
    assert appointment.reminder_2h_sent_at == two_hours
    no_email.refresh_from_db()
    assert no_email.reminder_24h_sent_at is None
    assert list(AppointmentEmail.objects.values_list("kind", flat=True).order_by("sent_at")) == [
        "reminder_24h", "reminder_2h"]


@pytest.mark.django_db
def test_a_booking_made_inside_a_window_skips_that_reminder(shop, piece):
    start = local(shop, days_ahead(shop, 3), 15)
    appointment = book(shop, start, piece, notify=False)
    Appointment.objects.filter(pk=appointment.pk).update(created_at=start - timedelta(hours=10))
    assert appointment_reminders_send(now=start - timedelta(hours=9)) == 0
    assert appointment_reminders_send(now=start - timedelta(hours=1, minutes=30)) == 1


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
            sent.append(appointment_reminders_send(now=now))
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
    assert AppointmentEmail.objects.get().kind == "confirmation"
    assert appointment.created_at <= AppointmentEmail.objects.get().sent_at <= timezone.now()
