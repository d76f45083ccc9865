"""Celery tasks: thin and idempotent; each calls services. Invitations and alerts leave
through the outbox (o2o.outbox), not tasks of their own."""

from celery import shared_task

from .services import cases_escalate_overdue, responses_finalize_stale


@shared_task(acks_late=True)
def feedback_sweep_task() -> dict:
    """Beat: answers left half way count as given after a while (an unhappy one opens
    its case); cases past their due time are escalated to head office."""
    return {"finalized": responses_finalize_stale(), "escalated": cases_escalate_overdue()}
