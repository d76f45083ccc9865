"""Shared reads of orders: what the order page, the emails, the API and the member's lists
show, each loaded in a fixed number of queries (HackSoft selectors)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import connection
from django.db.models import Q, QuerySet

from members.models import User
from o2o.money import money
from stores.models import Appointment
from stores.services import TryOnSale

from .models import Order, OrderLine, OrderStatus

S = OrderStatus

# Statuses of an order whose pieces reached the shopper (an after-sales request may start).
SERVICEABLE_ORDER_STATUSES = frozenset({S.COLLECTED, S.DELIVERED, S.COMPLETED,
                                        S.PARTIALLY_REFUNDED})


def orders_with_lines() -> QuerySet[Order]:
    """Orders with their store and lines (a list card, an API answer)."""
    return Order.objects.select_related("store").prefetch_related("lines")


def lines_known(order: Order, lines: list[OrderLine]) -> Order:
    """Give ``order`` the ``lines`` just written as if ``prefetch_related("lines")`` had
    read them (what Django's prefetch leaves on an instance), so an answer built from it
    (``OrderSerializer``) reads nothing back."""
    found = order.lines.all()
    found._result_cache = list(lines)
    found._prefetch_done = True  # type: ignore[attr-defined]
    order._prefetched_objects_cache = {"lines": found}  # type: ignore[attr-defined]
    return order


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


# Sales that never happened cannot close a try-on.
NOT_A_SALE = (OrderStatus.CANCELLED,)


def sales_for_tryon(appointment: Appointment) -> list[TryOnSale]:
    """The orders that a try-on may have ended in: the same shopper (the member, or the
    mobile number given at booking), picked up or sold at the appointment's store, placed
    from the day it was booked to the day after it, holding a piece that was tried.
    Newest first. Registered with stores (stores.services.tryon_sales_register)."""
    tried = set(appointment.items.values_list("variant_id", flat=True))
    shopper = Q(contact_phone=appointment.contact_phone) if appointment.contact_phone else Q()
    if appointment.member_id:
        shopper |= Q(member_id=appointment.member_id)
    if not shopper or not tried:
        return []
    zone = appointment.store.zone
    booked = appointment.created_at.astimezone(zone).date()
    start = datetime.combine(min(booked, appointment.local_start.date()), time.min, tzinfo=zone)
    end = datetime.combine(appointment.local_start.date() + timedelta(days=2), time.min,
                           tzinfo=zone)
    orders = (Order.objects.filter(shopper, store=appointment.store, placed_at__gte=start,
                                   placed_at__lt=end,
                                   lines__variant_id__in=tried)
              .exclude(status__in=NOT_A_SALE).distinct()
              .prefetch_related("lines").order_by("-placed_at", "-id"))
    sales = []
    for order in orders:
        variants = frozenset(line.variant_id for line in order.lines.all()) & tried
        pieces = ", ".join(line.sku for line in order.lines.all() if line.variant_id in variants)
        local = order.placed_at.astimezone(zone)
        sales.append(TryOnSale(number=order.number, variant_ids=variants,
                               label=f"{order.number} · {local:%H:%M} · {money(order.total)} · "
                                     f"{pieces}"))
    return sales


def bag_pieces_of_member(member_id: int) -> int:
    """Pieces in a member's bag (the header's count, on every page they see). One plain
    statement: building it through the ORM was about a seventh of a signed-in page's
    Python calls (profiled)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(line.quantity), 0) FROM orders_cartline line"
            " JOIN orders_cart cart ON cart.id = line.cart_id WHERE cart.member_id = %s",
            [member_id])
        return int(cursor.fetchone()[0])
