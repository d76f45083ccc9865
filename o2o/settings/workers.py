"""A Redis database of its own for each pytest-xdist worker (`make test` runs two).

pytest-django gives each worker its own test database (test_<name>_gw0, _gw1, ...). Redis
needs the same: every test empties the cache (a FLUSHDB) before it starts, and real Celery
workers take the tasks on the test queue, so two workers on one Redis database would wipe
each other's cache and steal each other's tasks. Worker gwN uses database base + N, the
base being REDIS_URL's own (redis://127.0.0.1:6379/11: gw0 on 11, gw1 on 12).

This runs before the settings read the environment and writes the worker's URLs back into
os.environ, so the processes a test starts (kill tests, Celery, a child Django) inherit
them. It is done once per worker: a child started with the worker's environment has
PYTEST_XDIST_WORKER too, and must not move one database further.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from urllib.parse import urlsplit, urlunsplit

# Redis's default number of databases (the `databases` setting): 0-15.
REDIS_DATABASES = 16
# The environment variables that may name a Redis database (o2o/settings/base.py).
REDIS_VARIABLES = ("REDIS_URL", "CELERY_BROKER_URL", "SESSION_REDIS_URL")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DONE = "O2O_TEST_WORKER_ENV"  # the worker whose URLs os.environ already holds


def redis_url_for_worker(url: str, worker: int) -> str:
    """``url`` with its database moved ``worker`` databases up (none in the path: 0)."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    base = int(path) if path else 0
    database = base + worker
    if database >= REDIS_DATABASES:
        raise RuntimeError(
            f"pytest-xdist worker {worker} would use Redis database {database} of {url}, and "
            f"Redis has {REDIS_DATABASES} (0-{REDIS_DATABASES - 1}): use fewer workers "
            f"(PYTEST_WORKERS) or a lower database in REDIS_URL")
    return urlunsplit(parts._replace(path=f"/{database}"))


def separate_xdist_worker(environ: MutableMapping[str, str] = os.environ) -> None:
    worker_id = environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...; unset: no xdist
    if not worker_id or environ.get(DONE) == worker_id:
        return
    worker = int(worker_id.removeprefix("gw"))
    environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    for name in REDIS_VARIABLES:
        if environ.get(name):
            environ[name] = redis_url_for_worker(environ[name], worker)
    environ[DONE] = worker_id
