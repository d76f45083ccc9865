"""The orders part of a member's data: their orders, service tickets and cart.

Registered with members.services.privacy (members knows no other app). On erasure the
orders stay for the accounts with the person removed; see that module's docstring for
the full list.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import User
from o2o.outbox import outbox_forget
from o2o.privacy import privacy_section_register

from .emails import about_order
from .models import Cart, Order, OrderEvent, OrderEventKind, OrderStatus, ServiceTicket
from .services import order_cancel
from .services.tickets import FINAL_STATUSES

S = OrderStatus
# Paid, and the pieces have not reached the shopper yet: the account must stay until they do.
IN_HAND_OF_SHOP = (S.PAID, S.READY_FOR_PICKUP, S.SHIPPED)


def orders_export(member: User) -> list[dict]:
    orders = (Order.objects.filter(member=member).select_related("store")
              .prefetch_related("lines", "payments").order_by("placed_at", "id"))
    return [{
        "number": order.number, "channel": order.channel, "fulfilment": order.fulfilment,
        "status": order.status, "store": order.store.code if order.store else None,
        "contact": {"name": order.contact_name, "mobile": order.contact_phone,
                    "email": order.contact_email},
        "delivery_address": order.address or None, "currency": order.currency,
        "subtotal": order.subtotal, "discount": order.discount, "total": order.total,
        "coupon": order.coupon_code, "coupon_discount": order.coupon_discount,
        "points_used": order.points_redeemed, "points_discount": order.points_discount,
        "placed_at": order.placed_at, "paid_at": order.paid_at,
        "completed_at": order.completed_at,
        "lines": [{"product": line.product_name, "sku": line.sku, "quantity": line.quantity,
                   "unit_price": line.unit_price, "line_total": line.line_total}
                  for line in order.lines.all()],
        "payments": [{"method": payment.provider, "amount": payment.amount,
                      "currency": payment.currency, "status": payment.status,
                      "refunded": payment.refunded_amount, "at": payment.created_at}
                     for payment in order.payments.all()],
    } for order in orders]


def orders_blocks(member: User) -> str | None:
    number = (Order.objects.filter(member=member, status__in=IN_HAND_OF_SHOP)
              .order_by("placed_at").values_list("number", flat=True).first())
    if number:
        return _("Your order %(number)s is paid and has not reached you yet. You can delete "
                 "your account once you have it, or after it is refunded.") % {"number": number}
    return None


def orders_prepare(member: User) -> None:
    """Orders still awaiting payment are cancelled (their pieces go back on sale)."""
    for order in Order.objects.filter(member=member, status=S.PENDING_PAYMENT).order_by("pk"):
        order_cancel(order=order, actor=None, via="account deleted",
                     reason="the member deleted their account")


def orders_erase(member: User) -> None:
    orders = list(Order.objects.select_for_update(of=("self",)).filter(member=member)
                  .order_by("pk").values_list("pk", flat=True))
    if not orders:
        return
    now = timezone.now()
    Order.objects.filter(pk__in=orders).update(
        member=None, contact_name="", contact_phone="", contact_email="", address={},
        updated_at=now)
    sent = list(OrderEvent.objects.filter(order_id__in=orders, data__has_key="to"))
    for event in sent:
        event.data = {**event.data, "to": ""}
    OrderEvent.objects.bulk_update(sent, ["data"])
    outbox_forget(about=[about_order(pk) for pk in orders])
    OrderEvent.objects.bulk_create([
        OrderEvent(order_id=pk, kind=OrderEventKind.MEMBER_ERASED, actor=None, at=now,
                   data={"via": "privacy"}) for pk in orders])


def tickets_export(member: User) -> list[dict]:
    tickets = (ServiceTicket.objects.filter(member=member)
               .select_related("store", "order", "line")
               .prefetch_related("events").order_by("created_at", "id"))
    return [{
        "number": ticket.number, "service": ticket.kind, "status": ticket.status,
        "order": ticket.order.number if ticket.order else None,
        "piece": ticket.line.sku if ticket.line else None,
        "store": ticket.store.code if ticket.store else None,
        "contact": {"name": ticket.contact_name, "mobile": ticket.contact_phone},
        "description": ticket.description, "resolution": ticket.resolution,
        "opened_at": ticket.created_at, "closed_at": ticket.closed_at,
        "history": [{"status": event.status, "note": event.note, "at": event.at}
                    for event in ticket.events.all()],
    } for ticket in tickets]


def tickets_blocks(member: User) -> str | None:
    number = (ServiceTicket.objects.filter(member=member).exclude(status__in=FINAL_STATUSES)
              .order_by("created_at").values_list("number", flat=True).first())
    if number:
        return _("Your service %(number)s is still open. You can delete your account once "
                 "it is closed.") % {"number": number}
    return None


def tickets_erase(member: User) -> None:
    ServiceTicket.objects.filter(member=member).update(
        member=None, contact_name="", contact_phone="", description="",
        updated_at=timezone.now())


def cart_export(member: User) -> dict | None:
    cart = Cart.objects.filter(member=member).prefetch_related("lines__variant__product").first()
    if cart is None:
        return None
    return {"coupon": cart.coupon_code, "points": cart.points, "updated_at": cart.updated_at,
            "lines": [{"product": line.variant.product.name, "sku": line.variant.sku,
                       "quantity": line.quantity, "price_seen": line.price_seen,
                       "added_at": line.added_at} for line in cart.lines.all()]}


def cart_erase(member: User) -> None:
    Cart.objects.filter(member=member).delete()


privacy_section_register("orders", export=orders_export, erase=orders_erase,
                         blocks=orders_blocks, prepare=orders_prepare)
privacy_section_register("service_tickets", export=tickets_export, erase=tickets_erase,
                         blocks=tickets_blocks)
privacy_section_register("cart", export=cart_export, erase=cart_erase)
