"""Audit-row writers, called inside the service's transaction (who, what, when)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from o2o.auth import User

from .models import Appointment, AppointmentEvent, Transfer, TransferEvent


def _actor(actor: User | None) -> User | None:
    return actor if actor is not None and getattr(actor, "pk", None) else None


def appointment_event_record(*, appointment: Appointment, kind: str, actor: User | None = None,
                             at: datetime | None = None, **data) -> AppointmentEvent:
    return AppointmentEvent.objects.create(appointment=appointment, kind=kind, actor=_actor(actor),
                                           at=at or timezone.now(), data=data)


def transfer_event_record(*, transfer: Transfer, kind: str, actor: User | None = None,
                          at: datetime | None = None, **data) -> TransferEvent:
    return TransferEvent.objects.create(transfer=transfer, kind=kind, actor=_actor(actor),
                                        at=at or timezone.now(), data=data)
