"""Celery tasks: thin and idempotent; each calls one marketing service."""

from celery import shared_task
from django.db import OperationalError

from members.services import coupons_birthday_issue


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=60,
             retry_backoff_max=1800, retry_jitter=True, max_retries=5)
def coupons_birthday_issue_task() -> int:
    """Beat, daily: the tiers' birthday coupons of today (local date). Safe to run twice:
    each member gets one per definition and year."""
    return coupons_birthday_issue()
