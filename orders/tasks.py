"""Celery tasks: thin and idempotent; each calls one service (orders.services)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def orders_expire_task() -> int:
    """Beat: cancel orders left unpaid past their time; their pieces go back on sale."""
    return services.orders_expire()
