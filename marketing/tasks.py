"""Celery tasks: thin and idempotent; each calls one marketing service. (The tiers'
nightly birthday coupons became the birthday journey: journeys.tasks.journeys_tick_task.)"""

from celery import shared_task
from django.db import OperationalError

from .services.campaigns import campaign_send, campaigns_due
from .services.scores import member_scores_refresh


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
