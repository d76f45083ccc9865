"""Celery tasks of analytics: thin wrappers around analytics.services, safe to run twice."""

from celery import shared_task


@shared_task(ignore_result=True)
def heartbeat_record() -> None:
    """Beat's proof of life: a row a run, so the dashboard can show the worker is alive."""
    from .services import event_record

    event_record(kind="worker.heartbeat")


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def events_flush_task() -> int:
    from .services import events_flush

    return events_flush()


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def product_insights_refresh_task() -> dict:
    from .services import product_insights_refresh

    return product_insights_refresh()
