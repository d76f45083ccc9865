import os

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


def _django_block(item) -> int:
    """pytest-django's order (its pytest_collection_modifyitems, as Django orders tests):
    0 tests on the database in a transaction rolled back, 1 transactional tests (their
    flush empties the tables, the data migrations' rows too, so they come after every 0),
    2 tests without the database."""
    from django.test import TestCase, TransactionTestCase

    cls = getattr(item, "cls", None)
    if cls and issubclass(cls, TransactionTestCase):
        return 0 if issubclass(cls, TestCase) else 1
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", [])
    if ((marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
                     or (marker.args and marker.args[0])))
            or "transactional_db" in fixtures or "live_server" in fixtures):
        return 1
    return 0 if marker or "db" in fixtures else 2


def _rank(item) -> int:
    """The longest first (marked ``long``: tens of seconds), then the browser journeys."""
    if item.get_closest_marker("long"):
        return 0
    return 1 if item.get_closest_marker("e2e") else 2


@pytest.hookimpl(trylast=True)  # after pytest-django's ordering
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test`), the long tests are handed out first, so that none
    of them starts at the end of the run with the other worker idle beside it: the long
    ones without the database (the embedded shop) before everything, the transactional
    ones at the head of pytest-django's transactional block. Each worker still runs its
    tests in Django's order (`--dist load` hands them out in this order), so no test on the
    database runs after a transactional test's flush emptied the data migrations' rows. A
    serial run keeps pytest-django's order untouched."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    blocks = [_django_block(item) for item in items]
    if blocks != sorted(blocks):  # not the order this expects: leave it as it is
        return
    order = {id(item): (-1 if block == 2 and _rank(item) == 0 else block, _rank(item))
             for item, block in zip(items, blocks, strict=True)}
    items.sort(key=lambda item: order[id(item)])


@pytest.hookimpl(optionalhook=True)  # xdist's hook: unknown with `-p no:xdist`
def pytest_xdist_node_collection_finished(node, ids):
    """xdist's scope modes (loadscope, loadfile, loadgroup) track tests by node id, and
    schemathesis's items under pytest 9 share their function's id (one per API operation):
    all but one of each would silently not run. `--dist load` hands out positions."""
    mode = node.config.getoption("dist")
    if mode in {"loadscope", "loadfile", "loadgroup"} and len(set(ids)) != len(ids):
        twins = sorted({nodeid for nodeid in ids if ids.count(nodeid) > 1})
        raise pytest.UsageError(f"--dist {mode} would run one test of each of these ids and "
                                f"drop the others: {twins[:5]}; use --dist load")
