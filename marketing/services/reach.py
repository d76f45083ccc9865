"""The one door to a member's inbox, email and phone: campaigns and journeys reach members
only through ``reach_member`` (one member) or ``reach_members`` (a batch, the same rules
in a few set-based statements: campaigns send 100,000 members this way).

What a reach does, inside the caller's transaction (a savepoint of it):

1. idempotent per (source, source_id, occasion, member): a Touch row exists already ->
   its outcome is returned and nothing is written (UNIQUE in the database too);
2. quiet hours (o2o.quiet_hours): nothing is written, ``not_before`` says when to try;
3. a transaction-scoped advisory lock per member (ascending ids, so two batches cannot
   deadlock): every source (campaigns, journeys) takes it before reading the member's
   cap, so two racing sources cannot both pass a cap of one message left; the Touch
   check (1.) is read under the lock;
4. holdout -> a Touch "holdout", nothing else; a closed account -> "inactive";
5. channels: email needs an address and an open email consent, sms a mobile number and
   an open sms consent (members' Consent, read now, not at launch); the inbox needs
   nothing. None left -> "no_consent" (or "no_contact" when there is no address at all);
6. the frequency cap (``capped``): at most MARKETING_CAP_MESSAGES sent reaches that
   count towards it in MARKETING_CAP_DAYS, across every source -> "capped";
7. the coupon, through members' coupon engine (``coupons_issue_for_occasion``:
   idempotent per definition + member + occasion); a definition that ended -> every
   member of the batch is skipped "coupon_ended";
8. one Touch row per member, the outbox rows (o2o.outbox, rendered by
   marketing.emails when they go) and the inbox items, all in the same transaction.

The texts are filled in at the reach, in the member's language (their own, else the
shop's default, else any given): placeholders {name}, {coupon_code}, {coupon_value},
{coupon_expires} and {link}. In an email {link} is a signed redirect that records the
click; an email carries an open pixel and a one-click unsubscribe link; a text message
ends with the opt-out words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from members.models import Consent, ConsentChannel, CouponDefinition, User
from members.selectors import coupon_describe
from members.services import CouponIssueRefused, IssuedCoupon, coupons_issue_for_occasion
from o2o.bulk import int_array, json_rows
from o2o.models import OutboxMessage
from o2o.outbox import OutboxItem, outbox_enqueue_many
from o2o.quiet_hours import Window, is_quiet, quiet_hours_next
from stores.tokens import absolute

from ..links import click_url, shop_path
from ..models import InboxItem, SkipReason, Touch, TouchOutcome

EMAIL = "email"
SMS = "sms"
INBOX = "inbox"
CHANNELS = (EMAIL, SMS, INBOX)

KIND_EMAIL = "marketing.reach.email"
KIND_SMS = "marketing.reach.sms"

# The first key of pg_advisory_xact_lock(int, int): "MKTG" (the second is the member).
LOCK_NAMESPACE = 0x4D4B5447 - 2**31
PLACEHOLDERS = re.compile(r"\{(name|coupon_code|coupon_value|coupon_expires|link)\}")


@dataclass(frozen=True)
class Content:
    """What a member is told, per channel and per language code ("zh-hans", "en").
    Placeholders in the texts: {name}, {coupon_code}, {coupon_value}, {coupon_expires}, {link}."""

    email_subject: Mapping[str, str] = field(default_factory=dict)
    email_body: Mapping[str, str] = field(default_factory=dict)
    sms: Mapping[str, str] = field(default_factory=dict)
    inbox_title: Mapping[str, str] = field(default_factory=dict)
    inbox_body: Mapping[str, str] = field(default_factory=dict)
    link: str = ""   # a path on the shop; emails carry it as a signed, tracked redirect

    def has(self, channel: str) -> bool:
        """Whether there is anything to say on ``channel`` (in any language)."""
        if channel == EMAIL:
            return any(v.strip() for v in self.email_subject.values()) and any(
                v.strip() for v in self.email_body.values())
        if channel == SMS:
            return any(v.strip() for v in self.sms.values())
        if channel == INBOX:
            return any(v.strip() for v in self.inbox_title.values())
        return False


@dataclass(frozen=True)
class Outcome:
    sent: bool                  # at least one channel written to the outbox / inbox
    reason: str                 # "" when sent, else a SkipReason value (no_consent, capped, no_contact, holdout, ...)
    not_before: datetime | None # quiet hours: nothing written, try again at this moment
    coupon_id: int | None
    touch_id: int | None


@dataclass(frozen=True)
class Cap:
    """At most ``messages`` sent reaches that count towards the cap in ``days``."""

    messages: int
    days: int


def cap_default() -> Cap:
    return Cap(messages=getattr(settings, "MARKETING_CAP_MESSAGES", 2),
               days=getattr(settings, "MARKETING_CAP_DAYS", 7))


def pick(texts: Mapping[str, str], language: str) -> str:
    """The text in ``language``, else in the shop's default language, else any given."""
    for code in (language, settings.LANGUAGE_CODE):
        text = (texts.get(code) or "").strip()
        if text:
            return text
    return next((t.strip() for t in texts.values() if t and t.strip()), "")


