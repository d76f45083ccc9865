from celery import shared_task


@shared_task(ignore_result=True)
def heartbeat_record() -> None:
    """Beat's proof of life: a row a run, so the dashboard can show the worker is alive."""
    from .services import event_record

    event_record(kind="worker.heartbeat")
