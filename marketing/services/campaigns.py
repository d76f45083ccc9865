"""Campaigns: a segment, an optional coupon, a message per channel and language, sent
once to each member of the audience frozen at launch.

Life cycle (CAMPAIGNS): draft -> scheduled -> sending -> sent, with pause / resume while
sending and cancel before it is sent. Every move is one service (o2o.transitions).

Sending, exactly once per member, whatever dies when:

- launch (beat, when ``scheduled_at`` is due): one INSERT ... SELECT freezes the
  segment into CampaignRecipient rows (UNIQUE campaign + member) and draws the holdout
  (an exact share, ordered by a hash of a seed drawn at launch: fixed in the rows);
- a sender claims up to ``batch_size`` pending rows with ``FOR UPDATE SKIP LOCKED`` and,
  in the same transaction, reaches them (marketing.services.reach: the coupon, the
  outbox rows, the inbox items, the Touch rows) and marks them done. A worker killed
  at any point rolls the whole batch back (nothing issued, nothing queued) and its row
  locks go with its connection, so the next sender takes the same rows; a batch that
  committed is done. Two senders never hold the same row. The reach is idempotent too
  (UNIQUE Touch), a second line of defence;
- the outbox hands each message to the provider at least once, deduplicated by its
  Message-ID / provider reference (o2o.outbox);
- quiet hours: the reach writes nothing and says when they end; the campaign waits
  (``not_before``) and beat goes on after that.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import CouponDefinition, User
from o2o.bulk import int_array
from o2o.errors import ApplicationError
from o2o.models import OutboxMessage
from o2o.outbox import outbox_enqueue
from o2o.transitions import Lifecycle, TransitionNotAllowed

from ..events import campaign_event
from ..models import Campaign, CampaignEventKind, CampaignRecipient, CampaignStatus
from .reach import CHANNELS, SMS, Content, fill, pick, reach_members, sms_opt_out_words
from .segments import SegmentInvalid, segment_count, segment_member_ids

log = logging.getLogger(__name__)

S = CampaignStatus
CAMPAIGN_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.DRAFT, S.SENDING, S.CANCELLED}),
    S.SENDING: frozenset({S.PAUSED, S.SENT, S.CANCELLED}),
    S.PAUSED: frozenset({S.SENDING, S.CANCELLED}),
    S.SENT: frozenset(),
    S.CANCELLED: frozenset(),
}

BATCH_SIZE = 500
KIND_TEST = "marketing.test.email"
# Longest values a placeholder is expected to take in a text message (the length check).
SMS_SAMPLE = {"name": "王" * 4, "coupon_code": "X" * 12, "coupon_value": "满2000减200" + "元" * 4,
              "coupon_expires": "2026年12月31日", "link": "https://example.com/products/"}


class CampaignRefused(TransitionNotAllowed):
    code = "campaign_refused"


class CampaignInvalid(ApplicationError):
    code = "campaign_invalid"


def _refused(campaign: Campaign, to) -> CampaignRefused:
    return CampaignRefused(
        _("“%(name)s” is %(status)s: it cannot be %(to)s now.")
        % {"name": campaign.name, "status": campaign.get_status_display(),
           "to": CampaignStatus(to).label}, code="campaign_state")


CAMPAIGNS: Lifecycle[Campaign] = Lifecycle(model=Campaign, table=CAMPAIGN_TRANSITIONS,
                                           refused=_refused)


def campaign_content(campaign: Campaign) -> Content:
    return Content(email_subject=campaign.email_subject, email_body=campaign.email_body,
                   sms=campaign.sms_text, inbox_title=campaign.inbox_title,
                   inbox_body=campaign.inbox_body, link=campaign.link)


def sms_max_chars() -> int:
    return getattr(settings, "MARKETING_SMS_MAX_CHARS", 134)


def campaign_problems(campaign: Campaign, *, now: datetime | None = None,
                      check_audience: bool = True) -> list[str]:
    """What keeps the campaign from being scheduled, in words (empty: nothing)."""
    now = now or timezone.now()
    problems: list[str] = []
    content = campaign_content(campaign)
    channels = campaign.channels
    if not channels:
        problems.append(_("Choose at least one channel."))
    names = {"email": _("email"), "sms": _("text message"), "inbox": _("inbox")}
    for channel in channels:
        if not content.has(channel):
            problems.append(_("The %(channel)s has no text.") % {"channel": names[channel]})
    if campaign.send_sms:
        longest = max(((code, text) for code, text in campaign.sms_text.items() if text),
                      key=lambda pair: len(fill(pair[1], SMS_SAMPLE)), default=None)
        if longest is not None:
            code, text = longest
            length = len(fill(text, SMS_SAMPLE)) + 1 + len(sms_opt_out_words(code))
            if length > sms_max_chars():
                problems.append(
                    _("The text message is too long: about %(length)s characters with the "
                      "coupon code and the opt-out words; at most %(limit)s.")
                    % {"length": length, "limit": sms_max_chars()})
    definition = campaign.coupon_definition
    send_at = campaign.scheduled_at or now
    if definition is not None:
        if not definition.is_active:
            problems.append(_("The coupon “%(name)s” is not active.") % {"name": definition.name})
        elif definition.valid_until is not None and definition.valid_until <= send_at:
            problems.append(_("The coupon “%(name)s” ends before the campaign is sent.")
                            % {"name": definition.name})
    if (campaign.quiet_from is None) != (campaign.quiet_until is None):
        problems.append(_("Give the quiet hours a start and an end, or leave both empty for "
                          "the shop's."))
    elif campaign.quiet_from is not None and campaign.quiet_from == campaign.quiet_until:
        problems.append(_("The quiet hours start and end at the same time: give them a "
                          "length, or leave both empty for the shop's."))
    if campaign.scheduled_at is not None and campaign.scheduled_at < now - timedelta(minutes=1):
        problems.append(_("The send time is in the past: choose a later time, or send now."))
    if check_audience:
        try:
            if segment_count(campaign.segment, now=now) == 0:
                problems.append(_("The segment “%(name)s” has no members.")
                                % {"name": campaign.segment.name})
        except SegmentInvalid as exc:
            problems.append(str(exc.message))
    return problems


@transaction.atomic
def campaign_create(*, actor: User | None, **fields) -> Campaign:
    """A new draft."""
    campaign = Campaign.objects.create(created_by=actor, status=S.DRAFT, **fields)
    campaign_event(campaign=campaign, kind=CampaignEventKind.CREATED, actor=actor)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, actor: User | None, **fields) -> Campaign:
    """Change a draft's fields. A campaign past its draft cannot be edited (pause or
    cancel it instead): CampaignRefused."""
    locked = CAMPAIGNS.lock(campaign)
    if locked.status != S.DRAFT:
        raise CampaignRefused(
            _("“%(name)s” is %(status)s: only a draft can be edited.")
            % {"name": locked.name, "status": locked.get_status_display()},
            code="campaign_not_draft")
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save()
    campaign_event(campaign=locked, kind=CampaignEventKind.EDITED, actor=actor)
    return locked


@transaction.atomic
def campaign_schedule(*, campaign: Campaign, actor: User | None,
                      send_at: datetime | None = None, now: datetime | None = None) -> Campaign:
    """draft -> scheduled, for ``send_at`` (None: now). Refused with every problem in
    words (CampaignInvalid) when something is missing or wrong."""
    now = now or timezone.now()
    locked = CAMPAIGNS.lock(campaign)
    CAMPAIGNS.check(locked, S.SCHEDULED)
    locked.scheduled_at = send_at or now
    problems = campaign_problems(locked, now=now)
    if problems:
        raise CampaignInvalid(" ".join(problems), code="campaign_invalid",
                              extra={"problems": problems})
    CAMPAIGNS.move(locked, S.SCHEDULED, fields={"scheduled_at": locked.scheduled_at,
                                                "note": ""},
                   audit=lambda _previous: campaign_event(
                       campaign=locked, kind=CampaignEventKind.SCHEDULED, actor=actor,
                       note=timezone.localtime(locked.scheduled_at).strftime("%Y-%m-%d %H:%M")))
    if locked.scheduled_at <= now:
        transaction.on_commit(_tick_soon, robust=True)
    return locked


def _tick_soon() -> None:
    from ..tasks import campaigns_tick_task

    campaigns_tick_task.delay()


def _simple_move(campaign: Campaign, to: str, *, kind: CampaignEventKind,
                 actor: User | None, **fields) -> Campaign:
    with transaction.atomic():
        locked = CAMPAIGNS.lock(campaign)
        CAMPAIGNS.move(locked, to, fields=fields, audit=lambda _previous: campaign_event(
            campaign=locked, kind=kind, actor=actor))
        return locked


def campaign_unschedule(*, campaign: Campaign, actor: User | None) -> Campaign:
    return _simple_move(campaign, S.DRAFT, kind=CampaignEventKind.UNSCHEDULED, actor=actor)


def campaign_pause(*, campaign: Campaign, actor: User | None) -> Campaign:
    return _simple_move(campaign, S.PAUSED, kind=CampaignEventKind.PAUSED, actor=actor)


def campaign_resume(*, campaign: Campaign, actor: User | None) -> Campaign:
    with transaction.atomic():
        campaign = _simple_move(campaign, S.SENDING, kind=CampaignEventKind.RESUMED,
                                actor=actor, note="")
        transaction.on_commit(_tick_soon, robust=True)
    return campaign


def campaign_cancel(*, campaign: Campaign, actor: User | None,
                    now: datetime | None = None) -> Campaign:
    """Before it is sent: nobody else is reached (rows already sent stay sent)."""
    return _simple_move(campaign, S.CANCELLED, kind=CampaignEventKind.CANCELLED, actor=actor,
                        finished_at=now or timezone.now())


def _freeze_sql(campaign: Campaign, now: datetime) -> tuple[str, list]:
    member_sql, member_params = segment_member_ids(campaign.segment, now=now) \
        .query.sql_with_params()
    table = CampaignRecipient._meta.db_table
    sql = f"""
        INSERT INTO {table} (campaign_id, member_id, holdout)
        SELECT %s, s.id, row_number() OVER (ORDER BY md5(%s::text || s.id::text), s.id)
                         <= ceil(count(*) OVER () * %s / 100.0)
        FROM ({member_sql}) AS s(id)
        ORDER BY s.id
        ON CONFLICT (campaign_id, member_id) DO NOTHING"""
    seed = secrets.token_hex(8)
    return sql, [campaign.pk, seed, campaign.holdout_percent, *member_params]


def campaign_launch(*, campaign: Campaign, now: datetime | None = None,
                    durable: bool = True) -> Campaign:
    """scheduled -> sending: the audience frozen (one row per member, the holdout drawn).
    A coupon that ended meanwhile pauses the campaign with the reason instead (nothing
    sent). Safe to run twice: the second finds it sending. ``durable=False`` only for a
    caller that owns a longer transaction on purpose (the demo loader)."""
    now = now or timezone.now()
    with transaction.atomic(durable=durable):
        locked = CAMPAIGNS.lock(campaign)
        if locked.status != S.SCHEDULED:
            return locked
        definition = (CouponDefinition.objects.filter(pk=locked.coupon_definition_id).first()
                      if locked.coupon_definition_id else None)
        if definition is not None and (not definition.is_active or (
                definition.valid_until is not None and definition.valid_until <= now)):
            note = (_("Paused before sending: the coupon “%(name)s” can no longer be issued. "
                      "Cancel the campaign and make a new one with another coupon.")
                    % {"name": definition.name})
            CAMPAIGNS.move(locked, S.SENDING, fields={"launched_at": now})
            CAMPAIGNS.move(locked, S.PAUSED, fields={"note": note}, audit=lambda _p: (
                campaign_event(campaign=locked, kind=CampaignEventKind.PAUSED, note=note)))
            return locked
        sql, params = _freeze_sql(locked, now)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            # The table just grew by the whole audience: without fresh statistics the
            # senders' claim is planned for a handful of rows and sorts every pending
            # recipient each batch (97 ms instead of 1 ms at 100,000).
            cursor.execute(f"ANALYZE {CampaignRecipient._meta.db_table}")
        rows = CampaignRecipient.objects.filter(campaign=locked)
        audience = rows.count()
        held = rows.filter(holdout=True).count()
        CAMPAIGNS.move(locked, S.SENDING, fields={"launched_at": now, "audience_size": audience,
                                                  "holdout_size": held},
                       audit=lambda _p: campaign_event(
                           campaign=locked, kind=CampaignEventKind.LAUNCHED, at=now,
                           note=f"{audience} / {held}"))
    log.info("campaign %s launched: %s members, %s held out", locked.pk, audience, held)
    return locked


def _claim_sql(limit: int) -> str:
    table = CampaignRecipient._meta.db_table
    return f"""
        SELECT id, member_id, holdout FROM {table}
        WHERE campaign_id = %s AND done_at IS NULL
        ORDER BY id LIMIT {int(limit)}
        FOR UPDATE SKIP LOCKED"""


def _mark_done_sql() -> str:
    table = CampaignRecipient._meta.db_table
    return f"""
        UPDATE {table} AS r SET done_at = %s, touch_id = d.touch_id
        FROM unnest(%s::bigint[], %s::bigint[]) AS d(id, touch_id)
        WHERE r.id = d.id"""


def batch_size_default() -> int:
    return getattr(settings, "MARKETING_BATCH_SIZE", BATCH_SIZE)


def campaign_send_batch(*, campaign_id: int, batch_size: int | None = None,
                        now: datetime | None = None, durable: bool = True) -> int:
    """Claim up to ``batch_size`` pending recipients (SKIP LOCKED), reach them and mark
    them done, all in one transaction. Returns how many were done; 0 when none was left
    for this sender, the campaign is not sending, or it waits for the quiet hours'
    end. ``durable`` as for campaign_launch."""
    now = now or timezone.now()
    batch_size = batch_size or batch_size_default()
    with transaction.atomic(durable=durable):
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is None or campaign.status != S.SENDING:
            return 0
        if campaign.not_before is not None and campaign.not_before > now:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(_claim_sql(batch_size), [campaign.pk])
            claimed = cursor.fetchall()
        if not claimed:
            return 0
        outcomes = reach_members(
            member_ids=[member_id for _id, member_id, _h in claimed], source="campaign",
            source_id=campaign.pk, occasion="", content=campaign_content(campaign),
            channels=campaign.channels, coupon_definition_id=campaign.coupon_definition_id,
            capped=campaign.capped, holdout_ids=[m for _id, m, held in claimed if held],
            now=now, quiet_window=campaign.quiet_window)
        waiting = [o.not_before for o in outcomes.values() if o.not_before is not None]
        if waiting:
            # Quiet hours: nothing was written; the rows go back untouched (rollback of
            # nothing), the campaign waits until they end.
            Campaign.objects.filter(pk=campaign.pk).update(not_before=min(waiting))
            return 0
        ids = [row_id for row_id, _m, _h in claimed]
        touches = [(outcomes[m].touch_id if m in outcomes else None) for _id, m, _h in claimed]
        with connection.cursor() as cursor:
            cursor.execute(_mark_done_sql(), [now, int_array(ids), int_array(touches)])
        if campaign.not_before is not None:
            Campaign.objects.filter(pk=campaign.pk).update(not_before=None)
    return len(claimed)


def campaign_finish_if_done(*, campaign_id: int, now: datetime | None = None,
                            durable: bool = True) -> bool:
    """sending -> sent once no recipient is pending (rows a sender holds uncommitted are
    still pending: it finishes on a later round)."""
    now = now or timezone.now()
    with transaction.atomic(durable=durable):
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is None or campaign.status != S.SENDING:
            return False
        if CampaignRecipient.objects.filter(campaign_id=campaign_id,
                                            done_at__isnull=True).exists():
            return False
        locked = CAMPAIGNS.lock(campaign)
        if locked.status != S.SENDING:
            return False
        CAMPAIGNS.move(locked, S.SENT, fields={"finished_at": now},
                       audit=lambda _p: campaign_event(campaign=locked,
                                                       kind=CampaignEventKind.SENT, at=now))
    return True


def campaign_send(*, campaign_id: int, budget_seconds: float = 50.0,
                  batch_size: int | None = None) -> int:
    """Send batches until none is left for this sender or the budget is used; then the
    campaign is marked sent when nothing is pending. Returns how many were done. Safe in
    any number of workers at once."""
    deadline = time.monotonic() + budget_seconds
    done = 0
    while time.monotonic() < deadline:
        count = campaign_send_batch(campaign_id=campaign_id, batch_size=batch_size)
        done += count
        if count == 0:
            break
    campaign_finish_if_done(campaign_id=campaign_id)
    return done


def campaigns_due(*, now: datetime | None = None) -> list[int]:
    """Launch every scheduled campaign whose time has come; return the ids of the
    campaigns that are sending and not waiting for the quiet hours' end."""
    now = now or timezone.now()
    for campaign in Campaign.objects.filter(status=S.SCHEDULED, scheduled_at__lte=now) \
            .order_by("scheduled_at", "pk"):
        campaign_launch(campaign=campaign, now=now)
    return list(Campaign.objects.filter(status=S.SENDING).exclude(not_before__gt=now)
                .order_by("pk").values_list("pk", flat=True))