def fill(text: str, values: Mapping[str, str]) -> str:
    """The known placeholders replaced; any other brace is left as it is."""
    return PLACEHOLDERS.sub(lambda m: values.get(m.group(1), ""), text)


def coupon_occasion(*, source: str, source_id: int, occasion: str) -> str:
    """The coupon's occasion (at most 40 characters) for a reach."""
    text = f"{source}:{source_id}:{occasion}"
    if len(text) <= 40:
        return text
    return f"{source[:10]}:{hashlib.sha1(text.encode()).hexdigest()[:28]}"


def sms_opt_out_words(language: str) -> str:
    with translation.override(language):
        return _("Reply T to unsubscribe")


@dataclass
class _Touch:
    """A Touch row as the batch writes it (a campaign writes 100,000: no model instances)."""

    member_id: int
    outcome: str
    reason: str
    channels: str
    coupon_id: int | None
    pk: int | None = None


def _outcome(touch: _Touch) -> Outcome:
    return Outcome(sent=touch.outcome == TouchOutcome.SENT, reason=touch.reason,
                   not_before=None, coupon_id=touch.coupon_id, touch_id=touch.pk)


def _existing(*, source: str, source_id: int, occasion: str,
              member_ids: Sequence[int]) -> dict[int, Outcome]:
    """The members' Touch for this occasion, if any: one index probe per member (a
    lateral join whose LIMIT keeps the planner from turning it into a hash join over the
    whole occasion when the table's statistics are stale: no autovacuum has seen a
    campaign's 100,000 new rows yet), whatever the table's size."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT t.member_id, t.outcome, t.reason, t.channels, t.coupon_id, t.id
                FROM unnest(%s::bigint[]) AS m(id)
                CROSS JOIN LATERAL (
                    SELECT * FROM {Touch._meta.db_table}
                    WHERE source = %s AND source_id = %s AND occasion = %s
                      AND member_id = m.id
                    LIMIT 1) AS t""",
            [int_array(member_ids), source, source_id, occasion])
        rows = cursor.fetchall()
    return {row[0]: _outcome(_Touch(*row)) for row in rows}


def _lock_members(member_ids: Sequence[int]) -> None:
    """Transaction-scoped advisory locks, one per member, in ascending order."""
    if not member_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, m)) "
            "FROM (SELECT unnest(%s::int[]) AS m ORDER BY 1) AS ordered",
            [LOCK_NAMESPACE, int_array(sorted(member_ids))])


def _capped_members(member_ids: Sequence[int], *, cap: Cap, now: datetime) -> set[int]:
    if cap.messages <= 0:
        return set(member_ids)
    rows = (Touch.objects.filter(member_id__one_of=member_ids, outcome=TouchOutcome.SENT,
                                 capped=True, at__gt=now - timedelta(days=cap.days))
            .values("member_id").annotate(n=Count("pk")).filter(n__gte=cap.messages)
            .values_list("member_id", flat=True))
    return set(rows)


