"""Writers of analytics.Event: one event now, or the Redis buffer moved in bulk."""

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from members.models import User

from .. import buffer
from ..models import Event
from .rollups import orders_mark_dirty


def event_record(*, kind: str, user=None, session_key: str = "", product_id: int | None = None,
                 store_id: int | None = None, channel: str = "", data: dict | None = None) -> Event:
    """Append one event now. The one direct writer of analytics.Event."""
    return Event.objects.create(
        kind=kind,
        user=user if user is not None and user.is_authenticated else None,
        session_key=session_key or "",
        product_id=product_id,
        store_id=store_id,
        channel=channel,
        at=timezone.now(),
        data=data or {},
    )


def _users_still_there(rows: list[dict]) -> set[int]:
    """The buffered events' members that still exist: one who erased their account while
    their events waited in Redis must not make the batch fail for ever (the event is
    kept without the person, and without the session key that would tie it to their
    other events: as analytics.privacy erases them)."""
    ids = {row["user_id"] for row in rows if row.get("user_id")}
    return set(User.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()


def _event_from_buffer(row: dict, users: set[int]) -> Event:
    gone = bool(row["user_id"]) and row["user_id"] not in users
    return Event(kind=row["kind"], user_id=None if gone else row["user_id"],
                 session_key="" if gone else row["session_key"], product_id=row["product_id"],
                 store_id=row["store_id"], channel=row["channel"], data=row["data"],
                 at=parse_datetime(row["at"]))


def _placed_devices(rows: list[dict]) -> None:
    """The device each order was placed from (its "shop.placed" event), for the funnel:
    recorded with the events, and the order marked for the fold to pick it up."""
    placed = {row["data"]["order_id"]: row["data"].get("device", "") for row in rows
              if row["kind"] == "shop.placed" and row.get("data", {}).get("order_id")}
    if not placed:
        return
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO analytics_orderdevice (order_id, device)
            SELECT o.id, d.device FROM unnest(%s::bigint[], %s::text[]) AS d(order_id, device)
              JOIN orders_order o ON o.id = d.order_id
            ON CONFLICT (order_id) DO UPDATE SET device = EXCLUDED.device""",
                       [list(placed), list(placed.values())])
    orders_mark_dirty(order_ids=placed)


def events_flush(*, max_batches: int = 50) -> int:
    """Move buffered events (analytics.buffer) into the table in bulk. Safe to run twice."""
    moved = 0
    for _ in range(max_batches):
        rows = buffer.events_pop()
        if not rows:
            break
        try:
            with transaction.atomic():
                users = _users_still_there(rows)
                Event.objects.bulk_create(_event_from_buffer(row, users) for row in rows)
                _placed_devices(rows)
        except Exception:
            buffer.events_push_back(rows)
            raise
        moved += len(rows)
    return moved