def campaign_test_send(*, campaign: Campaign, actor: User, language: str | None = None) -> str:
    """The campaign's email as a member would get it (a sample coupon code), to the
    marketer's own address through the outbox. Returns the address. No Touch, no coupon."""
    if not actor.email:
        raise CampaignInvalid(_("Your account has no email address for a test."),
                              code="no_test_address")
    content = campaign_content(campaign)
    language = language or actor.language or settings.LANGUAGE_CODE
    values = {"name": actor.name or actor.email, "coupon_code": "TEST0000CODE",
              "coupon_value": "", "coupon_expires": "", "link": content.link}
    if campaign.coupon_definition is not None:
        from members.selectors import coupon_describe
        values["coupon_value"] = coupon_describe(campaign.coupon_definition)
    subject = fill(pick(content.email_subject, language) or campaign.name, values)
    body = fill(pick(content.email_body, language), values)
    if campaign.send_sms:
        body += "\n\n[" + _("text message") + "] " + fill(pick(content.sms, language), values)
    with transaction.atomic():
        outbox_enqueue(channel=OutboxMessage.Channel.EMAIL, kind=KIND_TEST,
                       recipient=actor.email,
                       dedupe_key=f"marketing.test:{campaign.pk}:{secrets.token_hex(6)}",
                       payload={"subject": f"[TEST] {subject}", "body": body},
                       about=f"marketing.campaign:{campaign.pk}")
        campaign_event(campaign=campaign, kind=CampaignEventKind.TEST_SENT, actor=actor,
                       note=actor.email)
    return actor.email


__all__ = ["CAMPAIGNS", "CHANNELS", "SMS", "CampaignInvalid", "CampaignRefused",
           "campaign_cancel", "campaign_create", "campaign_finish_if_done", "campaign_launch", "campaign_pause",
           "campaign_problems", "campaign_resume", "campaign_schedule", "campaign_send",
           "campaign_send_batch", "campaign_test_send", "campaign_unschedule",
           "campaign_update", "campaigns_due"]
