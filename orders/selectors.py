"""Shared reads of orders: what the order page, the emails, the API and the member's lists
show, each loaded in a fixed number of queries (HackSoft selectors)."""

from __future__ import annotations

from django.db.models import QuerySet

from members.models import User

from .models import Order, OrderStatus

S = OrderStatus

# Statuses of an order whose pieces reached the shopper (an after-sales request may start).
SERVICEABLE_ORDER_STATUSES = frozenset({S.COLLECTED, S.DELIVERED, S.COMPLETED,
                                        S.PARTIALLY_REFUNDED})


def orders_with_lines() -> QuerySet[Order]:
    """Orders with their store and lines (a list card, an API answer)."""
    return Order.objects.select_related("store").prefetch_related("lines")


def orders_for_page() -> QuerySet[Order]:
    """Orders with everything their page and their emails show: store and its hours,
    lines, events (the progress), payments."""
    return (Order.objects.select_related("store")
            .prefetch_related("lines", "events", "payments", "store__hours"))


def orders_of_member(*, member: User) -> QuerySet[Order]:
    """A member's orders, newest first, with store and lines."""
    return orders_with_lines().filter(member=member).order_by("-placed_at", "-pk")


def order_of_member(*, member: User, number: str) -> Order | None:
    return orders_with_lines().filter(member=member, number=number).first()


def orders_serviceable(*, member: User, limit: int = 10) -> list[Order]:
    """The member's recent orders whose pieces reached them (where a service request
    starts), with their lines."""
    return list(orders_of_member(member=member)
                .filter(status__in=SERVICEABLE_ORDER_STATUSES)[:limit])


def order_by_number(number: str) -> Order | None:
    return Order.objects.filter(number=number).select_related("store").first()
