"""The events' buffer (o2o.buffer): a page view costs one LPUSH; ``events_flush`` (Celery
beat, every few seconds) moves what was pushed into the Event table in bulk."""

from datetime import datetime

from django.utils import timezone

from o2o.buffer import BATCH, RedisBuffer

EVENTS = RedisBuffer("analytics:events")


def event_push(*, kind: str, user_id: int | None = None, session_key: str = "",
               product_id: int | None = None, store_id: int | None = None, channel: str = "",
               data: dict | None = None, at: datetime | None = None) -> None:
    EVENTS.push({"kind": kind, "user_id": user_id, "session_key": session_key or "",
                 "product_id": product_id, "store_id": store_id, "channel": channel,
                 "data": data or {}, "at": (at or timezone.now()).isoformat()})


def events_pop(count: int = BATCH) -> list[dict]:
    return EVENTS.pop(count)


def events_push_back(rows: list[dict]) -> None:
    EVENTS.push_back(rows)
