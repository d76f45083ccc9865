"""Celery tasks: thin and idempotent; each calls one service (orders.services). The
order emails leave through the outbox (o2o.outbox), not a task of their own."""

from celery import shared_task

from . import services
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


@shared_task(acks_late=True)
def refunds_pending_send_task() -> int:
    """Beat: send again the Stripe refunds left pending by a crash or a timeout."""
    return refunds_pending_send()


@shared_task(acks_late=True)
def carts_prune_task() -> int:
    """Beat, nightly: forget idle guest carts."""
    return carts_prune()
