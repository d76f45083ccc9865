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


# --- Dashboards: the rollups and the weekly report (schedule: o2o/celery.py) ----------


@shared_task(ignore_result=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=5)
def rollups_fold_task() -> int:
    """Fold the orders changed since the last run into the facts and the sales cells
    (several workers may run it at once: each claims its own orders)."""
    from .services.rollups import orders_fold_all

    return orders_fold_all()


@shared_task(ignore_result=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=3)
def rollups_reconcile_task() -> dict:
    """Nightly: yesterday again from the sources, yesterday's closing stock, the month's
    tier moves once it has ended, and where members live."""
    from .services.members import places_rebuild, tier_moves_fold
    from .services.rollups import reconcile

    written = reconcile()
    written["tier_months"] = tier_moves_fold()
    written["places"] = places_rebuild()
    return written


@shared_task(ignore_result=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=3)
def weekly_reports_task() -> int:
    """Monday morning: last week's report for every store manager, through the outbox."""
    from .services.reports import weekly_reports_enqueue

    return weekly_reports_enqueue()
