"""Celery tasks: thin and idempotent; each calls one service (orders.services, orders.emails)."""

from celery import shared_task

from stores.tasks import MAIL_ERRORS

from . import emails, services


@shared_task(acks_late=True)
def orders_expire_task() -> int:
    """Beat: cancel orders left unpaid past their time; their pieces go back on sale."""
    return services.orders_expire()


@shared_task(bind=True, acks_late=True, autoretry_for=MAIL_ERRORS, retry_backoff=30,
             retry_backoff_max=1800, retry_jitter=True, max_retries=8)
def order_email_task(self, *, order_id: int, kind: str) -> bool:
    """One order email (received, ready for pickup, collected, shipped, refunded), once:
    the claim row in orders.emails makes a second run send nothing."""
    return emails.order_email_send(order_id=order_id, kind=kind)
