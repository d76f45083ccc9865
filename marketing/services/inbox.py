"""The member's inbox: items are written by reach; reading marks them read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone

from members.models import User

from ..models import InboxItem


def inbox_mark_read(*, member: User, item_ids: Sequence[int], now: datetime | None = None) -> int:
    return (InboxItem.objects.filter(member=member, pk__in=list(item_ids), read_at__isnull=True)
            .update(read_at=now or timezone.now()))
