"""The step engine: enter members (once per occasion) and run their due steps.

Exactly once, in the database:
- entering: ``INSERT ... ON CONFLICT (journey, member, occasion) DO NOTHING``; of two
  triggers at once, the second waits for the first to commit and inserts nothing;
- running: a batch of due enrolments is claimed with ``FOR UPDATE SKIP LOCKED`` in one
  transaction that also writes everything the steps do (the messages through
  marketing's reach, in this transaction, idempotent per (journey, step occasion,
  member): ``reach_members``, reach_member's batch form with the same rules) and the
  enrolments' new step and due time. Parallel ticks take disjoint batches; a killed
  worker's transaction rolls back whole, its rows are unlocked and the next tick runs
  them again, as if for the first time.

Queries per batch are fixed: the engine's own reads (claim, members, versions, journeys,
purchases, opens, places and pieces, one bulk update) and one reach per group of members
told the same thing (a built-in's step: one group per coupon; alerts and pieces: one per
text), each a few set-based statements.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import CouponDefinition
from orders.models import Order

from ..models import (
    Condition,
    CouponFrom,
    EnrolmentStatus,
    ExitReason,
    Journey,
    JourneyEnrolment,
    StepKind,
    Trigger,
    WaitUntil,
)

log = logging.getLogger(__name__)

SOURCE = "journey"
BATCH_SIZE = 500
MAX_STEPS_PER_RUN = 20  # a journey of only branches cannot spin forever
SEND_HOUR = 10  # a date-relative wait ends at 10:00 shop time
RETRY_AFTER = timedelta(minutes=10)  # a send that failed is tried again after this


def reach_members(**kwargs: Any) -> Any:
    """The same door for a batch of members told the same thing (a few set-based
    statements whatever the batch's size: the daily tick over 100,000 members)."""
    from marketing.services.reach import reach_members as reach

    return reach(**kwargs)


def reach_content(**kwargs: Any) -> Any:
    from marketing.services.reach import Content

    return Content(**kwargs)


def is_holdout(*, journey: Journey, member_id: int, occasion: str) -> bool:
    """Stable: the same member and occasion always land on the same side."""
    if journey.holdout_percent <= 0:
        return False
    digest = hashlib.sha256(f"{journey.pk}:{member_id}:{occasion}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < journey.holdout_percent


def shop_datetime(day: date, hour: int = SEND_HOUR) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def date_in_year(source: date, year: int) -> date:
    """The month and day of ``source`` in ``year``; 29 February is the 28th in a common year."""
    if source.month == 2 and source.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return source.replace(year=year)


# --- Entering -------------------------------------------------------------------------


_ENROL_SQL = f"""
    INSERT INTO {JourneyEnrolment._meta.db_table}
        (journey_id, version_id, member_id, occasion, status, exit_reason, step_index,
         due_at, holdout, context, messages_sent, entered_at)
    VALUES (%s, %s, %s, %s, 'active', '', 0, %s, %s, %s, 0, %s)
    ON CONFLICT (journey_id, member_id, occasion) DO NOTHING
    RETURNING id"""


def enrol(*, journey: Journey, member_id: int, occasion: str, now: datetime | None = None,
          due_at: datetime | None = None, context: dict | None = None,
          run_now: bool = False) -> JourneyEnrolment | None:
    """Enter ``member_id`` in ``journey`` for ``occasion``, in the caller's transaction.
    None when the journey is not running or the member was entered for this occasion
    already (by this call or a parallel one: the UNIQUE constraint decides). With
    ``run_now`` the steps due at once run in this transaction too (the welcome gift is in
    the wallet when the sign-up page answers)."""
    if not journey.is_running():
        return None
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_ENROL_SQL, [
            journey.pk, journey.current_version_id, member_id, occasion[:60], due_at or now,
            is_holdout(journey=journey, member_id=member_id, occasion=occasion),
            json.dumps(context or {}), now])
        row = cursor.fetchone()
    if row is None:
        return None
    enrolment = JourneyEnrolment.objects.select_related("journey", "version", "member",
                                                        "member__profile").get(pk=row[0])
    if run_now and enrolment.due_at is not None and enrolment.due_at <= now:
        Runner(now=now).run([enrolment])
    return enrolment


def enrol_many_sql(*, journey: Journey, select_sql: str, params: list, now: datetime,
                   due_at: datetime) -> int:
    """Set-based entry: ``select_sql`` yields (member_id, occasion, context json) rows;
    all are entered in one statement (ON CONFLICT DO NOTHING). Returns how many entered.
    Holdout members are picked by the same hash as ``is_holdout`` (in SQL)."""
    if not journey.is_running():
        return 0
    sql = f"""
        INSERT INTO {JourneyEnrolment._meta.db_table}
            (journey_id, version_id, member_id, occasion, status, exit_reason, step_index,
             due_at, holdout, context, messages_sent, entered_at)
        SELECT %s, %s, src.member_id, src.occasion, 'active', '', 0, %s,
               %s > 0 AND ('x' || substr(encode(sha256(convert_to(
                   %s || ':' || src.member_id || ':' || src.occasion, 'UTF8')), 'hex'), 1, 8)
               )::bit(32)::bigint %% 100 < %s,
               src.context, 0, %s
        FROM ({select_sql}) AS src (member_id, occasion, context)
        ON CONFLICT (journey_id, member_id, occasion) DO NOTHING"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [journey.pk, journey.current_version_id, due_at,
                             journey.holdout_percent, str(journey.pk), journey.holdout_percent,
                             now, *params])
        return cursor.rowcount


# --- Running --------------------------------------------------------------------------


@dataclass
class RunResult:
    claimed: int = 0
    sent: int = 0
    completed: int = 0
    exited: int = 0
    waiting: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


class Runner:
    """Runs a batch of locked enrolments: reads what the batch needs in fixed queries,
    then walks each enrolment's steps until it waits, leaves or completes."""

    def __init__(self, *, now: datetime):
        self.now = now
        self.result = RunResult()

    def run(self, enrolments: list[JourneyEnrolment]) -> RunResult:
        if not enrolments:
            return self.result
        self.result.claimed += len(enrolments)
        member_ids = [e.member_id for e in enrolments]
        journeys = {j.pk: j for j in Journey.objects.filter(
            pk__in={e.journey_id for e in enrolments}).prefetch_related("tiers")}
        self.tiers = {pk: {t.pk for t in j.tiers.all()} for pk, j in journeys.items()}
        self.last_paid = dict(
            Order.objects.filter(member_id__in=member_ids, paid_at__isnull=False)
            .values("member_id").annotate(last=Max("paid_at")).values_list("member_id", "last"))
        self.opened = self._opened([e.last_touch_id for e in enrolments if e.last_touch_id])
        self.definitions: dict[Any, CouponDefinition | None] = {}
        self.gifts: dict[int, list[int]] | None = None
        self._preload_context(enrolments)
        changed: list[JourneyEnrolment] = []
        for enrolment in enrolments:
            enrolment.journey = journeys[enrolment.journey_id]
            if enrolment.journey.paused_reason or not enrolment.journey.is_enabled:
                continue
            changed.append(enrolment)
        # Walk every enrolment to its next send; send them all, grouped (one reach per
        # journey step, occasion, coupon and text); walk on; until nobody has a send due.
        walking = changed
        for _round in range(MAX_STEPS_PER_RUN):
            sends = [(e, step) for e in walking if (step := self._walk(e)) is not None]
            if not sends:
                break
            walking = self._send_many(sends)
        enrolments_write(changed)
        return self.result

    def _preload_context(self, enrolments: list[JourneyEnrolment]) -> None:
        """Store codes and piece names the messages name (one query each per batch)."""
        from catalog.models import Variant
        from stores.models import Store

        store_ids = {e.context.get("store_id") for e in enrolments} - {None}
        variant_ids = {v for e in enrolments for v in e.context.get("variant_ids") or []}
        self.store_codes = dict(Store.objects.filter(pk__in=store_ids)
                                .values_list("pk", "code")) if store_ids else {}
        self.piece_names: dict[int, tuple[str, str]] = {}
        if variant_ids:
            for pk, zh, en in (Variant.objects.filter(pk__in=variant_ids)
                               .values_list("pk", "product__name", "product__name_en")):
                self.piece_names[pk] = (zh, en or zh)

    def personalise(self, enrolment: JourneyEnrolment, step: dict) -> dict[str, Any]:
        """The step's texts with the journey's own placeholders filled from the
        enrolment ({rate}, {target}, {metal}, {purity}, {pieces}, {order}); reach fills
        {name}, {coupon_*} and {link}. The link to the try-on booking carries the store
        and the pieces."""
        context = enrolment.context or {}
        variant_ids = [v for v in context.get("variant_ids") or [] if v in self.piece_names]

        def fill(texts: dict[str, str]) -> dict[str, str]:
            out = {}
            for language, text in texts.items():
                if not text:
                    continue
                names = [self.piece_names[v][0 if language == "zh-hans" else 1]
                         for v in variant_ids]
                values = {"{rate}": context.get("rate", ""), "{target}": context.get("target", ""),
                          "{metal}": metal_label(context.get("metal", ""), language),
                          "{purity}": context.get("purity", ""),
                          "{pieces}": ("、" if language == "zh-hans" else ", ").join(names),
                          "{order}": context.get("order_number", "")}
                for key, value in values.items():
                    text = text.replace(key, str(value))
                out[language] = text
            return out

        link = step.get("link") or ""
        if link.startswith("/try-on/book/") and context.get("store_id") in self.store_codes:
            query = [f"store={self.store_codes[context['store_id']]}"]
            query += [f"variant={v}" for v in variant_ids]
            link = f"{link}?{'&'.join(query)}"
        elif link.startswith("/products/") and context.get("product_id"):
            link = link
        return {"email_subject": fill(step["title"]), "email_body": fill(step["body"]),
                "sms": fill(step["sms"]), "inbox_title": fill(step["title"]),
                "inbox_body": fill(step["body"]), "link": link}

    def _opened(self, touch_ids: list[int]) -> set[int]:
        if not touch_ids:
            return set()
        try:
            from marketing.models import Touch
        except ImportError:  # before issue 15's pipeline: nothing is tracked
            return set()
        return set(Touch.objects.filter(pk__in=touch_ids, opened_at__isnull=False)
                   .values_list("pk", flat=True))

    # -- one enrolment --

    def _finish(self, enrolment: JourneyEnrolment, status: str, reason: str = "") -> None:
        enrolment.status = status
        enrolment.exit_reason = reason
        enrolment.due_at = None
        enrolment.finished_at = self.now
        if status == EnrolmentStatus.COMPLETED:
            self.result.completed += 1
        else:
            self.result.exited += 1

    def _still_qualifies(self, enrolment: JourneyEnrolment) -> str:
        """The journey's own condition, checked again before each step: the reason to
        leave, or ""."""
        member = enrolment.member
        journey = enrolment.journey
        if not member.is_active:
            return ExitReason.INACTIVE
        profile = getattr(member, "profile", None)
        tiers = self.tiers.get(journey.pk) or set()
        if tiers and (profile is None or profile.tier_id not in tiers):
            return ExitReason.TIER
        if journey.trigger in (Trigger.WINBACK, Trigger.TRYON_NOT_BOUGHT):
            last = self.last_paid.get(member.pk)
            if last is not None and last > enrolment.entered_at:
                return ExitReason.BOUGHT
        if journey.trigger == Trigger.BIRTHDAY and (profile is None or not profile.birthday):
            return ExitReason.DATE_GONE
        if journey.trigger == Trigger.ANNIVERSARY and (profile is None
                                                       or not profile.anniversary):
            return ExitReason.DATE_GONE
        return ""

    def _walk(self, enrolment: JourneyEnrolment) -> dict | None:
        """Run the enrolment's due waits and branches; the send step it stops at (due
        now), or None when it waits, left or completed."""
        steps: list[dict] = enrolment.version.steps
        for _i in range(MAX_STEPS_PER_RUN):
            if enrolment.status != EnrolmentStatus.ACTIVE:
                return None
            if enrolment.due_at is None or enrolment.due_at > self.now:
                self.result.waiting += 1
                return None
            reason = self._still_qualifies(enrolment)
            if reason:
                self._finish(enrolment, EnrolmentStatus.EXITED, reason)
                return None
            if enrolment.step_index >= len(steps):
                self._finish(enrolment, EnrolmentStatus.COMPLETED)
                return None
            step = steps[enrolment.step_index]
            if step["kind"] == StepKind.WAIT:
                enrolment.due_at = self._wait_end(enrolment, step)
                enrolment.step_index += 1
            elif step["kind"] == StepKind.BRANCH:
                if not self._condition(enrolment, step):
                    self._finish(enrolment, EnrolmentStatus.EXITED, ExitReason.CONDITION)
                    return None
                enrolment.step_index += 1
            elif step["kind"] == StepKind.SEND:
                return step
            else:
                enrolment.step_index += 1
        return None

    def _wait_end(self, enrolment: JourneyEnrolment, step: dict) -> datetime:
        start = enrolment.due_at or self.now
        until = step.get("wait_until") or WaitUntil.DAYS
        days = int(step.get("wait_days") or 0)
        if until == WaitUntil.DAYS:
            return start + timedelta(days=days)
        profile = getattr(enrolment.member, "profile", None)
        source = getattr(profile, until, None) if profile is not None else None
        if source is None:
            return start
        year = int(enrolment.context.get("year") or timezone.localtime(start).year)
        target = date_in_year(source, year) + timedelta(days=days)
        return max(start, shop_datetime(target))

    def _condition(self, enrolment: JourneyEnrolment, step: dict) -> bool:
        condition = step.get("condition")
        value = step.get("condition_value") or ""
        last = self.last_paid.get(enrolment.member_id)
        bought = last is not None and last > enrolment.entered_at
        if condition == Condition.BOUGHT_SINCE:
            return bought
        if condition == Condition.NOT_BOUGHT_SINCE:
            return not bought
        if condition == Condition.OPENED_LAST:
            return enrolment.last_touch_id in self.opened
        if condition == Condition.NOT_OPENED_LAST:
            return enrolment.last_touch_id not in self.opened
        if condition == Condition.TIER:
            profile = getattr(enrolment.member, "profile", None)
            tier = profile.tier if profile is not None and profile.tier_id else None
            return tier is not None and tier.code == value
        if condition == Condition.SEGMENT:
            return segment_has(segment_id=int(value or 0), member_id=enrolment.member_id)
        return True

    def _definitions_for(self, enrolment: JourneyEnrolment, step: dict) -> list[int | None] | None:
        """The coupon definitions this send gives (one message per definition; [None]
        for none), or None when the journey must pause (its coupon is gone)."""
        mode = step.get("coupon_from") or CouponFrom.NONE
        if mode == CouponFrom.NONE:
            return [None]
        if mode == CouponFrom.DEFINITION:
            pk = step.get("coupon_definition_id")
            if pk not in self.definitions:
                self.definitions[pk] = (CouponDefinition.objects.filter(pk=pk).first()
                                        if pk else None)
            definition = self.definitions[pk]
            if definition is None or not definition.is_active:
                journey_pause_for_coupon(journey=enrolment.journey)
                return None
            return [definition.pk]
        # The tier's own birthday gift(s), as the member's tier is today.
        profile = getattr(enrolment.member, "profile", None)
        if profile is None or profile.tier_id is None:
            return [None]
        if self.gifts is None:  # once per batch
            self.gifts = tier_birthday_gifts(now=self.now)
        gifts = self.gifts.get(profile.tier_id) or []
        return list(gifts) or [None]

    def _send_many(self, sends: list[tuple[JourneyEnrolment, dict]]) -> list[JourneyEnrolment]:
        """Send the due steps of ``sends`` through marketing's reach, one call per group of
        members told the same thing (journey, step occasion, coupon, text, channels);
        return the enrolments whose step is done (to walk on). An enrolment waits when its
        journey paused (coupon gone) or the reach says quiet hours (due_at moved)."""
        groups: dict[tuple, list[JourneyEnrolment]] = {}
        contents: dict[tuple, Any] = {}
        plans: dict[int, list[tuple]] = {}
        for enrolment, step in sends:
            definitions = self._definitions_for(enrolment, step)
            if definitions is None:
                continue  # paused: waits where it is
            content = self.personalise(enrolment, step)
            text = json.dumps(content, sort_keys=True, ensure_ascii=False)
            base = reach_occasion(enrolment)
            plans[enrolment.pk] = []
            for definition_id in definitions:
                occasion = base if len(definitions) == 1 else f"{base}:c{definition_id}"
                key = (enrolment.journey_id, occasion, definition_id,
                       tuple(step["channels"]), text)
                groups.setdefault(key, []).append(enrolment)
                contents[key] = content
                plans[enrolment.pk].append(key)
        outcomes: dict[tuple, dict[int, Any]] = {}
        for key, members in groups.items():
            journey_id, occasion, definition_id, channels, _text = key
            try:
                with transaction.atomic():  # a failing group leaves the others' sends intact
                    outcomes[key] = reach_members(
                        member_ids=[e.member_id for e in members], source=SOURCE,
                        source_id=journey_id, occasion=occasion,
                        content=reach_content(**contents[key]), channels=channels,
                        coupon_definition_id=definition_id, capped=True,
                        holdout_ids=[e.member_id for e in members if e.holdout], now=self.now)
            except Exception:  # the group waits a while and is tried again
                log.exception("journeys: reaching %s (%s) failed", occasion, journey_id)
                outcomes[key] = {}
        done: list[JourneyEnrolment] = []
        for enrolment, _step in sends:
            keys = plans.get(enrolment.pk)
            if keys is None:
                continue
            found = [outcomes[key].get(enrolment.member_id) for key in keys]
            answers = [answer for answer in found if answer is not None]
            if len(answers) < len(found):
                if all(outcomes[key] for key in keys):  # the member's account is gone
                    self._finish(enrolment, EnrolmentStatus.EXITED, ExitReason.INACTIVE)
                else:
                    enrolment.due_at = self.now + RETRY_AFTER
                continue
            later = [a.not_before for a in answers if a.not_before is not None]
            if later:
                enrolment.due_at = max(later)
                self.result.waiting += 1
                continue
            for answer in answers:
                if answer.touch_id is not None:
                    enrolment.last_touch_id = answer.touch_id
                if answer.sent:
                    enrolment.messages_sent += 1
                    self.result.sent += 1
                elif answer.reason:
                    skips = dict(enrolment.context.get("skipped") or {})
                    skips[answer.reason] = skips.get(answer.reason, 0) + 1
                    enrolment.context = {**enrolment.context, "skipped": skips}
                    self.result.skipped[answer.reason] = self.result.skipped.get(
                        answer.reason, 0) + 1
            enrolment.step_index += 1
            done.append(enrolment)
        return done


# Journeys whose members come in crowds (a day's birthdays, a day's hand-overs): their
# reach occasion names the step and the day it was due, the same for everyone that day, so
# a batch is one reach per coupon. (Two hand-overs of one member due the same day remind
# them once.) The others (alerts, wishlist arrivals, try-ons) name the enrolment's own
# occasion: each is a message of its own.
SHARED_OCCASION = {Trigger.SIGNUP, Trigger.BIRTHDAY, Trigger.ANNIVERSARY, Trigger.HANDED_OVER,
                   Trigger.WINBACK}


def reach_occasion(enrolment: JourneyEnrolment) -> str:
    """The occasion marketing's reach is idempotent on (with the journey and the member).
    Stable across retries: a step's due time moves only when nothing was written."""
    if enrolment.journey.trigger in SHARED_OCCASION and enrolment.due_at is not None:
        day = timezone.localtime(enrolment.due_at).date().isoformat()
        return f"s{enrolment.step_index}:{day}"
    return f"{enrolment.occasion}:s{enrolment.step_index}"[:56]


def metal_label(metal: str, language: str) -> str:
    from django.utils import translation

    from catalog.models import Metal

    if not metal:
        return ""
    with translation.override(language):
        return str(dict(Metal.choices).get(metal, metal))


def segment_has(*, segment_id: int, member_id: int) -> bool:
    try:
        from marketing.models import Segment
        from marketing.services.segments import segment_contains
    except ImportError:
        return False
    segment = Segment.objects.filter(pk=segment_id).first()
    return segment is not None and bool(segment_contains(segment, member_id))


def tier_birthday_gifts(*, now: datetime) -> dict[int, list[int]]:
    """Tier id -> the active birthday gift definitions of that tier (members' own rule:
    CouponDefinition.birthday_tiers)."""
    from members.selectors import coupon_definitions_active

    gifts: dict[int, list[int]] = {}
    rows = (coupon_definitions_active(now=now).filter(birthday_tiers__isnull=False)
            .values_list("birthday_tiers", "pk").order_by("pk"))
    for tier_id, pk in rows:
        gifts.setdefault(tier_id, []).append(pk)
    return gifts


def journey_pause_for_coupon(*, journey: Journey) -> None:
    from .versions import journey_pause

    if not journey.paused_reason:
        journey_pause(journey=journey, reason=_(
            "Its coupon was deleted or switched off: choose another coupon in its steps "
            "and save to resume."))
        log.warning("journeys: %s paused (coupon gone)", journey.key)


_WRITE_SQL = f"""
    UPDATE {JourneyEnrolment._meta.db_table} AS e SET
        status = v.status, exit_reason = v.exit_reason, step_index = v.step_index,
        due_at = v.due_at, context = v.context::jsonb, messages_sent = v.messages_sent,
        last_touch_id = v.last_touch_id, finished_at = v.finished_at,
        version_id = v.version_id
    FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::int[], %s::timestamptz[],
                %s::text[], %s::int[], %s::bigint[], %s::timestamptz[], %s::bigint[])
         AS v(id, status, exit_reason, step_index, due_at, context, messages_sent,
              last_touch_id, finished_at, version_id)
    WHERE e.id = v.id"""


def enrolments_write(enrolments: list[JourneyEnrolment]) -> None:
    """What a batch changed, in one statement (Django's bulk_update builds a CASE per row
    and field: most of a batch's time went there)."""
    if not enrolments:
        return
    with connection.cursor() as cursor:
        cursor.execute(_WRITE_SQL, [
            [e.pk for e in enrolments], [e.status for e in enrolments],
            [e.exit_reason for e in enrolments], [e.step_index for e in enrolments],
            [e.due_at for e in enrolments],
            [json.dumps(e.context or {}) for e in enrolments],
            [e.messages_sent for e in enrolments], [e.last_touch_id for e in enrolments],
            [e.finished_at for e in enrolments], [e.version_id for e in enrolments]])


_CLAIM_SQL = f"""
    SELECT e.id FROM {JourneyEnrolment._meta.db_table} e
    JOIN {Journey._meta.db_table} j ON j.id = e.journey_id
    WHERE e.status = 'active' AND e.due_at <= %s AND j.is_enabled AND j.paused_reason = ''
    ORDER BY e.due_at, e.id LIMIT %s
    FOR UPDATE OF e SKIP LOCKED"""


def enrolments_run_batch(*, now: datetime | None = None, batch_size: int = BATCH_SIZE,
                         journey_ids: Iterable[int] | None = None,
                         durable: bool = True) -> RunResult:
    """One batch, one transaction (the outermost, unless ``durable=False``: the demo
    loader's one transaction): claim due enrolments (SKIP LOCKED), run their steps,
    write what changed."""
    now = now or timezone.now()
    with transaction.atomic(durable=durable):
        sql = _CLAIM_SQL
        params: list[Any] = [now, batch_size]
        if journey_ids is not None:
            sql = sql.replace("AND j.is_enabled", "AND j.id = ANY(%s) AND j.is_enabled")
            params = [now, list(journey_ids), batch_size]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return RunResult()
        enrolments = list(JourneyEnrolment.objects.filter(pk__in=ids)
                          .select_related("member", "member__profile", "version")
                          .order_by("due_at", "pk"))
        return Runner(now=now).run(enrolments)


def shop_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now()).date()
