"""Shared reads of orders that other callers need."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Q

from catalog.templatetags.shop_tags import money
from stores.models import Appointment
from stores.services import TryOnSale

from .models import Order, OrderStatus

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
