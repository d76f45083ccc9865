"""The stores part of a member's data: their try-on appointments.

Registered with members.services.privacy. On erasure the appointments stay for the
store's figures with the person removed (see that module's docstring).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from o2o.auth import User
from o2o.outbox import outbox_forget
from o2o.privacy import privacy_section_register

from .models import Appointment, AppointmentEvent, AppointmentEventKind, AppointmentStatus
from .services import appointment_cancel
from .services.emails import about_appointment

S = AppointmentStatus


def appointments_export(member: User) -> list[dict]:
    appointments = (Appointment.objects.filter(member=member).select_related("store")
                    .prefetch_related("items__variant__product").order_by("starts_at", "id"))
    return [{
        "number": a.number, "store": a.store.code, "starts_at": a.starts_at,
        "ends_at": a.ends_at, "status": a.status,
        "contact": {"name": a.contact_name, "mobile": a.contact_phone,
                    "email": a.contact_email},
        "note": a.note, "outcome": a.outcome, "why_not_bought": a.outcome_reason,
        "cancel_reason": a.cancel_reason, "booked_at": a.created_at,
        "pieces": [{"product": item.variant.product.name, "sku": item.variant.sku}
                   for item in a.items.all()],
    } for a in appointments]


def appointments_blocks(member: User) -> str | None:
    number = (Appointment.objects.filter(member=member, status=S.CHECKED_IN)
              .values_list("number", flat=True).first())
    if number:
        return _("Your try-on %(number)s is going on in the store right now. You can delete "
                 "your account once it is over.") % {"number": number}
    return None


def appointments_prepare(member: User) -> None:
    """Booked try-ons are cancelled: the seat and the pieces set aside go back."""
    for appointment in (Appointment.objects.filter(member=member, status=S.BOOKED)
                        .order_by("pk")):
        appointment_cancel(appointment=appointment, actor=None, notify=False,
                           reason="the member deleted their account")


def appointments_erase(member: User) -> None:
    ids = list(Appointment.objects.select_for_update(of=("self",)).filter(member=member)
               .order_by("pk").values_list("pk", flat=True))
    if not ids:
        return
    now = timezone.now()
    Appointment.objects.filter(pk__in=ids).update(
        member=None, contact_name="", contact_phone="", contact_email="", note="",
        outcome_reason="", cancel_reason="", updated_at=now)
    outbox_forget(about=[about_appointment(pk) for pk in ids])
    typed = list(AppointmentEvent.objects.filter(appointment_id__in=ids, data__has_key="reason"))
    for event in typed:
        event.data = {key: value for key, value in event.data.items() if key != "reason"}
    AppointmentEvent.objects.bulk_update(typed, ["data"])
    AppointmentEvent.objects.bulk_create([
        AppointmentEvent(appointment_id=pk, kind=AppointmentEventKind.MEMBER_ERASED, at=now,
                         data={"via": "privacy"}) for pk in ids])


privacy_section_register("appointments", export=appointments_export,
                         erase=appointments_erase, blocks=appointments_blocks,
                         prepare=appointments_prepare)
