"""A Redis list in front of marketing.MemberView, so a signed-in member's product view
costs the page one LPUSH and no database write.

The same pattern as analytics' event buffer (marketing may not import analytics, which sits
above it): pages push, beat's fold (marketing.services.views.member_views_fold) pops in
batches and upserts; a batch whose write fails goes back to the list.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import cast

import redis
from django.conf import settings
from django.utils import timezone

BATCH = 2000
_clients: dict[str, redis.Redis] = {}


def _key() -> str:
    # The cache's prefix keeps the tests' buffer apart from a shop on the same Redis.
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:marketing:views"


def _client() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _clients[url]


def view_push(*, member_id: int, product_id: int, at: datetime | None = None) -> None:
    row = {"m": member_id, "p": product_id, "at": (at or timezone.now()).isoformat()}
    with contextlib.suppress(redis.RedisError):  # a segment's input must never break a page
        _client().lpush(_key(), json.dumps(row))


def views_pop(count: int = BATCH) -> list[dict]:
    raw = cast(list[bytes], _client().rpop(_key(), count) or [])
    return [json.loads(item) for item in raw]


def views_push_back(rows: list[dict]) -> None:
    """Put a popped batch back at the end it was popped from (oldest first next time)."""
    if rows:
        _client().rpush(_key(), *[json.dumps(row) for row in reversed(rows)])


def views_waiting() -> int:
    return int(_client().llen(_key()))
