"""The moments that enter members into journeys, heard from the apps below (which never
import us). Each signal is sent inside the change's transaction; the receiver enters the
member in that transaction, so the enrolment commits or rolls back with the moment.

    members.signals.member_joined          the welcome (web sign-up, counter registration)
    orders.signals.order_handed_over       the care reminder (six months later)
    stores.signals.appointment_completed   the try-on follow-up (not bought)
    catalog.signals.metal_rate_entered     gold price alerts
"""

from __future__ import annotations

from catalog.models import MetalRate
from catalog.signals import metal_rate_entered
from members.models import User
from members.signals import member_joined
from orders.models import Order
from orders.signals import order_handed_over
from stores.models import Appointment
from stores.signals import appointment_completed

from .services import triggers


def on_member_joined(sender, member: User, at, **kwargs) -> None:
    triggers.member_joined(member=member, at=at)


def on_order_handed_over(sender, order: Order, at, **kwargs) -> None:
    triggers.order_handed_over(order=order, at=at)


def on_appointment_completed(sender, appointment: Appointment, outcome: str, at,
                             **kwargs) -> None:
    triggers.tryon_ended(appointment=appointment, outcome=outcome, at=at)


def on_metal_rate_entered(sender, rate: MetalRate, at, **kwargs) -> None:
    triggers.gold_alerts_fire(metal=rate.metal, purity=rate.purity, rate=rate.rate_per_gram,
                              now=at)


def connect() -> None:
    member_joined.connect(on_member_joined, dispatch_uid="journeys.member_joined")
    order_handed_over.connect(on_order_handed_over, sender=Order,
                              dispatch_uid="journeys.order_handed_over")
    appointment_completed.connect(on_appointment_completed, sender=Appointment,
                                  dispatch_uid="journeys.appointment_completed")
    metal_rate_entered.connect(on_metal_rate_entered, sender=MetalRate,
                               dispatch_uid="journeys.metal_rate_entered")
