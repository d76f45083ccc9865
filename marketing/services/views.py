"""What signed-in members viewed, rolled up for the segments' ``viewed`` rule.

A product page's view reaches marketing through catalog.signals.product_viewed and costs
the request one LPUSH (marketing.buffer). Beat's fold pops the buffer in batches, adds the
views up per member and product in Python, and writes each batch with one
``INSERT ... SELECT FROM unnest(...) ON CONFLICT (member, product) DO UPDATE``: the count
grows, the first and last view times widen. Views of members or products deleted while
they waited, and views older than the kept window, are dropped. A batch whose write fails
goes back to the buffer whole (nothing counted twice: the transaction rolled back).

Bounded: rows whose last view is older than MARKETING_VIEWS_DAYS are pruned nightly, and
the rule looks back at most that far.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import Product
from members.models import User

from .. import buffer
from ..models import MemberView

PRUNE_BATCH = 10_000
BIGINT = 2**63


def views_kept_days() -> int:
    return int(settings.MARKETING_VIEWS_DAYS)


def _rolled_up(rows: Iterable[dict], *, since: datetime) -> dict[tuple[int, int], list]:
    """(member, product) -> [first, last, count] over the rows newer than ``since``."""
    found: dict[tuple[int, int], list] = {}
    for row in rows:
        try:
            key = (int(row["m"]), int(row["p"]))
            at = parse_datetime(row["at"])
        except (KeyError, TypeError, ValueError):
            key, at = (0, 0), None
        if at is None or not (0 < key[0] < BIGINT and 0 < key[1] < BIGINT):
            continue  # not a row this code wrote: dropped rather than blocking the fold
        if at < since:
            continue
        seen = found.get(key)
        if seen is None:
            found[key] = [at, at, 1]
        else:
            seen[0], seen[1], seen[2] = min(seen[0], at), max(seen[1], at), seen[2] + 1
    return found


def member_views_add(*, views: Iterable[tuple[int, int, datetime, datetime, int]]) -> int:
    """Add views (member id, product id, first, last, count) to the roll-up in one
    statement; pairs whose member or product is gone are left out. Returns the rows
    written. Runs in the caller's transaction (the fold's, the demo's)."""
    rows = sorted(views)  # one order for every writer: concurrent folds cannot deadlock
    if not rows:
        return 0
    table = MemberView._meta.db_table
    users, products = User._meta.db_table, Product._meta.db_table
    members, items, firsts, lasts, counts = (list(column) for column in zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {table} AS mv (member_id, product_id, first_viewed_at, last_viewed_at,
                                       views)
            SELECT v.member_id, v.product_id, v.first_at, v.last_at, v.n
            FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[],
                        %s::integer[]) AS v(member_id, product_id, first_at, last_at, n)
            WHERE EXISTS (SELECT 1 FROM {users} u WHERE u.id = v.member_id)
              AND EXISTS (SELECT 1 FROM {products} p WHERE p.id = v.product_id)
            ON CONFLICT (member_id, product_id) DO UPDATE SET
                views = mv.views + EXCLUDED.views,
                first_viewed_at = LEAST(mv.first_viewed_at, EXCLUDED.first_viewed_at),
                last_viewed_at = GREATEST(mv.last_viewed_at, EXCLUDED.last_viewed_at)""",
                       [members, items, firsts, lasts, counts])
        return cursor.rowcount


def member_views_fold(*, max_batches: int = 50, batch_size: int = buffer.BATCH,
                      now: datetime | None = None) -> int:
    """Move buffered views into the roll-up, a batch of views per transaction.
    Safe to run twice and by several workers at once (each pops its own views). Returns
    the views taken from the buffer (counted or dropped)."""
    since = (now or timezone.now()) - timedelta(days=views_kept_days())
    moved = 0
    for _ in range(max_batches):
        rows = buffer.views_pop(batch_size)
        if not rows:
            break
        try:
            with transaction.atomic():
                member_views_add(views=[(member, product, first, last, count)
                                        for (member, product), (first, last, count)
                                        in _rolled_up(rows, since=since).items()])
        except Exception:
            buffer.views_push_back(rows)
            raise
        moved += len(rows)
    return moved


def member_views_prune(*, now: datetime | None = None) -> int:
    """Delete the rows last viewed before the kept window, in batches. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=views_kept_days())
    pruned = 0
    while True:
        with transaction.atomic():
            ids = list(MemberView.objects.filter(last_viewed_at__lt=cutoff)
                       .values_list("pk", flat=True)[:PRUNE_BATCH])
            if not ids:
                return pruned
            # The condition again: a view folded in since the SELECT keeps its row.
            pruned += MemberView.objects.filter(pk__in=ids, last_viewed_at__lt=cutoff
                                                ).delete()[0]
