"""Celery tasks: thin and idempotent; each calls one service (stores.services)."""

from __future__ import annotations

import smtplib

from celery import shared_task

from . import services

MAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)


@shared_task(acks_late=True)
def reservations_expire_task() -> int:
    """Beat: give back the pieces of reservations that ran out (safe to run twice)."""
    return services.reservations_expire()


@shared_task(acks_late=True)
def appointment_reminders_task() -> int:
    """Beat: the 24 h and 2 h reminders that are due, each claimed once."""
    return services.appointment_reminders_send()


@shared_task(bind=True, acks_late=True, autoretry_for=MAIL_ERRORS, retry_backoff=30,
             retry_backoff_max=1800, retry_jitter=True, max_retries=8)
def appointment_email_send_task(self, *, appointment_id: int, kind: str,
                                sequence: int | None = None) -> bool:
    """Confirmation / new time / cancellation, once (the service's claim row)."""
    return services.appointment_email_send(appointment_id=appointment_id, kind=kind,
                                           sequence=sequence)
