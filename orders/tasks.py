"""Celery tasks: thin and idempotent; each calls one service (orders.services, orders.emails)."""

from celery import shared_task

from stores.tasks import MAIL_ERRORS

from . import emails, services
from .services.cart import carts_prune
from .services.payments import refunds_pending_send


@shared_task(acks_late=True)
def orders_expire_task() -> int:
    """Beat: cancel orders left unpaid past their time; their pieces go back on sale."""
    return services.orders_expire()


@shared_task(acks_late=True)
def orders_ready_when_arrived_task() -> int:
    """Beat: paid pickups whose transfers have all arrived become ready for pickup."""
    return services.orders_ready_when_arrived()


@shared_task(bind=True, acks_late=True, autoretry_for=MAIL_ERRORS, retry_backoff=30,
             retry_backoff_max=1800, retry_jitter=True, max_retries=8)
def order_email_task(self, *, order_id: int, kind: str) -> bool:
    """One order email (received, ready for pickup, collected, shipped, refunded), once:
    the claim row in orders.emails makes a second run send nothing."""
    return emails.order_email_send(order_id=order_id, kind=kind)


@shared_task(acks_late=True)
def refunds_pending_send_task() -> int:
    """Beat: send again the Stripe refunds left pending by a crash or a timeout."""
    return refunds_pending_send()


@shared_task(acks_late=True)
def carts_prune_task() -> int:
    """Beat, nightly: forget idle guest carts."""
    return carts_prune()