@dataclass
class _Member:
    pk: int
    name: str
    email: str
    phone: str
    language: str
    is_active: bool
    email_ok: bool
    sms_ok: bool


def _members(member_ids: Sequence[int]) -> dict[int, _Member]:
    """The members' contact details and open consents: two plain queries by id."""
    open_consents = set(Consent.objects.filter(member_id__one_of=member_ids,
                                               withdrawn_at__isnull=True)
                        .values_list("member_id", "channel"))
    rows = User.objects.filter(pk__one_of=member_ids).values_list(
        "pk", "name", "email", "phone", "language", "is_active")
    return {pk: _Member(pk, name or "", email or "", phone or "", language or "", active,
                        (pk, ConsentChannel.EMAIL) in open_consents,
                        (pk, ConsentChannel.SMS) in open_consents)
            for pk, name, email, phone, language, active in rows}


def _channels_for(member: _Member, channels: Sequence[str],
                  content: Content) -> tuple[list[str], str]:
    """The channels the member can be reached on now, or the reason there is none."""
    usable: list[str] = []
    lacked_consent = False
    for channel in channels:
        if not content.has(channel):
            continue
        if channel == EMAIL:
            if member.email and member.email_ok:
                usable.append(EMAIL)
            elif member.email:
                lacked_consent = True
        elif channel == SMS:
            if member.phone and member.sms_ok:
                usable.append(SMS)
            elif member.phone:
                lacked_consent = True
        elif channel == INBOX:
            usable.append(INBOX)
    if usable:
        return usable, ""
    return [], SkipReason.NO_CONSENT if lacked_consent else SkipReason.NO_CONTACT


class _Values:
    """The placeholders' values per member, the coupon's words cached per language."""

    def __init__(self, definition: CouponDefinition | None):
        self.definition = definition
        self._described: dict[str, str] = {}
        self._dates: dict[tuple[str, datetime], str] = {}

    def describe(self, language: str) -> str:
        if self.definition is None:
            return ""
        if language not in self._described:
            with translation.override(language):
                self._described[language] = coupon_describe(self.definition)
        return self._described[language]

    def for_member(self, member: _Member, coupon: IssuedCoupon | None, language: str,
                   link: str) -> dict[str, str]:
        expires = ""
        if coupon is not None and coupon.expires_at is not None:
            key = (language, coupon.expires_at)
            if key not in self._dates:
                with translation.override(language):
                    self._dates[key] = formats.date_format(
                        timezone.localtime(coupon.expires_at), "DATE_FORMAT")
            expires = self._dates[key]
        return {"name": member.name or _("member"), "coupon_code": coupon.code if coupon else "",
                "coupon_value": self.describe(language) if coupon else "",
                "coupon_expires": expires, "link": link}


def _language(member: _Member) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return member.language if member.language in codes else settings.LANGUAGE_CODE


