"""Tiers follow the member's qualifying spend over the last LOYALTY_SPEND_MONTHS months,
across every channel: the sum of the ``spend`` of their points entries in that window
(earned when an order reaches them, taken back when it is returned; a return is dated by
its purchase, see ``member_spend``). Refreshed when an order is collected, delivered or
refunded, and nightly for spend that ages out."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from ..models import MemberProfile, PointsEntry, PointsKind, Tier, User


def spend_window_start(now: datetime) -> datetime:
    return now - timedelta(days=round(365 * settings.LOYALTY_SPEND_MONTHS / 12))


def tier_for_spend(spend: Decimal, tiers: list[Tier]) -> Tier | None:
    """The highest tier whose threshold ``spend`` reaches (``tiers`` by min_spend)."""
    reached = [tier for tier in tiers if tier.min_spend <= spend]
    return reached[-1] if reached else (tiers[0] if tiers else None)


def member_spend(*, member: User, now: datetime | None = None) -> Decimal:
    """The member's qualifying spend in the window (one query). A return counts with the
    purchase it undoes, in the window exactly while that purchase is: the return of a
    purchase that has aged out does not take from what was spent since."""
    since = spend_window_start(now or timezone.now())
    entries = PointsEntry.objects.filter(member=member)
    bought = entries.filter(kind=PointsKind.EARN, created_at__gt=since).exclude(reference="")
    total = entries.filter(
        (Q(created_at__gt=since) & ~Q(kind=PointsKind.REVERSE))
        | Q(kind=PointsKind.REVERSE, reference__in=bought.values("reference"))
    ).aggregate(s=Sum("spend"))["s"]
    return max(total or Decimal("0.00"), Decimal("0.00"))


@transaction.atomic
def member_tier_refresh(*, member: User, now: datetime | None = None,
                        tiers: list[Tier] | None = None) -> MemberProfile:
    """Recompute the member's 12-month spend and tier; writes only when one changed."""
    now = now or timezone.now()
    tiers = tiers if tiers is not None else list(Tier.objects.order_by("min_spend"))
    profile = MemberProfile.objects.select_for_update(of=("self",)).get(user=member)
    spend = member_spend(member=member, now=now)
    tier = tier_for_spend(spend, tiers)
    fields = ["tier_checked_at"]
    profile.tier_checked_at = now
    if profile.spend_12m != spend:
        profile.spend_12m = spend
        fields.append("spend_12m")
    if (tier.pk if tier else None) != profile.tier_id:
        profile.tier = tier
        fields.append("tier")
    profile.save(update_fields=fields)
    return profile


def tiers_refresh_all(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Nightly: every member's tier from their spend in the window, by id ranges, one
    short transaction per batch. Safe to run twice. Returns how many tiers changed."""
    now = now or timezone.now()
    tiers = list(Tier.objects.order_by("min_spend"))
    changed, last = 0, 0
    while True:
        ids = list(MemberProfile.objects.filter(user_id__gt=last).order_by("user_id")
                   .values_list("user_id", "tier_id")[:batch_size])
        if not ids:
            return changed
        with transaction.atomic():
            for user_id, tier_id in ids:
                profile = member_tier_refresh(member=User(pk=user_id), now=now, tiers=tiers)
                changed += profile.tier_id != tier_id
        last = ids[-1][0]
