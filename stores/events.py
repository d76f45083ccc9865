"""The audit trails of appointments and transfers: their writers, called inside the
service's transaction (who, what, when), and the sentence staff read for each kind."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from o2o.auth import User

from .models import (
    Appointment,
    AppointmentEvent,
    AppointmentEventKind,
    AppointmentStatus,
    Outcome,
    Transfer,
    TransferEvent,
    TransferEventKind,
)


def _actor(actor: User | None) -> User | None:
    return actor if actor is not None and getattr(actor, "pk", None) else None


def appointment_event_record(*, appointment: Appointment, kind: AppointmentEventKind,
                             actor: User | None = None, at: datetime | None = None,
                             **data) -> AppointmentEvent:
    return AppointmentEvent.objects.create(appointment=appointment, kind=kind, actor=_actor(actor),
                                           at=at or timezone.now(), data=data)


def transfer_event_record(*, transfer: Transfer, kind: TransferEventKind,
                          actor: User | None = None, at: datetime | None = None,
                          **data) -> TransferEvent:
    return TransferEvent.objects.create(transfer=transfer, kind=kind, actor=_actor(actor),
                                        at=at or timezone.now(), data=data)


def _local(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _pieces_moved(data: dict) -> str:
    parts = []
    if data.get("released"):
        parts.append(_("%(n)s pieces back on sale") % {"n": data["released"]})
    if data.get("kept_for_order"):
        parts.append(_("%(n)s kept for the sale") % {"n": data["kept_for_order"]})
    if data.get("transfers_cancelled"):
        parts.append(_("transfers %(numbers)s called off") % {
            "numbers": ", ".join(data["transfers_cancelled"])})
    return ("; ".join(parts) + ".") if parts else ""


def appointment_event_sentence(event: AppointmentEvent) -> str:
    data, K = event.data or {}, AppointmentEventKind
    if event.kind == K.BOOKED:
        text = _("Booked to try %(pieces)s.") % {"pieces": ", ".join(data.get("skus", []))
                                                 or _("no particular piece")}
        if data.get("transfers"):
            text += " " + _("Pieces come by transfer %(numbers)s.") % {
                "numbers": ", ".join(data["transfers"])}
        return text
    if event.kind == K.RESCHEDULED:
        return _("Moved from %(before)s to %(after)s.") % {
            "before": _local(data.get("before")), "after": _local(data.get("after"))}
    if event.kind == K.CHECKED_IN:
        return _("The shopper arrived.")
    if event.kind == K.COMPLETED:
        if data.get("outcome") == Outcome.BOUGHT:
            text = _("Done: the shopper bought (order %(order)s).") % {
                "order": data.get("order_reference") or "-"}
        else:
            text = _("Done: nothing bought (%(reason)s).") % {"reason": data.get("reason") or "-"}
        return " ".join(filter(None, [text, _pieces_moved(data)]))
    if event.kind == K.NO_SHOW:
        return " ".join(filter(None, [_("The shopper did not come."), _pieces_moved(data)]))
    if event.kind == K.CANCELLED:
        who = _("by the shopper") if data.get("by") == "shopper" else _("by staff")
        text = _("Cancelled %(who)s.") % {"who": who}
        if data.get("reason"):
            text += " " + data["reason"]
        return " ".join(filter(None, [text, _pieces_moved(data)]))
    if event.kind == K.SOLD:
        return _("The pieces kept for the shopper went to sale %(order)s.") % {
            "order": data.get("order", "")}
    if event.kind == K.IMPORTED:
        try:
            status = AppointmentStatus(data.get("status")).label
        except ValueError:
            status = data.get("status", "")
        return _("Imported from the history as %(status)s.") % {"status": status}
    if event.kind == K.MEMBER_ERASED:
        return _("The shopper's personal data was erased at their request.")
    return event.get_kind_display()


def transfer_event_sentence(event: TransferEvent) -> str:
    data, K = event.data or {}, TransferEventKind
    if event.kind == K.CREATED:
        pieces = ", ".join(f"{sku} × {quantity}" for sku, quantity in data.get("lines", []))
        text = _("Requested: %(pieces)s.") % {"pieces": pieces}
        if data.get("appointment"):
            text += " " + _("For try-on %(number)s.") % {"number": data["appointment"]}
        if data.get("reference"):
            text += " " + _("For order %(number)s.") % {"number": data["reference"]}
        return text
    if event.kind == K.SHIPPED:
        return _("Sent on its way.")
    if event.kind == K.RECEIVED:
        return _("Received at the store.")
    if event.kind in (K.CANCELLED, K.DETACHED):
        return " ".join(filter(None, [event.get_kind_display().capitalize() + ".",
                                      data.get("reason", "")]))
    return event.get_kind_display()
