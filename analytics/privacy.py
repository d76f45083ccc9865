"""The analytics part of a member's data: the events recorded while they were signed in
(registered with members.services.privacy; unlinked on erasure, the counts stay), and the
facts copied from their orders (unlinked too: the sales stay, without the person)."""

from __future__ import annotations

from members.models import User
from o2o.privacy import privacy_section_register

from .models import Event, OrderFact, TierState


def events_export(member: User) -> list[dict]:
    return list(Event.objects.filter(user=member).order_by("at", "id")
                .values("kind", "at", "product_id", "store_id", "channel", "data"))


def events_erase(member: User) -> None:
    # The session key would still tie the rows together: it goes too.
    Event.objects.filter(user=member).update(user=None, session_key="")
    # The orders' facts keep the sales; the tier history goes with the person.
    OrderFact.objects.filter(member_id=member.pk).update(member_id=None)
    TierState.objects.filter(member_id=member.pk).delete()


privacy_section_register("analytics_events", export=events_export, erase=events_erase)
