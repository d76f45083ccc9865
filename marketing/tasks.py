"""Celery tasks: thin and idempotent; each calls one marketing service."""

from celery import shared_task
from django.db import OperationalError

from members.services import coupons_birthday_issue

from .services.campaigns import campaign_send, campaigns_due
from .services.scores import member_scores_refresh


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=60,
             retry_backoff_max=1800, retry_jitter=True, max_retries=5)
def coupons_birthday_issue_task() -> int:
    """Beat, daily: the tiers' birthday coupons of today (local date). Safe to run twice:
    each member gets one per definition and year."""
    return coupons_birthday_issue()


@shared_task(acks_late=True)
def campaigns_tick_task() -> list[int]:
    """Beat, every few seconds: launch due campaigns, then a sender for each campaign
    that is sending (several at once share the work: SKIP LOCKED)."""
    sending = campaigns_due()
    for campaign_id in sending:
        campaign_send_task.delay(campaign_id=campaign_id)
    return sending


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=5,
             retry_backoff_max=120, max_retries=5, expires=120)
def campaign_send_task(*, campaign_id: int) -> int:
    """Send a campaign's pending recipients for up to a budget of seconds. A copy that
    runs twice, or after a killed worker, only finds what is left."""
    return campaign_send(campaign_id=campaign_id)


@shared_task(acks_late=True)
def member_scores_refresh_task() -> int:
    """Beat, nightly: the members' RFM scores."""
    return member_scores_refresh()
