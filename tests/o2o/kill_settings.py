"""Settings of the worker, beat and web processes that the kill tests start (and kill)."""

from o2o.settings.test import *  # noqa: F403
from o2o.settings.test import INSTALLED_APPS, env

INSTALLED_APPS = [*INSTALLED_APPS, "tests.o2o.outbox_probe"]
EMAIL_BACKEND = "tests.o2o.delivery_log.EmailBackend"
SMS_BACKEND = "tests.o2o.delivery_log.SmsBackend"
# Short leases and small batches, so a killed worker's rows come back within seconds.
OUTBOX_LEASE_SECONDS = 8
OUTBOX_BATCH_SIZE = 20
OUTBOX_SWEEP_BUDGET_SECONDS = 2
OUTBOX_RETRY_BASE_SECONDS = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="o2o-kill-test")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
