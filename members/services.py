from django.db import transaction

from .models import Channel, MemberProfile, User


@transaction.atomic
def member_profile_ensure(*, user: User, channel: str = Channel.ONLINE) -> MemberProfile:
    """The member's profile, created on first need (idempotent)."""
    profile, _ = MemberProfile.objects.get_or_create(user=user,
                                                     defaults={"registered_channel": channel})
    return profile
