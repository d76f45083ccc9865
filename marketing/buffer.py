"""The members' product views' buffer (o2o.buffer): a signed-in member's view costs the
page one LPUSH; beat's fold (marketing.services.views.member_views_fold) pops in batches
and upserts MemberView rows."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from o2o.buffer import BATCH, RedisBuffer

VIEWS = RedisBuffer("marketing:views")

__all__ = ["BATCH", "view_push", "views_pop", "views_push_back", "views_waiting"]


def view_push(*, member_id: int, product_id: int, at: datetime | None = None) -> None:
    VIEWS.push({"m": member_id, "p": product_id, "at": (at or timezone.now()).isoformat()})


def views_pop(count: int = BATCH) -> list[dict]:
    return VIEWS.pop(count)


def views_push_back(rows: list[dict]) -> None:
    VIEWS.push_back(rows)


def views_waiting() -> int:
    return VIEWS.waiting()
