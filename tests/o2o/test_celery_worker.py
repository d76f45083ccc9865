"""Tasks are enqueued after commit and run by a real worker on the real broker."""

import time

import pytest
from django.db import transaction

from analytics.models import Event
from analytics.tasks import heartbeat_record


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_on_commit_runs_in_the_worker(celery_worker_real):
    with transaction.atomic():
        heartbeat_record.delay_on_commit()
        time.sleep(0.5)
        # Not sent before the commit: the worker cannot have run it yet.
        assert not Event.objects.filter(kind="worker.heartbeat").exists()
    assert wait_for(lambda: Event.objects.filter(kind="worker.heartbeat").exists())


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing(celery_worker_real):
    with pytest.raises(RuntimeError), transaction.atomic():
        heartbeat_record.delay_on_commit()
        raise RuntimeError("boom")
    heartbeat_record.delay()  # a marker that does run
    assert wait_for(lambda: Event.objects.filter(kind="worker.heartbeat").count() == 1)
    time.sleep(1)
    assert Event.objects.filter(kind="worker.heartbeat").count() == 1
