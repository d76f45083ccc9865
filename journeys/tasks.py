"""Celery tasks: thin and idempotent."""

from celery import shared_task
from django.db import OperationalError

from .services.tick import journeys_tick


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=30,
             retry_backoff_max=600, retry_jitter=True, max_retries=5)
def journeys_tick_task(sweep: bool = False) -> int:
    """Beat (every 5 minutes, with the sweeps) and after a rate tells many alerts
    (without): due steps of every journey. Safe to run twice or side by side."""
    return journeys_tick(sweep=sweep).run.claimed
