"""Settings of the Celery worker and beat that `make bench`'s survey-kill run starts (and
kills): the shop's dev settings on the bench database, its own queue, and a mail backend
that logs each Message-ID to Redis (devtools.bench_mail) so arrivals can be counted."""

from o2o.settings.dev import *  # noqa: F403
from o2o.settings.dev import env

CELERY_TASK_DEFAULT_QUEUE = env("BENCH_QUEUE", default="o2o-bench")
EMAIL_BACKEND = "devtools.bench_mail.EmailBackend"
