"""The Celery app. The beat schedule lives here and nowhere else (STYLE.md)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2o.settings.dev")

app = Celery("o2o")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work: each entry names a task that is safe to run twice. Later
# capabilities add their entries here.
app.conf.beat_schedule = {
    # The outbox's sender of last resort (o2o.outbox): due messages, lost workers' rows.
    "o2o-outbox-sweep": {
        "task": "o2o.tasks.outbox_sweep_task",
        "schedule": float(os.environ.get("OUTBOX_SWEEP_SECONDS", "5")),
        "options": {"expires": 30},  # sweeps queued while the workers were down: dropped
    },
    "analytics-events-flush": {
        "task": "analytics.tasks.events_flush_task",
        "schedule": 10.0,
    },
    "analytics-product-insights-nightly": {
        "task": "analytics.tasks.product_insights_refresh_task",
        "schedule": crontab(hour=3, minute=15),
    },
    # The list's facets read counts kept by the catalog and stock services: checked at night.
    "catalog-floor-reconcile-nightly": {
        "task": "catalog.tasks.floor_reconcile_task",
        "schedule": crontab(hour=3, minute=45),
    },
    "catalog-prices-when-a-rate-starts": {
        "task": "catalog.tasks.prices_refresh_due",
        "schedule": 60.0,
    },
    # The dashboards: changed orders folded into the rollups (any number of workers),
    # yesterday reconciled at night, the managers' weekly report on Monday morning.
    "analytics-rollups-fold": {
        "task": "analytics.tasks.rollups_fold_task",
        "schedule": 10.0,
        "options": {"expires": 60},
    },
    "analytics-rollups-reconcile-nightly": {
        "task": "analytics.tasks.rollups_reconcile_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "analytics-weekly-report": {
        "task": "analytics.tasks.weekly_reports_task",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
    },
    "analytics-heartbeat": {
        "task": "analytics.tasks.heartbeat_record",
        "schedule": 300.0,
    },
    "stores-reservations-expire": {
        "task": "stores.tasks.reservations_expire_task",
        "schedule": 60.0,
    },
    "orders-expire-unpaid": {
        "task": "orders.tasks.orders_expire_task",
        "schedule": 60.0,
    },
    "orders-ready-when-arrived": {
        "task": "orders.tasks.orders_ready_when_arrived_task",
        "schedule": 60.0,
    },
    "orders-refunds-pending-send": {
        "task": "orders.tasks.refunds_pending_send_task",
        "schedule": 300.0,
    },
    "orders-carts-prune-nightly": {
        "task": "orders.tasks.carts_prune_task",
        "schedule": crontab(hour=4, minute=10),
    },
    "members-tiers-nightly": {
        "task": "members.tasks.tiers_refresh_task",
        "schedule": crontab(hour=0, minute=5),  # before the birthday coupons read tiers
    },
    # Feedback: half-answered surveys finalised, overdue cases escalated to head office.
    "feedback-sweep": {
        "task": "feedback.tasks.feedback_sweep_task",
        "schedule": 60.0,
    },
    # Campaigns: due ones launched (audience frozen), sending ones sent in batches.
    "marketing-campaigns-tick": {
        "task": "marketing.tasks.campaigns_tick_task",
        "schedule": float(os.environ.get("MARKETING_TICK_SECONDS", "15")),
        "options": {"expires": 30},
    },
    "marketing-rfm-nightly": {
        "task": "marketing.tasks.member_scores_refresh_task",
        "schedule": crontab(hour=3, minute=40),
    },
    # What signed-in members viewed (the segments' "viewed" rule): folded from Redis,
    # pruned to MARKETING_VIEWS_DAYS at night.
    "marketing-views-fold": {
        "task": "marketing.tasks.member_views_fold_task",
        "schedule": 30.0,
        "options": {"expires": 60},
    },
    "marketing-views-prune-nightly": {
        "task": "marketing.tasks.member_views_prune_task",
        "schedule": crontab(hour=3, minute=50),
    },
    # Journeys: the daily entries (birthdays, anniversaries, lapsed buyers, stock back at
    # a member's store, rates in force against alerts) and every due step, in batches.
    # The birthday journey replaced the tiers' nightly birthday coupons.
    "journeys-tick": {
        "task": "journeys.tasks.journeys_tick_task",
        "schedule": 300.0,
        "kwargs": {"sweep": True},
    },
}
