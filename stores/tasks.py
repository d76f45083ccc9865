"""Celery tasks: thin and idempotent; each calls one service (stores.services)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def reservations_expire_task() -> int:
    """Beat: give back the pieces of reservations that ran out (safe to run twice)."""
    return services.reservations_expire()
