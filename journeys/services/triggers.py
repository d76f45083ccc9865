"""What enters members into journeys: the moments heard from the apps below (in the
moment's transaction), and the daily sweeps over what they left (birthdays,
anniversaries, lapsed buyers, pieces back in stock, members who joined by a path that
sent no signal)."""

from __future__ import annotations

import calendar
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from catalog.models import WishlistItem
from members.models import MemberProfile, User
from orders.models import Order, OrderLine
from stores.models import StockLevel

from ..models import GoldPriceAlert, Journey, JourneyEnrolment, Trigger
from .engine import enrol, enrol_many_sql, shop_today

log = logging.getLogger(__name__)

ALERTS_INLINE = 20  # alerts told in the rate's own transaction; the rest by the tick


def journeys_running(trigger: str) -> list[Journey]:
    return [j for j in Journey.objects.filter(trigger=trigger, is_enabled=True,
                                              current_version__isnull=False)
            if j.is_running()]


# --- Moments (called by journeys.receivers inside the moment's transaction) -----------


def member_joined(*, member: User, at: datetime | None = None) -> int:
    """A new member (web sign-up, counter registration, the API): the welcome journeys,
    their first steps run now so the gift is in the wallet at once."""
    at = at or timezone.now()
    entered = 0
    for journey in journeys_running(Trigger.SIGNUP):
        if enrol(journey=journey, member_id=member.pk, occasion="joined", now=at,
                 run_now=True):
            entered += 1
    return entered


def order_handed_over(*, order: Order, at: datetime) -> int:
    if order.member_id is None:
        return 0
    journeys = journeys_running(Trigger.HANDED_OVER)
    if not journeys:
        return 0
    variants = list(OrderLine.objects.filter(order=order).values_list("variant_id", flat=True))
    context = {"order_id": order.pk, "order_number": order.number,
               "variant_ids": [v for v in variants if v], "store_id": order.store_id}
    entered = 0
    for journey in journeys:
        if enrol(journey=journey, member_id=order.member_id, occasion=f"order:{order.pk}",
                 now=at, context=context):
            entered += 1
    return entered


def tryon_ended(*, appointment, outcome: str, at: datetime) -> int:
    from stores.models import Outcome

    if outcome != Outcome.NOT_BOUGHT or appointment.member_id is None:
        return 0
    from stores.models import AppointmentItem

    variant_ids = list(AppointmentItem.objects.filter(appointment=appointment)
                       .values_list("variant_id", flat=True))
    context = {"appointment_id": appointment.pk, "variant_ids": variant_ids,
               "store_id": appointment.store_id}
    entered = 0
    for journey in journeys_running(Trigger.TRYON_NOT_BOUGHT):
        if enrol(journey=journey, member_id=appointment.member_id,
                 occasion=f"tryon:{appointment.pk}", now=at, context=context):
            entered += 1
    return entered


# --- Gold price alerts ------------------------------------------------------------------


@dataclass(frozen=True)
class Fired:
    alert_id: int
    member_id: int
    target: Decimal


_FIRE_SQL = f"""
    UPDATE {GoldPriceAlert._meta.db_table} SET fired_at = %s, fired_rate = %s
    WHERE id IN (SELECT id FROM {GoldPriceAlert._meta.db_table}
                 WHERE fired_at IS NULL AND metal = %s AND purity = %s
                   AND target_per_gram >= %s
                 ORDER BY id FOR UPDATE SKIP LOCKED)
    RETURNING id, member_id, target_per_gram"""


def gold_alerts_fire(*, metal: str, purity: str, rate: Decimal,
                     now: datetime | None = None) -> int:
    """The day's rate of ``metal``/``purity`` is ``rate``: every waiting alert at or above
    it is marked told (once: the UPDATE's WHERE fired_at IS NULL) and its member entered
    in the gold price journey, in the caller's transaction. Nothing happens while no gold
    price journey runs (the alerts keep waiting). Returns how many were told."""
    journeys = journeys_running(Trigger.GOLD_PRICE)
    if not journeys:
        return 0
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_FIRE_SQL, [now, rate, metal, purity, rate])
        fired = [Fired(*row) for row in cursor.fetchall()]
    for index, alert in enumerate(fired):
        context = {"metal": metal, "purity": purity, "rate": str(rate),
                   "target": str(alert.target), "alert_id": alert.alert_id}
        for journey in journeys:
            enrol(journey=journey, member_id=alert.member_id, occasion=f"alert:{alert.alert_id}",
                  now=now, context=context, run_now=index < ALERTS_INLINE)
    if len(fired) > ALERTS_INLINE:
        from ..tasks import journeys_tick_task

        transaction.on_commit(lambda: journeys_tick_task.delay())
    return len(fired)


def gold_alerts_sweep(*, now: datetime) -> int:
    """The rates in force now against the waiting alerts (rates entered for later, and a
    safety net for the signal)."""
    from catalog.models import MetalRate

    told = 0
    pairs = set(GoldPriceAlert.objects.filter(fired_at__isnull=True)
                .values_list("metal", "purity").distinct())
    for metal, purity in sorted(pairs):
        rate = (MetalRate.objects.filter(metal=metal, purity=purity, valid_from__lte=now)
                .order_by("-valid_from").values_list("rate_per_gram", flat=True).first())
        if rate is None:
            continue
        with transaction.atomic():
            told += gold_alerts_fire(metal=metal, purity=purity, rate=rate, now=now)
    return told


# --- Daily sweeps: set-based entries -----------------------------------------------------


