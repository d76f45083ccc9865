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


def spend_by_member(member_ids: list[int], *, now: datetime) -> dict[int, Decimal]:
    """Each member's qualifying spend in the window (one query for any number of members;
    members without any are left out). A return counts with the purchase it undoes, in
    the window exactly while that purchase is: the return of a purchase that has aged out
    does not take from what was spent since. Entries after ``now`` do not count, so the
    tier at a past moment can be asked too (analytics' tier moves)."""
    since = spend_window_start(now)
    entries = PointsEntry.objects.filter(member_id__in=member_ids, created_at__lte=now)
    bought = entries.filter(kind=PointsKind.EARN, created_at__gt=since).exclude(reference="")
    rows = (entries.filter((Q(created_at__gt=since) & ~Q(kind=PointsKind.REVERSE))
                           | Q(kind=PointsKind.REVERSE, reference__in=bought.values("reference")))
            .values("member_id").annotate(total=Sum("spend")).values_list("member_id", "total"))
    return {member_id: max(total, Decimal("0.00")) for member_id, total in rows}


def member_spend(*, member: User, now: datetime | None = None) -> Decimal:
    """The member's qualifying spend in the window (spend_by_member, for one)."""
    return spend_by_member([member.pk], now=now or timezone.now()).get(member.pk,
                                                                        Decimal("0.00"))


def _tier_apply(profile: MemberProfile, spend: Decimal, tiers: list[Tier],
                now: datetime) -> list[str]:
    """Set the profile's spend and tier; the fields that changed (tier_checked_at always)."""
    tier = tier_for_spend(spend, tiers)
    fields = ["tier_checked_at"]
    profile.tier_checked_at = now
    if profile.spend_12m != spend:
        profile.spend_12m = spend
        fields.append("spend_12m")
    if (tier.pk if tier else None) != profile.tier_id:
        profile.tier = tier
        fields.append("tier")
    return fields


@transaction.atomic
def member_tier_refresh(*, member: User, now: datetime | None = None,
                        tiers: list[Tier] | None = None) -> MemberProfile:
    """Recompute the member's 12-month spend and tier; writes only when one changed."""
    now = now or timezone.now()
    tiers = tiers if tiers is not None else list(Tier.objects.order_by("min_spend"))
    profile = MemberProfile.objects.select_for_update(of=("self",)).get(user=member)
    fields = _tier_apply(profile, member_spend(member=member, now=now), tiers, now)
    profile.save(update_fields=fields)
    return profile


def tiers_refresh_all(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Nightly: every member's tier from their spend in the window, by id ranges, one
    short transaction and three queries per batch (lock the profiles in user-id order,
    their spends in one aggregate, one bulk UPDATE of those that changed). Safe to run
    twice. Returns how many tiers changed."""
    now = now or timezone.now()
    tiers = list(Tier.objects.order_by("min_spend"))
    changed, last = 0, 0
    while True:
        with transaction.atomic():
            profiles = list(MemberProfile.objects.select_for_update(of=("self",))
                            .filter(user_id__gt=last).order_by("user_id")[:batch_size])
            if not profiles:
                return changed
            spends = spend_by_member([p.user_id for p in profiles], now=now)
            moved = []
            for profile in profiles:
                before = profile.tier_id
                _tier_apply(profile, spends.get(profile.user_id, Decimal("0.00")), tiers, now)
                changed += profile.tier_id != before
                moved.append(profile)
            MemberProfile.objects.bulk_update(moved, ["spend_12m", "tier", "tier_checked_at"])
        last = profiles[-1].user_id
