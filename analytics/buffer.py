"""A Redis list in front of the Event table, so a page view costs one LPUSH.

Pages push; ``events_flush`` (Celery beat, every few seconds) moves what was
pushed into the database in bulk. If the insert fails the batch goes back to
the list, so nothing is lost to a database hiccup.
"""

import contextlib
import json
from datetime import datetime

import redis
from django.conf import settings
from django.utils import timezone

BATCH = 2000
_clients: dict[str, redis.Redis] = {}


def _key() -> str:
    # The cache's prefix keeps the tests' buffer apart from a shop on the same Redis.
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:analytics:events"


def _client() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _clients[url]


def event_push(*, kind: str, user_id: int | None = None, session_key: str = "",
               product_id: int | None = None, store_id: int | None = None, channel: str = "",
               data: dict | None = None, at: datetime | None = None) -> None:
    row = {"kind": kind, "user_id": user_id, "session_key": session_key or "",
           "product_id": product_id, "store_id": store_id, "channel": channel,
           "data": data or {}, "at": (at or timezone.now()).isoformat()}
    with contextlib.suppress(redis.RedisError):  # analytics must never break a page
        _client().lpush(_key(), json.dumps(row))


def events_pop(count: int = BATCH) -> list[dict]:
    raw = _client().rpop(_key(), count) or []
    return [json.loads(item) for item in raw]


def events_push_back(rows: list[dict]) -> None:
    if rows:
        _client().rpush(_key(), *[json.dumps(row) for row in reversed(rows)])
