"""Campaigns: life cycle, bad input, the frozen audience and holdout, sending in batches
(exactly once under racing senders), quiet hours."""

from collections import Counter
from datetime import time, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from marketing.models import CampaignEvent, CampaignRecipient, Touch
from marketing.services.campaigns import (
    CampaignInvalid,
    CampaignRefused,
    campaign_cancel,
    campaign_launch,
    campaign_pause,
    campaign_problems,
    campaign_resume,
    campaign_schedule,
    campaign_send,
    campaign_send_batch,
    campaign_test_send,
    campaign_update,
    campaigns_due,
)
from members.models import Coupon
from o2o.models import OutboxMessage
from tests.concurrency import race
from tests.members.coupon_factories import CouponDefinitionFactory

from .campaign_factories import campaign
from .factories import NIGHT, NOON, consented

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _daytime(settings):
    settings.QUIET_HOURS = ""


def audience(n, *channels):
    return [consented(*(channels or ("email",))) for _ in range(n)]


def test_schedule_launch_send_and_finish(marketer):
    members = audience(6)
    definition = CouponDefinitionFactory()
    c = campaign(coupon_definition=definition, holdout_percent=0)
    campaign_schedule(campaign=c, actor=marketer, send_at=timezone.now() + timedelta(hours=1))
    c.refresh_from_db()
    assert c.status == "scheduled"
    assert campaigns_due() == []  # not yet
    due = campaigns_due(now=timezone.now() + timedelta(hours=2))
    assert due == [c.pk]
    c.refresh_from_db()
    assert c.status == "sending" and c.audience_size == 6
    assert campaign_send(campaign_id=c.pk, batch_size=4) == 6
    c.refresh_from_db()
    assert c.status == "sent" and c.finished_at is not None
    assert Coupon.objects.filter(definition=definition).count() == 6
    assert OutboxMessage.objects.filter(kind="marketing.reach.email").count() == 6
    assert not CampaignRecipient.objects.filter(campaign=c, done_at__isnull=True).exists()
    assert set(Touch.objects.filter(source="campaign", source_id=c.pk)
               .values_list("member_id", flat=True)) == {m.pk for m in members}
    kinds = list(CampaignEvent.objects.filter(campaign=c).order_by("pk")
                 .values_list("kind", flat=True))
    assert kinds == ["scheduled", "launched", "sent"]


def test_holdout_is_an_exact_share_fixed_at_launch():
    audience(40)
    c = campaign(holdout_percent=25)
    campaign_schedule(campaign=c, actor=None)
    campaign_launch(campaign=c)
    held = set(CampaignRecipient.objects.filter(campaign=c, holdout=True)
               .values_list("member_id", flat=True))
    assert len(held) == 10
    campaign_launch(campaign=c)  # a second launch changes nothing
    assert set(CampaignRecipient.objects.filter(campaign=c, holdout=True)
               .values_list("member_id", flat=True)) == held
    campaign_send(campaign_id=c.pk)
    outcomes = Counter(Touch.objects.filter(source_id=c.pk).values_list("outcome", flat=True))
    assert outcomes == {"sent": 30, "holdout": 10}
    assert not OutboxMessage.objects.filter(about__in=[
        f"marketing.touch:{t}" for t in Touch.objects.filter(outcome="holdout")
        .values_list("pk", flat=True)]).exists()


def test_skips_are_recorded_with_their_reason():
    audience(2)
    consented()  # no consent
    c = campaign(send_inbox=False)
    campaign_schedule(campaign=c, actor=None)
    campaign_launch(campaign=c)
    campaign_send(campaign_id=c.pk)
    reasons = Counter(Touch.objects.values_list("reason", flat=True))
    assert reasons == {"": 2, "no_consent": 1}


@pytest.mark.parametrize("setup, words", [
    (lambda: {"rules": {"rule": "gender", "genders": ["m"]}}, "no members"),
    (lambda: {"coupon_definition": CouponDefinitionFactory(
        valid_until=timezone.now() - timedelta(days=1))}, "ends before"),
    (lambda: {"scheduled_at": timezone.now() - timedelta(days=1)}, "in the past"),
    (lambda: {"send_sms": True, "sms_text": {"zh-hans": "很长" * 70}}, "too long"),
    (lambda: {"send_email": False, "send_sms": False, "send_inbox": False}, "channel"),
    (lambda: {"email_body": {}}, "no text"),
])
def test_bad_campaigns_are_refused_in_words_and_nothing_changes(setup, words):
    audience(1)
    c = campaign(**setup())
    with translation.override("en"), pytest.raises(CampaignInvalid) as refused:
        campaign_schedule(campaign=c, actor=None, send_at=c.scheduled_at)
    assert words in str(refused.value.message)
    c.refresh_from_db()
    assert c.status == "draft" and not CampaignRecipient.objects.exists()


def test_a_campaign_cannot_be_edited_after_its_draft(marketer):
    audience(1)
    c = campaign()
    campaign_update(campaign=c, actor=marketer, name="新名字")
    campaign_schedule(campaign=c, actor=marketer)
    campaign_launch(campaign=c)
    with pytest.raises(CampaignRefused):
        campaign_update(campaign=c, actor=marketer, name="改")
    c.refresh_from_db()
    assert c.name == "新名字"


