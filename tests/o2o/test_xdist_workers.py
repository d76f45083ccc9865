"""Each pytest-xdist worker on a Redis database of its own (o2o/settings/workers.py): the
cache's FLUSHDB before every test and the Celery test queue stay the worker's own."""

import os
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache

from o2o.celery import app
from o2o.settings.workers import DONE, redis_url_for_worker, separate_xdist_worker


def test_a_worker_moves_every_redis_url_up_by_its_number_once():
    environ = {"PYTEST_XDIST_WORKER": "gw2", "REDIS_URL": "redis://127.0.0.1:6379/11",
               "CELERY_BROKER_URL": "redis://:secret@127.0.0.1:6380/3", "OTHER": "redis://x/1"}
    separate_xdist_worker(environ)
    assert environ["REDIS_URL"] == "redis://127.0.0.1:6379/13"
    assert environ["CELERY_BROKER_URL"] == "redis://:secret@127.0.0.1:6380/5"
    assert "SESSION_REDIS_URL" not in environ  # unset stays unset (it follows REDIS_URL)
    assert environ["OTHER"] == "redis://x/1"
    # A child process started with the worker's environment does not move it again.
    separate_xdist_worker(environ)
    assert environ["REDIS_URL"] == "redis://127.0.0.1:6379/13"
    assert environ[DONE] == "gw2"


def test_without_xdist_nothing_moves():
    environ = {"REDIS_URL": "redis://127.0.0.1:6379/11"}
    separate_xdist_worker(environ)
    assert environ == {"REDIS_URL": "redis://127.0.0.1:6379/11"}


def test_no_database_in_the_url_is_database_0_and_16_is_too_far():
    assert redis_url_for_worker("redis://127.0.0.1:6379", 1) == "redis://127.0.0.1:6379/1"
    assert redis_url_for_worker("redis://127.0.0.1:6379/", 0) == "redis://127.0.0.1:6379/0"
    with pytest.raises(RuntimeError, match="fewer workers"):
        redis_url_for_worker("redis://127.0.0.1:6379/14", 2)


def test_this_run_uses_the_redis_database_its_environment_names():
    """Under xdist the settings, the cache, the broker and the environment that child
    processes inherit all name the worker's database; in a serial run, REDIS_URL's own."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert url == settings.REDIS_URL
    assert os.environ.get("CELERY_BROKER_URL", url) == settings.CELERY_BROKER_URL
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    database = cache._cache.get_client(write=True).connection_pool.connection_kwargs["db"]
    assert database == int(urlsplit(url).path.strip("/") or 0)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        assert os.environ[DONE] == worker
