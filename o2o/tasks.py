"""The kernel's Celery tasks: the outbox's sender (o2o.outbox)."""

from celery import shared_task

from .outbox import outbox_deliver, outbox_sweep


@shared_task(acks_late=True, ignore_result=True)
def outbox_deliver_task() -> int:
    """Nudged after a commit that queued a message: send one batch of due messages, and
    nudge again while batches come back full (a campaign drains across workers)."""
    result = outbox_deliver()
    if result.full and not result.released:
        outbox_deliver_task.delay()
    return result.sent


@shared_task(acks_late=True, ignore_result=True)
def outbox_sweep_task() -> int:
    """Beat, every few seconds: what the nudges missed (a lost task, a broker that was
    down at commit, a message whose time has come, a worker killed mid-batch)."""
    return outbox_sweep().sent
