"""A Redis list in front of a table, so what a page records costs it one LPUSH and no
database write.

Pages push rows (JSON objects); a beat task pops them in batches and writes each batch in
bulk; a batch whose write fails is put back at the end it was popped from, so nothing is
lost to a database hiccup (a worker killed between the pop and the write loses that
batch: these are statistics, not orders). analytics keeps its events this way, marketing
the members' product views. The cache's key prefix keeps the tests' lists apart from a
shop's on the same Redis.
"""

from __future__ import annotations

import contextlib
import json
from typing import cast

import redis
from django.conf import settings

BATCH = 2000
_clients: dict[str, redis.Redis] = {}


def _client() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _clients[url]


class RedisBuffer:
    """The list ``name`` (e.g. "analytics:events")."""

    def __init__(self, name: str):
        self.name = name

    def _key(self) -> str:
        return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:{self.name}"

    def push(self, row: dict) -> None:
        """Add a row; never raises: what a page records must never break the page."""
        with contextlib.suppress(redis.RedisError):
            _client().lpush(self._key(), json.dumps(row))

    def pop(self, count: int = BATCH) -> list[dict]:
        """Up to ``count`` rows, oldest first."""
        raw = cast(list[bytes], _client().rpop(self._key(), count) or [])
        return [json.loads(item) for item in raw]

    def push_back(self, rows: list[dict]) -> None:
        """Put a popped batch back where it came from (oldest first next time)."""
        if rows:
            _client().rpush(self._key(), *[json.dumps(row) for row in reversed(rows)])

    def waiting(self) -> int:
        return int(_client().llen(self._key()))