def test_pause_resume_cancel():
    audience(3)
    c = campaign()
    campaign_schedule(campaign=c, actor=None)
    campaign_launch(campaign=c)
    campaign_pause(campaign=c, actor=None)
    assert campaign_send_batch(campaign_id=c.pk) == 0  # paused: nobody
    campaign_resume(campaign=c, actor=None)
    assert campaign_send_batch(campaign_id=c.pk, batch_size=1) == 1
    campaign_cancel(campaign=c, actor=None)
    assert campaign_send_batch(campaign_id=c.pk) == 0
    assert Touch.objects.count() == 1
    with pytest.raises(CampaignRefused):
        campaign_resume(campaign=c, actor=None)


def test_a_coupon_that_ended_before_launch_pauses_it_with_the_reason():
    audience(2)
    definition = CouponDefinitionFactory(valid_until=timezone.now() + timedelta(hours=1))
    c = campaign(coupon_definition=definition)
    campaign_schedule(campaign=c, actor=None)
    campaign_launch(campaign=c, now=timezone.now() + timedelta(hours=2))
    c.refresh_from_db()
    assert c.status == "paused" and definition.name in c.note
    assert not CampaignRecipient.objects.exists() and not Coupon.objects.exists()


def test_quiet_hours_hold_the_campaign_until_morning(settings):
    settings.QUIET_HOURS = "21:00-09:00"
    audience(2)
    c = campaign()
    campaign_schedule(campaign=c, actor=None)
    campaign_launch(campaign=c, now=NIGHT)
    assert campaign_send_batch(campaign_id=c.pk, now=NIGHT) == 0
    c.refresh_from_db()
    assert c.not_before == NIGHT.replace(hour=9, minute=0) + timedelta(days=1)
    assert not Touch.objects.exists()
    assert campaigns_due(now=NIGHT + timedelta(hours=1)) == []
    morning = c.not_before + timedelta(minutes=1)
    assert campaigns_due(now=morning) == [c.pk]
    assert campaign_send_batch(campaign_id=c.pk, now=morning) == 2


def test_test_send_goes_to_the_marketer_only(marketer):
    audience(2)
    c = campaign(coupon_definition=CouponDefinitionFactory())
    assert campaign_test_send(campaign=c, actor=marketer) == marketer.email
    row = OutboxMessage.objects.get()
    assert row.recipient == marketer.email and "TEST0000CODE" in row.payload["body"]
    assert not Touch.objects.exists() and not Coupon.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_senders_racing_reach_each_member_exactly_once(settings):
    settings.QUIET_HOURS = ""
    members = audience(60, "email", "sms")
    definition = CouponDefinitionFactory()
    c = campaign(coupon_definition=definition, send_sms=True)
    campaign_schedule(campaign=c, actor=None, now=NOON)
    campaign_launch(campaign=c, now=NOON)

    def work(i):
        return campaign_send(campaign_id=c.pk, batch_size=7)

    done, errors = race(3, work)
    assert errors == [] and sum(done) == 60
    assert Coupon.objects.filter(definition=definition).count() == 60
    per_member = Counter(Coupon.objects.values_list("member_id", flat=True))
    assert set(per_member.values()) == {1} and set(per_member) == {m.pk for m in members}
    rows = Counter(OutboxMessage.objects.values_list("channel", flat=True))
    assert rows == {"email": 60, "sms": 60}
    c.refresh_from_db()
    campaign_send(campaign_id=c.pk)
    c.refresh_from_db()
    assert c.status == "sent"


def test_problems_list_is_empty_for_a_good_campaign():
    audience(1)
    assert campaign_problems(campaign(coupon_definition=CouponDefinitionFactory())) == []


def test_a_campaigns_own_quiet_hours_replace_the_shops(settings):
    """The shop is quiet 21:00-09:00; this campaign's window is 20:00-11:30: at 10:00 the
    shop's hours would send, the campaign's do not; it goes on at 11:30 shop time."""
    settings.QUIET_HOURS = "21:00-09:00"
    audience(2)
    c = campaign(quiet_from=time(20, 0), quiet_until=time(11, 30))
    ten = NOON.replace(hour=10)
    campaign_schedule(campaign=c, actor=None, now=ten - timedelta(minutes=5))
    campaign_launch(campaign=c, now=ten)
    assert campaign_send_batch(campaign_id=c.pk, now=ten) == 0
    c.refresh_from_db()
    assert c.not_before == ten.replace(hour=11, minute=30)
    assert not Touch.objects.exists()
    assert campaigns_due(now=ten.replace(hour=11, minute=29)) == []
    assert campaigns_due(now=c.not_before) == [c.pk]
    assert campaign_send_batch(campaign_id=c.pk, now=c.not_before) == 2
    # and 22:30, quiet for the shop too, is quiet for this campaign
    later = campaign(quiet_from=time(23, 0), quiet_until=time(7, 0))
    campaign_schedule(campaign=later, actor=None, now=NIGHT - timedelta(minutes=5))
    campaign_launch(campaign=later, now=NIGHT)
    assert campaign_send_batch(campaign_id=later.pk, now=NIGHT) == 2  # 22:30 is not its quiet


@pytest.mark.parametrize("start, end, words", [
    (time(21, 0), None, "start and an end"),
    (None, time(9, 0), "start and an end"),
    (time(21, 0), time(21, 0), "same time"),
])
def test_half_or_empty_quiet_hours_are_problems_in_words_and_the_database_refuses_them(
        start, end, words):
    audience(1)
    c = campaign()
    c.quiet_from, c.quiet_until = start, end
    with translation.override("en"):
        assert any(words in p for p in campaign_problems(c))
    with pytest.raises(IntegrityError), transaction.atomic():
        c.save()
