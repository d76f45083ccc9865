"""The moments that invite a survey, heard from the apps below (which never import us):

    orders.signals.order_handed_over   a pickup collected, a counter sale, a delivery
    orders.signals.ticket_closed       an after-sales ticket closed
    stores.signals.appointment_completed   a try-on ended (bought or not)

Each signal is sent inside the change's transaction, once the change is written; the
receiver turns it into a ``Moment`` and calls invitation_schedule in that transaction,
so the invitation and its messages commit or roll back with the moment. Quick (a few
queries), no network.
"""

from __future__ import annotations

from orders.models import Fulfilment, Order, OrderEvent, OrderEventKind, OrderStatus, ServiceTicket
from orders.signals import order_handed_over, ticket_closed
from stores.models import Appointment
from stores.signals import appointment_completed

from .models import Channel, Trigger
from .services import Moment, invitation_schedule

_ORDER_TRIGGER = {
    Fulfilment.PICKUP: Trigger.PICKUP,
    Fulfilment.COUNTER: Trigger.COUNTER,
    Fulfilment.DELIVERY: Trigger.DELIVERY,
}


def order_clerk_id(order: Order) -> int | None:
    """Who handed the pieces over: the order's clerk (a counter sale), else whoever
    confirmed the collection (the pickup desk's clerk)."""
    if order.staff_id:
        return order.staff_id
    return (OrderEvent.objects.filter(order=order, kind=OrderEventKind.STATUS,
                                      data__to=OrderStatus.COLLECTED, actor__isnull=False)
            .order_by("-at", "-pk").values_list("actor_id", flat=True).first())


def on_order_handed_over(sender, order: Order, at, **kwargs) -> None:
    trigger = _ORDER_TRIGGER.get(order.fulfilment)
    if trigger is None:
        return
    invitation_schedule(moment=Moment(
        trigger=trigger, occasion=f"order:{order.pk}", at=at, channel=order.channel,
        language=order.language, member=order.member, contact_name=order.contact_name,
        contact_email=order.contact_email, contact_phone=order.contact_phone,
        store=order.store if trigger != Trigger.DELIVERY else None,
        staff_id=order_clerk_id(order) if trigger != Trigger.DELIVERY else None,
        order_id=order.pk, reference=order.number))


def on_appointment_completed(sender, appointment: Appointment, at, **kwargs) -> None:
    invitation_schedule(moment=Moment(
        trigger=Trigger.TRYON, occasion=f"appointment:{appointment.pk}", at=at,
        channel=Channel.STORE, language=appointment.language, member=appointment.member,
        contact_name=appointment.contact_name, contact_email=appointment.contact_email,
        contact_phone=appointment.contact_phone, store=appointment.store,
        staff_id=appointment.staff_id, appointment_id=appointment.pk,
        reference=appointment.number))


def on_ticket_closed(sender, ticket: ServiceTicket, at, **kwargs) -> None:
    order = ticket.order
    member = ticket.member
    email = (member.email if member is not None else "") or (order.contact_email if order else "")
    language = (member.language if member is not None
                else order.language if order is not None else "")
    invitation_schedule(moment=Moment(
        trigger=Trigger.TICKET, occasion=f"ticket:{ticket.pk}", at=at, channel=Channel.STORE,
        language=language or Order._meta.get_field("language").default, member=member,
        contact_name=ticket.contact_name, contact_email=email or "",
        contact_phone=ticket.contact_phone, store=ticket.store, staff_id=ticket.staff_id,
        ticket_id=ticket.pk, reference=ticket.number))


def connect() -> None:
    order_handed_over.connect(on_order_handed_over, sender=Order,
                              dispatch_uid="feedback.order_handed_over")
    appointment_completed.connect(on_appointment_completed, sender=Appointment,
                                  dispatch_uid="feedback.appointment_completed")
    ticket_closed.connect(on_ticket_closed, sender=ServiceTicket,
                          dispatch_uid="feedback.ticket_closed")
