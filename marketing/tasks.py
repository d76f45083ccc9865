"""Celery tasks: thin and idempotent; each calls one marketing service. (The tiers'
nightly birthday coupons became the birthday journey: journeys.tasks.journeys_tick_task.)"""

from celery import shared_task
from django.db import OperationalError

from .services.campaigns import campaign_send, campaigns_due
from .services.scores import member_scores_refresh
from .services.views import member_views_fold, member_views_prune


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


@shared_task(ignore_result=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def member_views_fold_task() -> int:
    """Beat, every half minute: the members' buffered product views into the roll-up the
    segments' "viewed" rule reads (several at once are fine: each pops its own)."""
    return member_views_fold()


@shared_task(ignore_result=True)
def member_views_prune_task() -> int:
    """Beat, nightly: views older than MARKETING_VIEWS_DAYS leave the roll-up."""
    return member_views_prune()
