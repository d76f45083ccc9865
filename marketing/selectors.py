"""Marketing's shared reads: the member's inbox, and (below) what a campaign or journey
earned (attribution)."""

from __future__ import annotations

from members.models import User

from .models import InboxItem

INBOX_SHOWN = 50


def inbox_for(*, member: User, limit: int = INBOX_SHOWN) -> list[InboxItem]:
    return list(InboxItem.objects.filter(member=member).order_by("-created_at", "-id")[:limit])


def inbox_unread_count(*, member: User) -> int:
    return InboxItem.objects.filter(member=member, read_at__isnull=True).count()
