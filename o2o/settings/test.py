"""Tests: real PostgreSQL and Redis (from the environment or the embedded stack)."""

from .workers import separate_xdist_worker

separate_xdist_worker()  # before base.py reads REDIS_URL: each xdist worker its own Redis DB

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "o2o.sms.LocmemBackend"  # o2o.sms.outbox
CACHES["default"]["KEY_PREFIX"] = env("CACHE_KEY_PREFIX", default="o2o-test")  # noqa: F405
CACHES["sessions"]["KEY_PREFIX"] = env("SESSION_KEY_PREFIX", default="o2o-test-session")  # noqa: F405
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "test-media")  # noqa: F405
ALLOWED_HOSTS = ["*"]
# A shop started with `make run` on the same Redis must never take the tests' tasks.
CELERY_TASK_DEFAULT_QUEUE = "o2o-test"
PAYMENT_TEST_GATEWAY = True  # tests pay through the offline gateway (or Stripe's stand-in)
DEV_ENDPOINTS = True
# A second alias on the same test database, for the replica router's tests (which turn
# REPORTING_DATABASE to it); reports read from "default" otherwise.
DATABASES.setdefault("replica", {**DATABASES["default"], "TEST": {"MIRROR": "default"}})  # noqa: F405