def reach_members(*, member_ids: Iterable[int], source: str, source_id: int, occasion: str,
                  content: Content, channels: Sequence[str],
                  coupon_definition_id: int | None = None, capped: bool = True,
                  holdout_ids: Iterable[int] = (), now: datetime | None = None,
                  cap: Cap | None = None,
                  quiet_window: Window | None = None) -> dict[int, Outcome]:
    """``reach_member`` for many members at once (the same rules, a few statements for
    the whole batch); returns {member id: outcome}. A member id with no account left is
    left out of the answer. Keep batches to a few hundred members: each holds an
    advisory lock until the transaction ends. ``quiet_window`` (start, end), shop time:
    the sender's own quiet hours instead of the shop's (a campaign's send window)."""
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown channels {sorted(unknown)}")
    if not source or len(source) > 20 or len(occasion) > 60:
        raise ValueError("source (<= 20 characters) and occasion (<= 60) are required")
    now = now or timezone.now()
    cap = cap or cap_default()
    ids = sorted(set(member_ids))
    holdout = set(holdout_ids)
    if not ids:
        return {}
    with transaction.atomic():
        if is_quiet(now, quiet_window):
            answers = _existing(source=source, source_id=source_id, occasion=occasion,
                                member_ids=ids)
            later = quiet_hours_next(now, quiet_window)
            answers.update({m: Outcome(sent=False, reason=SkipReason.QUIET_HOURS, not_before=later,
                                       coupon_id=None, touch_id=None)
                            for m in ids if m not in answers})
            return answers
        _lock_members(ids)
        answers = _existing(source=source, source_id=source_id, occasion=occasion,
                            member_ids=ids)
        todo = [m for m in ids if m not in answers]
        if not todo:
            return answers
        members = _members(todo)
        full = _capped_members([m for m in todo if m not in holdout], cap=cap, now=now) \
            if capped else set()
        decided: dict[int, tuple[str, str, list[str]]] = {}  # outcome, reason, channels
        for member_id in todo:
            member = members.get(member_id)
            if member is None:
                continue  # erased meanwhile: nobody to write about
            if member_id in holdout:
                decided[member_id] = (TouchOutcome.HOLDOUT, SkipReason.HOLDOUT, [])
            elif not member.is_active:
                decided[member_id] = (TouchOutcome.SKIPPED, SkipReason.INACTIVE, [])
            else:
                usable, reason = _channels_for(member, channels, content)
                if reason:
                    decided[member_id] = (TouchOutcome.SKIPPED, reason, [])
                elif member_id in full:
                    decided[member_id] = (TouchOutcome.SKIPPED, SkipReason.CAPPED, [])
                else:
                    decided[member_id] = (TouchOutcome.SENT, "", usable)
        sending = [m for m, (outcome, _r, _c) in decided.items() if outcome == TouchOutcome.SENT]
        definition = None
        coupons: dict[int, IssuedCoupon] = {}
        if coupon_definition_id is not None and sending:
            definition = CouponDefinition.objects.get(pk=coupon_definition_id)
            try:
                coupons = coupons_issue_for_occasion(
                    definition=definition, member_ids=sending, now=now,
                    occasion=coupon_occasion(source=source, source_id=source_id,
                                             occasion=occasion))
            except CouponIssueRefused:
                for member_id in sending:
                    decided[member_id] = (TouchOutcome.SKIPPED, SkipReason.COUPON_ENDED, [])
                sending = []
        touches = _insert_touches([
            _Touch(member_id=member_id, outcome=outcome, reason=reason, channels=",".join(used),
                   coupon_id=coupons[member_id].pk if member_id in coupons else None)
            for member_id, (outcome, reason, used) in decided.items()],
            source=source, source_id=source_id, occasion=occasion, capped=capped, at=now)
        _write_messages([t for t in touches if t.outcome == TouchOutcome.SENT],
                        members=members, content=content, values=_Values(definition),
                        coupons=coupons, now=now)
        answers.update({touch.member_id: _outcome(touch) for touch in touches})
    return answers


def _insert_touches(touches: list[_Touch], *, source: str, source_id: int, occasion: str,
                    capped: bool, at: datetime) -> list[_Touch]:
    """One INSERT ... SELECT for the batch, its rows one JSON parameter (o2o.bulk); the
    rows get their ids."""
    if not touches:
        return touches
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Touch._meta.db_table} (source, source_id, occasion, member_id,
                                                   outcome, reason, channels, capped,
                                                   coupon_id, at)
                SELECT %s, %s, %s, t.member_id, t.outcome, t.reason, t.channels, %s,
                       t.coupon_id, %s
                FROM json_to_recordset(%s::json)
                     AS t(member_id bigint, outcome text, reason text, channels text,
                          coupon_id bigint)
                RETURNING id, member_id""",
            [source, source_id, occasion, capped, at,
             json_rows({"member_id": t.member_id, "outcome": t.outcome, "reason": t.reason,
                        "channels": t.channels, "coupon_id": t.coupon_id} for t in touches)])
        ids = {member_id: pk for pk, member_id in cursor.fetchall()}
    for touch in touches:
        touch.pk = ids[touch.member_id]
    return touches


def _insert_inbox(items: list[dict], *, at: datetime) -> None:
    """The inbox items ({member_id, touch_id, title, body, link}) in one INSERT."""
    if not items:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {InboxItem._meta.db_table} (member_id, touch_id, title, body, link,
                                                       created_at)
                SELECT i.member_id, i.touch_id, i.title, i.body, i.link, %s
                FROM json_to_recordset(%s::json)
                     AS i(member_id bigint, touch_id bigint, title text, body text, link text)""",
            [at, json_rows(items)])


