"""Emails about appointments: confirmation, new time, cancellation and two reminders,
in the shopper's language, each with the appointment as an .ics calendar event.

Nothing here runs inside a transaction that holds locks: a send is claimed first (a
row or a timestamp, committed at once), the mail goes out, and a failed send withdraws
its claim so that a retry can send it. Each email therefore goes at most once per
claim; a worker that dies between claim and send loses that one email (logged).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from o2o.dates import weekday_date

from ..ics import appointment_ics
from ..models import Appointment, AppointmentEmail, AppointmentStatus
from ..tokens import absolute, appointment_manage_path

log = logging.getLogger(__name__)
Kind = AppointmentEmail.Kind

# Reminder kind, the appointment's claim column, how long before the start it is due.
REMINDERS: list[tuple[str, str, timedelta]] = [
    (Kind.REMINDER_24H, "reminder_24h_sent_at", timedelta(hours=24)),
    (Kind.REMINDER_2H, "reminder_2h_sent_at", timedelta(hours=2)),
]


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


def appointment_email_send(*, appointment_id: int, kind: str, sequence: int | None = None) -> bool:
    """Send the confirmation, new-time or cancellation email once; True when sent now.

    Quietly does nothing when the appointment is gone, has no email, was sent this
    email already (UNIQUE appointment+kind+sequence), or moved on since (a newer time
    or a cancellation makes an older confirmation moot).
    """
    appointment = Appointment.objects.select_related("store").filter(pk=appointment_id).first()
    if appointment is None or not appointment.contact_email:
        return False
    sequence = appointment.sequence if sequence is None else sequence
    if kind in (Kind.CONFIRMATION, Kind.RESCHEDULED) and (
            sequence != appointment.sequence or appointment.status != AppointmentStatus.BOOKED):
        return False
    try:
        with transaction.atomic():
            claim = AppointmentEmail.objects.create(
                appointment=appointment, kind=kind, sequence=sequence,
                to=appointment.contact_email, sent_at=timezone.now())
    except IntegrityError:
        return False
    try:
        appointment_message(appointment, kind).send()
    except Exception:
        claim.delete()  # let the task's retry send it
        raise
    return True


def appointment_reminders_send(*, now: datetime | None = None, batch_size: int = 100) -> int:
    """Send the reminders that are due, 24 h and 2 h before a booked try-on, once each.

    Each is claimed by ``UPDATE ... SET reminder_xx_sent_at = now WHERE id = ? AND
    reminder_xx_sent_at IS NULL``: two runs at once cannot both send it. A booking
    made inside a reminder's window does not get that reminder (its confirmation is
    fresh); a 24 h reminder is skipped once the 2 h one is due. Returns how many went.
    """
    now = now or timezone.now()
    sent = 0
    for kind, column, before in REMINDERS:
        due = (Appointment.objects
               .filter(status=AppointmentStatus.BOOKED, starts_at__gt=now,
                       starts_at__lte=now + before, created_at__lte=F("starts_at") - before,
                       **{f"{column}__isnull": True})
               .exclude(contact_email=""))
        if kind == Kind.REMINDER_24H:
            due = due.filter(starts_at__gt=now + timedelta(hours=2))
        last_id = 0
        while True:
            ids = list(due.filter(pk__gt=last_id).order_by("pk")
                       .values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            last_id = ids[-1]
            for pk in ids:
                sent += _reminder_send(pk=pk, kind=kind, column=column, now=now)
    return sent


def _reminder_send(*, pk: int, kind: str, column: str, now: datetime) -> int:
    claimed = (Appointment.objects
               .filter(pk=pk, status=AppointmentStatus.BOOKED, **{f"{column}__isnull": True})
               .update(**{column: now}))
    if not claimed:
        return 0
    appointment = Appointment.objects.select_related("store").get(pk=pk)
    try:
        appointment_message(appointment, kind).send()
    except Exception:
        Appointment.objects.filter(pk=pk, **{column: now}).update(**{column: None})
        log.exception("reminder %s for appointment %s failed; the next run retries", kind, pk)
        return 0
    AppointmentEmail.objects.bulk_create(
        [AppointmentEmail(appointment=appointment, kind=kind, sequence=appointment.sequence,
                          to=appointment.contact_email, sent_at=now)],
        ignore_conflicts=True)
    return 1
