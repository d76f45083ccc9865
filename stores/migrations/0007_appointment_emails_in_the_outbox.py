# Appointment emails move to the outbox (o2o.OutboxMessage): the emails already sent are
# copied there as sent rows (the history the appointment's screen shows), the reminders
# still to come for booked try-ons are queued there, due 24 h and 2 h before; then the
# old claim table and claim columns go.

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

REMINDERS = (("reminder_24h", "reminder_24h_sent_at", timedelta(hours=24)),
             ("reminder_2h", "reminder_2h_sent_at", timedelta(hours=2)))


def _row(OutboxMessage, appointment_id, kind, sequence, recipient, **fields):
    about = f"stores.appointment:{appointment_id}"
    return OutboxMessage(
        channel="email", kind=f"stores.appointment.{kind}", recipient=recipient,
        dedupe_key=f"{about}:{kind}:{sequence}", about=about,
        payload={"appointment_id": appointment_id, "kind": kind, "sequence": sequence},
        **fields)


def to_outbox(apps, schema_editor):
    AppointmentEmail = apps.get_model("stores", "AppointmentEmail")
    Appointment = apps.get_model("stores", "Appointment")
    OutboxMessage = apps.get_model("o2o", "OutboxMessage")
    rows = [
        _row(OutboxMessage, e.appointment_id, e.kind, e.sequence, e.to, state="sent",
             attempts=1, due_at=e.sent_at, sent_at=e.sent_at, created_at=e.sent_at)
        for e in AppointmentEmail.objects.all().iterator()]
    now = timezone.now()
    booked = (Appointment.objects.filter(status="booked", starts_at__gt=now)
              .exclude(contact_email=""))
    for appointment in booked.iterator():
        for kind, column, before in REMINDERS:
            due = appointment.starts_at - before
            if getattr(appointment, column) is None and appointment.created_at <= due:
                rows.append(_row(OutboxMessage, appointment.pk, kind, appointment.sequence,
                                 appointment.contact_email, state="pending",
                                 due_at=max(due, now), created_at=now))
    OutboxMessage.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('stores', '0006_event_kinds'),
        ('o2o', '0001_outbox'),
    ]

    operations = [
        migrations.RunPython(to_outbox, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='appointment',
            name='reminder_24h_sent_at',
        ),
        migrations.RemoveField(
            model_name='appointment',
            name='reminder_2h_sent_at',
        ),
        migrations.DeleteModel(
            name='AppointmentEmail',
        ),
    ]
