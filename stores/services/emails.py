"""Emails about appointments: confirmation, new time, cancellation and two reminders,
in the shopper's language, each with the appointment as an .ics calendar event.

Each is an outbox row (o2o.outbox) written in the transaction of the booking, the move
or the cancellation that causes it, keyed ``stores.appointment:<id>:<kind>:<sequence>``
(once per appointment, kind and calendar sequence). The reminders are rows too, due 24 h
and 2 h before the start: written at booking and again at each new time, so no beat of
our own scans appointments. Rendered when due from the appointment as it is then: a
confirmation or reminder of an older time, or of a cancelled try-on, is moot (None) and
is not sent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from o2o.dates import weekday_date
from o2o.models import OutboxMessage
from o2o.outbox import OutboxItem, outbox_cancel, outbox_enqueue_many, outbox_renderer

from ..ics import appointment_ics
from ..models import Appointment, AppointmentStatus
from ..tokens import absolute, appointment_manage_path

log = logging.getLogger(__name__)


class Kind(models.TextChoices):
    CONFIRMATION = "confirmation", gettext_lazy("confirmation")
    RESCHEDULED = "rescheduled", gettext_lazy("new time")
    CANCELLED = "cancelled", gettext_lazy("cancellation")
    REMINDER_24H = "reminder_24h", gettext_lazy("reminder, 24 h")
    REMINDER_2H = "reminder_2h", gettext_lazy("reminder, 2 h")


# Reminder kind and how long before the start it is due.
REMINDERS: list[tuple[str, timedelta]] = [
    (Kind.REMINDER_24H, timedelta(hours=24)),
    (Kind.REMINDER_2H, timedelta(hours=2)),
]


def about_appointment(appointment_id: int) -> str:
    return f"stores.appointment:{appointment_id}"


def outbox_kind(kind: str) -> str:
    return f"stores.appointment.{kind}"


def _item(appointment: Appointment, kind: str, due_at: datetime | None = None) -> OutboxItem:
    about = about_appointment(appointment.pk)
    return OutboxItem(
        channel=OutboxMessage.Channel.EMAIL, kind=outbox_kind(kind),
        recipient=appointment.contact_email,
        dedupe_key=f"{about}:{kind}:{appointment.sequence}",
        payload={"appointment_id": appointment.pk, "kind": str(kind),
                 "sequence": appointment.sequence},
        due_at=due_at, about=about)


def appointment_emails_enqueue(*, appointment: Appointment, kind: str, notify: bool = True,
                               now: datetime | None = None) -> int:
    """Queue, in the caller's transaction, what a booking, a new time or a cancellation
    (``kind``) means for the shopper's inbox: the ``kind`` email itself unless ``notify``
    is off; for a booking or a new time the reminders of this time (a booking made
    inside a reminder's window does not get that one: its confirmation is fresh); the
    reminders of an earlier time, or of a cancelled try-on, are withdrawn. Nothing
    without an email address. Returns how many rows were new."""
    if not appointment.contact_email:
        return 0
    now = now or timezone.now()
    about = about_appointment(appointment.pk)
    if appointment.sequence:
        outbox_cancel(dedupe_keys=[f"{about}:{k}:{seq}" for k, _before in REMINDERS
                                   for seq in range(appointment.sequence)],
                      reason="a new time")
    items = [_item(appointment, kind)] if notify else []
    if kind == Kind.CANCELLED:
        outbox_cancel(dedupe_keys=[f"{about}:{k}:{appointment.sequence}"
                                   for k, _before in REMINDERS], reason="cancelled")
    else:
        booked_at = now if kind == Kind.CONFIRMATION else (appointment.created_at or now)
        for reminder, before in REMINDERS:
            due = appointment.starts_at - before
            if booked_at <= due:
                items.append(_item(appointment, reminder, due_at=max(due, now)))
    return outbox_enqueue_many(items)


def _moot(appointment: Appointment, kind: str, sequence: int, now: datetime) -> bool:
    if kind == Kind.CANCELLED:
        return False
    if sequence != appointment.sequence or appointment.status != AppointmentStatus.BOOKED:
        return True
    if kind in (Kind.REMINDER_24H, Kind.REMINDER_2H):
        if appointment.starts_at <= now:
            return True
        # The 24 h reminder is skipped once the 2 h one is due.
        return kind == Kind.REMINDER_24H and appointment.starts_at - timedelta(hours=2) <= now
    return False


@outbox_renderer(*[outbox_kind(kind) for kind in Kind.values],
                 labels={outbox_kind(kind): label for kind, label in Kind.choices})
def render_appointment_email(message: OutboxMessage) -> EmailMultiAlternatives | None:
    """The outbox's renderer: the email from the appointment as it is now, or None when
    it has become moot (gone, moved to another time, cancelled, begun)."""
    payload = message.payload
    appointment = (Appointment.objects.select_related("store")
                   .filter(pk=payload.get("appointment_id")).first())
    if appointment is None or _moot(appointment, payload["kind"], payload["sequence"],
                                    getattr(message, "sending_at", None) or timezone.now()):
        return None
    email = appointment_message(appointment, payload["kind"])
    email.to = [message.recipient]
    return email


def when_text(appointment: Appointment) -> str:
    local = appointment.local_start
    return f"{weekday_date(local)} {local:%H:%M}–{appointment.local_end:%H:%M}"


def _subject(kind: str, appointment: Appointment) -> str:
    values = {"store": appointment.store.title, "when": when_text(appointment)}
    return {
        Kind.CONFIRMATION: _("Your try-on at %(store)s is booked: %(when)s"),
        Kind.RESCHEDULED: _("New time for your try-on at %(store)s: %(when)s"),
        Kind.CANCELLED: _("Your try-on at %(store)s on %(when)s is cancelled"),
        Kind.REMINDER_24H: _("Reminder: your try-on at %(store)s, %(when)s"),
        Kind.REMINDER_2H: _("See you soon: your try-on at %(store)s, %(when)s"),
    }[kind] % values


def appointment_message(appointment: Appointment, kind: str) -> EmailMultiAlternatives:
    """The email, rendered in the appointment's language, with the .ics attached."""
    with translation.override(appointment.language):
        items = list(appointment.items.select_related("variant__product"))
        context = {
            "appointment": appointment, "store": appointment.store, "kind": kind,
            "items": items, "when": when_text(appointment),
            "manage_url": absolute(appointment_manage_path(appointment)),
            "cancelled": kind == Kind.CANCELLED,
            "shop_name": settings.SHOP_NAME or _("Jinyuan Jewellery"),
        }
        subject = _subject(kind, appointment)
        text = render_to_string("stores/email/appointment.txt", context)
        html = render_to_string("stores/email/appointment.html", context)
        summary = _("Try-on at %(store)s") % {"store": appointment.store.title}
        description = "\n".join(
            [_("Appointment %(number)s") % {"number": appointment.number}]
            + [f"- {i.variant.product.title} ({i.variant.sku})" for i in items]
            + [_("Change or cancel: %(url)s") % {"url": context["manage_url"]}])
        ics = appointment_ics(appointment, summary=summary, description=description,
                              cancelled=kind == Kind.CANCELLED)
    message = EmailMultiAlternatives(subject=subject, body=text,
                                     from_email=settings.DEFAULT_FROM_EMAIL,
                                     to=[appointment.contact_email])
    message.attach_alternative(html, "text/html")
    message.attach(f"tryon-{appointment.number}.ics", ics, "text/calendar")
    return message
