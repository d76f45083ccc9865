from django.db import transaction

from ..models import Channel, MemberProfile, Tier, User


def tier_lowest() -> Tier | None:
    return Tier.objects.order_by("min_spend").first()


@transaction.atomic
def member_profile_ensure(*, user: User, channel: str = Channel.ONLINE) -> MemberProfile:
    """The member's profile, created on first need (idempotent), in the lowest tier."""
    profile = MemberProfile.objects.filter(user=user).first()
    if profile is None:
        profile, _ = MemberProfile.objects.get_or_create(
            user=user, defaults={"registered_channel": channel, "tier": tier_lowest()})
    return profile
