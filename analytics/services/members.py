"""Members' rollups computed at night: tier moves month by month (members' own rule,
members.services.tiers, applied at each month's end) and where members live."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from members.models import MemberProfile, Tier
from members.services.tiers import spend_by_member, tier_for_spend

from ..models import TierState
from .rollups import _lock, shop_today, shop_zone

BATCH = 5000


def _month_end(month: date) -> datetime:
    """The last moment of ``month`` (its first day given), shop time."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(following, time.min, tzinfo=shop_zone()) - timedelta(microseconds=1)


def _months_from(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def tiers_at(moment: datetime, tiers: list[Tier]) -> dict[int, int | None]:
    """Each member's tier at ``moment``, by the spend rule of members.services.tiers."""
    ids = list(MemberProfile.objects.order_by("user_id").values_list("user_id", flat=True))
    out: dict[int, int | None] = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        spends = spend_by_member(chunk, now=moment)
        for member_id in chunk:
            tier = tier_for_spend(spends.get(member_id, Decimal("0.00")), tiers)
            out[member_id] = tier.pk if tier else None
    return out


def tier_moves_fold(*, now: datetime | None = None, back_to: date | None = None) -> int:
    """Fold every month that has ended and is not folded yet: each member's tier at the
    month's end against the month before, the moves counted by store. The first run
    starts from ``back_to`` (default: last month) with the month before as its base.
    Safe to run twice (one transaction per month, under its lock). Returns the months."""
    now = now or timezone.now()
    last_done = shop_today(now).replace(day=1) - timedelta(days=1)
    last_month = last_done.replace(day=1)
    folded = TierState.objects.order_by("-month").values_list("month", flat=True).first()
    if folded is None:
        start = back_to.replace(day=1) if back_to else last_month
    else:
        start = (folded.replace(day=28) + timedelta(days=4)).replace(day=1)
    tiers = list(Tier.objects.order_by("min_spend"))
    months = 0
    for month in _months_from(start, last_month):
        with transaction.atomic(), connection.cursor() as cursor:
            _lock(cursor, [f"analytics.tiers:{month.isoformat()}"])
            if TierState.objects.filter(month__gte=month).exists():
                continue  # another worker folded it meanwhile
            before = dict(TierState.objects.values_list("member_id", "tier_id"))
            if not before:
                previous = (month - timedelta(days=1)).replace(day=1)
                before = tiers_at(_month_end(previous), tiers)
            after = tiers_at(_month_end(month), tiers)
            stores = dict(MemberProfile.objects.values_list("user_id", "home_store_id"))
            joined = dict(MemberProfile.objects.values_list("user_id", "registered_store_id"))
            moves = Counter((stores.get(m) or joined.get(m), before.get(m), t)
                            for m, t in after.items() if before.get(m) != t)
            cursor.execute("DELETE FROM analytics_tiermove WHERE month = %s", [month])
            if moves:
                rows = list(moves.items())
                cursor.execute(
                    "INSERT INTO analytics_tiermove (month, store_id, from_tier_id, to_tier_id, "
                    "members) SELECT %s, * FROM unnest(%s::bigint[], %s::bigint[], "
                    "%s::bigint[], %s::int[])",
                    [month, [k[0] for k, _n in rows], [k[1] for k, _n in rows],
                     [k[2] for k, _n in rows], [n for _k, n in rows]])
            cursor.execute("TRUNCATE analytics_tierstate")
            cursor.execute("INSERT INTO analytics_tierstate (member_id, tier_id, month) "
                           "SELECT * FROM unnest(%s::bigint[], %s::bigint[]), "
                           "(SELECT %s::date) m",
                           [list(after), list(after.values()), month])
            months += 1
    return months


PLACES_SQL = """
INSERT INTO analytics_placecell (city, district, store_id, members, buyers, as_of)
SELECT COALESCE(NULLIF(TRIM(COALESCE(a.city, d.city)), ''), '') AS city,
       COALESCE(NULLIF(TRIM(COALESCE(a.district, d.district)), ''), '') AS district,
       COALESCE(m.home_store_id, m.registered_store_id) AS store_id,
       COUNT(*)::int,
       COUNT(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM analytics_orderfact f
            WHERE f.member_id = m.user_id AND f.paid_on >= %(since)s))::int,
       %(today)s
  FROM members_memberprofile m
  LEFT JOIN LATERAL (SELECT ad.city, ad.district FROM members_address ad
                      WHERE ad.member_id = m.user_id
                      ORDER BY ad.is_default DESC, ad.created_at DESC LIMIT 1) a ON TRUE
  LEFT JOIN LATERAL (SELECT o.address->>'city' AS city, o.address->>'district' AS district
                       FROM orders_order o
                      WHERE o.member_id = m.user_id AND o.fulfilment = 'delivery'
                        AND a.city IS NULL
                      ORDER BY o.placed_at DESC LIMIT 1) d ON TRUE
 GROUP BY 1, 2, 3
"""


def places_rebuild(*, now: datetime | None = None) -> int:
    """Count members by city, district and store again (nightly). Returns the cells."""
    today = shop_today(now)
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, ["analytics.places"])
        cursor.execute("DELETE FROM analytics_placecell")
        cursor.execute(PLACES_SQL, {"since": today - timedelta(days=365), "today": today})
        return cursor.rowcount