def _day_match(column: str, day: date) -> tuple[str, list]:
    sql = f"(EXTRACT(MONTH FROM {column}) = %s AND EXTRACT(DAY FROM {column}) = %s"
    params: list = [day.month, day.day]
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        sql += f" OR EXTRACT(MONTH FROM {column}) = 2 AND EXTRACT(DAY FROM {column}) = 29"
    return sql + ")", params


def _tier_filter(journey: Journey) -> tuple[str, list]:
    tier_ids = list(journey.tiers.values_list("pk", flat=True))
    if not tier_ids:
        return "", []
    return " AND p.tier_id = ANY(%s)", [tier_ids]


def dates_sweep(*, journey: Journey, now: datetime) -> int:
    """Birthday or anniversary journeys: members whose date is ``lead_days`` ahead (shop
    time), once per year: occasion "birthday-2026"."""
    column = "birthday" if journey.trigger == Trigger.BIRTHDAY else "anniversary"
    target = shop_today(now) + timedelta(days=journey.lead_days)
    match, params = _day_match(f"p.{column}", target)
    tiers, tier_params = _tier_filter(journey)
    select = f"""
        SELECT u.id, %s, %s::jsonb
        FROM {User._meta.db_table} u JOIN {MemberProfile._meta.db_table} p ON p.user_id = u.id
        WHERE u.is_active AND {match}{tiers}"""
    return enrol_many_sql(journey=journey, select_sql=select, now=now, due_at=now, params=[
        f"{column}-{target.year}", json.dumps({"year": target.year}), *params, *tier_params])


def winback_sweep(*, journey: Journey, now: datetime) -> int:
    """Members whose last purchase was 12 months ago or more, once per lapse (the
    occasion names their last order)."""
    cutoff = now - timedelta(days=365)
    tiers, tier_params = _tier_filter(journey)
    select = f"""
        SELECT last.member_id, 'lapsed:' || last.id,
               jsonb_build_object('last_order_id', last.id)
        FROM (SELECT DISTINCT ON (o.member_id) o.member_id, o.id, o.paid_at
              FROM {Order._meta.db_table} o
              WHERE o.member_id IS NOT NULL AND o.paid_at IS NOT NULL
              ORDER BY o.member_id, o.paid_at DESC, o.id DESC) last
        JOIN {User._meta.db_table} u ON u.id = last.member_id
        JOIN {MemberProfile._meta.db_table} p ON p.user_id = u.id
        WHERE u.is_active AND last.paid_at <= %s{tiers}"""
    return enrol_many_sql(journey=journey, select_sql=select, now=now, due_at=now,
                          params=[cutoff, *tier_params])


def back_in_stock_sweep(*, journey: Journey, now: datetime) -> int:
    """Wishlist pieces that arrived (stores' ``arrived_on``: stock from none to some) at
    the member's home store in the last two days and are free there now; once per
    arrival."""
    since = shop_today(now) - timedelta(days=1)
    from catalog.models import Variant

    select = f"""
        SELECT DISTINCT ON (w.user_id, v.product_id, s.store_id)
               w.user_id, 'stock:' || s.store_id || ':' || v.product_id || ':' || s.arrived_on,
               jsonb_build_object('product_id', v.product_id, 'store_id', s.store_id,
                                  'variant_ids', jsonb_build_array(v.id))
        FROM {WishlistItem._meta.db_table} w
        JOIN {User._meta.db_table} u ON u.id = w.user_id AND u.is_active
        JOIN {MemberProfile._meta.db_table} p ON p.user_id = w.user_id
        JOIN {Variant._meta.db_table} v ON v.product_id = w.product_id
        JOIN {StockLevel._meta.db_table} s ON s.variant_id = v.id AND s.store_id = p.home_store_id
        WHERE s.arrived_on >= %s AND s.on_hand - s.reserved > 0
        ORDER BY w.user_id, v.product_id, s.store_id, v.id"""
    return enrol_many_sql(journey=journey, select_sql=select, now=now, due_at=now,
                          params=[since])


def joined_sweep(*, journey: Journey, now: datetime) -> int:
    """The safety net of the welcome: members who joined in the last two days by a path
    that told nobody (an import, a future API) enter now."""
    select = f"""
        SELECT u.id, 'joined', '{{}}'::jsonb
        FROM {User._meta.db_table} u JOIN {MemberProfile._meta.db_table} p ON p.user_id = u.id
        WHERE u.is_active AND u.date_joined >= %s AND p.created_at >= %s"""
    return enrol_many_sql(journey=journey, select_sql=select, now=now, due_at=now,
                          params=[now - timedelta(days=2), journey.created_at])


SWEEPS: dict[str, Any] = {
    Trigger.BIRTHDAY: dates_sweep,
    Trigger.ANNIVERSARY: dates_sweep,
    Trigger.WINBACK: winback_sweep,
    Trigger.BACK_IN_STOCK: back_in_stock_sweep,
    Trigger.SIGNUP: joined_sweep,
}


def journeys_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Every running journey's daily entry, each in a transaction of its own; safe to run
    any number of times (ON CONFLICT DO NOTHING)."""
    now = now or timezone.now()
    entered: dict[str, int] = {}
    for journey in Journey.objects.filter(is_enabled=True, paused_reason="",
                                          current_version__isnull=False).order_by("pk"):
        sweep = SWEEPS.get(journey.trigger)
        if sweep is None:
            continue
        with transaction.atomic():
            entered[journey.key] = sweep(journey=journey, now=now)
    entered["gold_alerts"] = gold_alerts_sweep(now=now)
    return entered


def enrolments_waiting(journey: Journey) -> int:
    return JourneyEnrolment.objects.filter(journey=journey, status="active").count()
