"""The journeys of the demo: the built-ins switched on with their coupons (the welcome's
new member gift, every tier's birthday gift, the win-back's), one tick now (today's
birthdays and anniversaries, the lapsed buyers) and a gold price alert for 林小姐 a little
under today's gold rate, so a manager entering a lower rate tells her."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from journeys.builtins import builtins_ensure
from journeys.models import GoldPriceAlert, JourneyEnrolment
from journeys.services.alerts import rate_now
from journeys.services.tick import journeys_tick
from members.models import CouponDefinition, User


@dataclass(frozen=True)
class JourneysResult:
    created: int
    entered: int
    sent: int


def journeys_load(*, now: datetime, shopper: User | None) -> JourneysResult:
    coupons = {}
    for slot, name in (("welcome", "新会员礼：满800减100"), ("winback", "好久不见：满1500减200")):
        definition = CouponDefinition.objects.filter(name=name).order_by("pk").first()
        if definition is not None:
            coupons[slot] = definition.pk
    created = builtins_ensure(enable=True, coupons=coupons)
    before = JourneyEnrolment.objects.count()
    result = journeys_tick(now=now, durable=False)
    if shopper is not None:
        rate = rate_now(metal="gold", purity="999")
        if rate is not None and not GoldPriceAlert.objects.filter(member=shopper).exists():
            GoldPriceAlert.objects.create(member=shopper, metal="gold", purity="999",
                                          target_per_gram=(rate - Decimal("5")).quantize(
                                              Decimal("1")))
    return JourneysResult(created=created, entered=JourneyEnrolment.objects.count() - before,
                          sent=result.run.sent)
