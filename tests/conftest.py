import pytest
from django.core.cache import cache
from django.utils import translation

from tests.fixtures import admin_client_, eager, member, signed_in, superuser  # noqa: F401


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (the cache is the real Redis)."""
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts, and leaves its thread, in the default language (zh-hans): a
    language a test switched to must not decide how the next one reverses its URLs."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def celery_worker_real(transactional_db):
    """A real Celery worker on the real Redis broker, consuming in a thread.

    Tasks it runs use their own DB connections, so the test must be transactional.
    """
    from celery.contrib.testing.worker import start_worker

    from o2o.celery import app

    app.conf.task_always_eager = False
    app.control.purge()  # messages other tests left on the test queue are not ours
    with start_worker(app, pool="threads", concurrency=1, perform_ping_check=False,
                      loglevel="WARNING", shutdown_timeout=10) as worker:
        yield worker
