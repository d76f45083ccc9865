"""Gold price alerts: a member's target price per gram for a metal and purity."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from catalog.models import Metal, MetalRate
from members.models import User
from o2o.errors import ApplicationError

from ..models import GoldPriceAlert

MAX_WAITING = 10


class AlertInvalid(ApplicationError):
    code = "alert_invalid"


def rate_now(*, metal: str, purity: str) -> Decimal | None:
    from django.utils import timezone

    return (MetalRate.objects.filter(metal=metal, purity=purity, valid_from__lte=timezone.now())
            .order_by("-valid_from").values_list("rate_per_gram", flat=True).first())


def gold_alert_set(*, member: User, metal: str, purity: str, target: Decimal | str) -> GoldPriceAlert:
    """Set (or move) the member's waiting alert for ``metal``/``purity``. Raises
    AlertInvalid (400) for an unknown metal or purity (no rate is published for it), a
    target that is not a positive amount, or one the rate is already at or under."""
    if metal not in Metal.values or not metal:
        raise AlertInvalid(_("Choose a metal."), code="bad_metal")
    try:
        amount = Decimal(str(target).replace(",", "").replace("¥", "").strip())
    except (InvalidOperation, ValueError):
        amount = Decimal(0)
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("100000"):
        raise AlertInvalid(_("Enter a price per gram, for example 580."), code="bad_target")
    amount = amount.quantize(Decimal("0.01"))
    current = rate_now(metal=metal, purity=purity)
    if current is None:
        raise AlertInvalid(_("We publish no rate for this metal and purity."),
                           code="bad_purity")
    if current <= amount:
        raise AlertInvalid(_("Today's rate is already ¥%(rate)s a gram, at or under your "
                             "target.") % {"rate": current}, code="already_there")
    with transaction.atomic():
        alert = (GoldPriceAlert.objects.select_for_update()
                 .filter(member=member, metal=metal, purity=purity, fired_at__isnull=True)
                 .first())
        if alert is not None:
            alert.target_per_gram = amount
            alert.save(update_fields=["target_per_gram"])
            return alert
        if GoldPriceAlert.objects.filter(member=member, fired_at__isnull=True).count() \
                >= MAX_WAITING:
            raise AlertInvalid(_("You can keep at most %(n)s alerts waiting.")
                               % {"n": MAX_WAITING}, code="too_many")
        try:
            with transaction.atomic():
                return GoldPriceAlert.objects.create(member=member, metal=metal, purity=purity,
                                                     target_per_gram=amount)
        except IntegrityError:  # set twice at once: the other one stands, moved to this
            alert = GoldPriceAlert.objects.get(member=member, metal=metal, purity=purity,
                                               fired_at__isnull=True)
            alert.target_per_gram = amount
            alert.save(update_fields=["target_per_gram"])
            return alert


def gold_alert_remove(*, member: User, alert_id: int) -> bool:
    return GoldPriceAlert.objects.filter(member=member, pk=alert_id).delete()[0] > 0


def metals_on_offer() -> list[tuple[str, str, Decimal]]:
    """(metal, purity, today's rate) for every metal and purity with a rate in force."""
    from django.utils import timezone

    seen: dict[tuple[str, str], Decimal] = {}
    for metal, purity, rate in (MetalRate.objects.filter(valid_from__lte=timezone.now())
                                .order_by("metal", "purity", "-valid_from")
                                .values_list("metal", "purity", "rate_per_gram")):
        seen.setdefault((metal, purity), rate)
    return [(m, p, r) for (m, p), r in sorted(seen.items())]