def _write_messages(touches: list[_Touch], *, members: Mapping[int, _Member],
                    content: Content, values: _Values, coupons: Mapping[int, IssuedCoupon],
                    now: datetime) -> None:
    """The outbox rows and inbox items of the touches that were sent."""
    items: list[OutboxItem] = []
    inbox: list[dict] = []
    link = shop_path(content.link) if content.link else ""
    for touch in touches:
        member = members[touch.member_id]
        language = _language(member)
        coupon = coupons.get(touch.member_id)
        assert touch.pk is not None  # _insert_touches wrote it
        about = f"marketing.touch:{touch.pk}"
        used = touch.channels.split(",")
        if EMAIL in used:
            tracked = click_url(touch.pk, link or "/", language=language)
            filled = values.for_member(member, coupon, language, tracked)
            items.append(OutboxItem(
                channel=OutboxMessage.Channel.EMAIL, kind=KIND_EMAIL, recipient=member.email,
                dedupe_key=f"{about}:email", about=about, due_at=now,
                payload={"touch_id": touch.pk, "language": language,
                         "subject": fill(pick(content.email_subject, language), filled),
                         "body": fill(pick(content.email_body, language), filled),
                         "link": tracked if link else ""}))
        if SMS in used:
            filled = values.for_member(member, coupon, language,
                                       absolute(link) if link else "")
            text = fill(pick(content.sms, language), filled)
            items.append(OutboxItem(
                channel=OutboxMessage.Channel.SMS, kind=KIND_SMS, recipient=member.phone,
                dedupe_key=f"{about}:sms", about=about, due_at=now,
                payload={"touch_id": touch.pk, "language": language,
                         "text": f"{text} {sms_opt_out_words(language)}"}))
        if INBOX in used:
            filled = values.for_member(member, coupon, language, link)
            inbox.append({
                "member_id": touch.member_id, "touch_id": touch.pk, "link": link,
                "title": fill(pick(content.inbox_title, language), filled)[:120],
                "body": fill(pick(content.inbox_body, language), filled)})
    outbox_enqueue_many(items)
    _insert_inbox(inbox, at=now)


def reach_member(*, member_id: int, source: str, source_id: int, occasion: str,
                 content: Content, channels: Sequence[str],
                 coupon_definition_id: int | None = None, capped: bool = True,
                 holdout: bool = False, now: datetime | None = None,
                 cap: Cap | None = None) -> Outcome:
    """Runs inside the caller's transaction (atomic). Idempotent per (source, source_id,
    occasion, member): a second call returns the first outcome, writes nothing. Checks
    consent per channel at send time, the per-member frequency cap across every source
    (campaigns and journeys; lock per member so racing sources can't both pass), quiet hours
    (returns not_before, writes nothing); issues the coupon through members' coupon engine,
    writes the outbox rows and the inbox item and one Touch row (UNIQUE source, source_id,
    occasion, member) with the outcome and skip reason, all in the same transaction.

    ``cap`` stands in for the settings' cap (MARKETING_CAP_MESSAGES in
    MARKETING_CAP_DAYS). A member with no account answers "inactive" with no Touch."""
    answers = reach_members(member_ids=[member_id], source=source, source_id=source_id,
                            occasion=occasion, content=content, channels=channels,
                            coupon_definition_id=coupon_definition_id, capped=capped,
                            holdout_ids=[member_id] if holdout else [], now=now, cap=cap)
    return answers.get(member_id) or Outcome(sent=False, reason=SkipReason.INACTIVE,
                                             not_before=None, coupon_id=None, touch_id=None)
