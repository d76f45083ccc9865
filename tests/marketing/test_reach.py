"""The reach pipeline: the one door to a member's inbox, email and phone."""

from datetime import timedelta

import pytest
from django.db import transaction

from marketing.models import InboxItem, SkipReason, Touch
from marketing.services.reach import Cap, Content, reach_member, reach_members
from members.models import Coupon
from members.services import consent_set
from o2o.models import OutboxMessage
from o2o.outbox import outbox_deliver
from tests.concurrency import race
from tests.members.coupon_factories import CouponDefinitionFactory

from .factories import NIGHT, NOON, consented

pytestmark = pytest.mark.django_db

CONTENT = Content(
    email_subject={"zh-hans": "{name}，送您一张券", "en": "{name}, a coupon for you"},
    email_body={"zh-hans": "券码 {coupon_code}：{coupon_value}，{coupon_expires}前有效。{link}",
                "en": "Code {coupon_code}: {coupon_value}, until {coupon_expires}. {link}"},
    sms={"zh-hans": "【金缘】{name}，券码{coupon_code}"},
    inbox_title={"zh-hans": "您的专属优惠"},
    inbox_body={"zh-hans": "{coupon_value}"},
    link="/products/",
)


def reach(member, **kwargs):
    options = {"source": "campaign", "source_id": 1, "occasion": "", "content": CONTENT,
               "channels": ["email", "sms", "inbox"], "now": NOON, **kwargs}
    with transaction.atomic():
        return reach_member(member_id=member.pk, **options)


def test_sent_on_every_consented_channel_with_one_coupon():
    definition = CouponDefinitionFactory(valid_days=30)
    member = consented("email", "sms", name="王芳", language="zh-hans")
    outcome = reach(member, coupon_definition_id=definition.pk)
    assert outcome.sent and outcome.reason == "" and outcome.not_before is None
    touch = Touch.objects.get(pk=outcome.touch_id)
    coupon = Coupon.objects.get(pk=outcome.coupon_id)
    assert coupon.member == member and touch.coupon == coupon
    assert touch.channels == "email,sms,inbox"
    email = OutboxMessage.objects.get(kind="marketing.reach.email")
    assert email.recipient == member.email
    assert email.payload["subject"] == "王芳，送您一张券"
    assert coupon.code in email.payload["body"] and "/m/c/" in email.payload["body"]
    sms = OutboxMessage.objects.get(kind="marketing.reach.sms")
    assert sms.recipient == member.phone and coupon.code in sms.payload["text"]
    assert "T" in sms.payload["text"]  # the opt-out words
    item = InboxItem.objects.get(member=member)
    assert item.title == "您的专属优惠" and item.touch == touch and item.link == "/products/"


def test_a_second_call_returns_the_first_outcome_and_writes_nothing():
    definition = CouponDefinitionFactory()
    member = consented("email")
    first = reach(member, coupon_definition_id=definition.pk)
    again = reach(member, coupon_definition_id=definition.pk)
    assert again == first
    assert Touch.objects.count() == 1 and Coupon.objects.count() == 1
    assert OutboxMessage.objects.count() == 1 and InboxItem.objects.count() == 1


def test_english_member_gets_english_and_missing_language_falls_back():
    member = consented("email", "sms", language="en")
    reach(member)
    email = OutboxMessage.objects.get(kind="marketing.reach.email")
    assert email.payload["subject"].endswith("a coupon for you")
    sms = OutboxMessage.objects.get(kind="marketing.reach.sms")
    assert sms.payload["text"].startswith("【金缘】")  # only Chinese given
    assert "Reply T" in sms.payload["text"]


def test_consent_is_checked_per_channel():
    member = consented("sms")
    outcome = reach(member, channels=["email", "sms"])
    assert outcome.sent
    assert list(OutboxMessage.objects.values_list("channel", flat=True)) == ["sms"]


def test_no_consent_and_no_contact_are_skips_with_their_reason():
    no_consent = consented()
    outcome = reach(no_consent, channels=["email", "sms"])
    assert not outcome.sent and outcome.reason == SkipReason.NO_CONSENT
    assert Touch.objects.get(pk=outcome.touch_id).reason == "no_consent"
    nobody = consented(email=None, phone="+8613900000099")
    nobody.phone = None
    nobody.email = "x@example.com"
    nobody.save()
    consent_set(member=nobody, channel="sms", granted=True)
    outcome = reach(nobody, channels=["sms"], source_id=2)
    assert outcome.reason == SkipReason.NO_CONTACT
    assert not OutboxMessage.objects.exists() and not InboxItem.objects.exists()


def test_inactive_member_is_skipped():
    member = consented("email", is_active=False)
    assert reach(member).reason == SkipReason.INACTIVE


def test_holdout_gets_nothing_but_a_touch():
    definition = CouponDefinitionFactory()
    member = consented("email")
    outcome = reach(member, holdout=True, coupon_definition_id=definition.pk)
    assert not outcome.sent and outcome.reason == "holdout" and outcome.coupon_id is None
    assert Touch.objects.get().outcome == "holdout"
    assert not Coupon.objects.exists() and not OutboxMessage.objects.exists()


def test_quiet_hours_write_nothing_and_say_when(settings):
    settings.QUIET_HOURS = "21:00-09:00"
    member = consented("email")
    outcome = reach(member, now=NIGHT)
    assert not outcome.sent and outcome.reason == "quiet_hours"
    assert outcome.not_before == NIGHT.replace(hour=9, minute=0) + timedelta(days=1)
    assert not Touch.objects.exists() and not OutboxMessage.objects.exists()


def test_frequency_cap_across_sources():
    member = consented("email")
    cap = Cap(messages=2, days=7)
    assert reach(member, source_id=1, cap=cap).sent
    assert reach(member, source="journey", source_id=5, cap=cap).sent
    third = reach(member, source_id=3, cap=cap)
    assert not third.sent and third.reason == SkipReason.CAPPED
    # an uncapped reach (a service message) neither checks nor counts
    assert reach(member, source_id=4, cap=cap, capped=False).sent
    # a week later the window has moved on
    assert reach(member, source_id=6, cap=cap, now=NOON + timedelta(days=8)).sent


def test_expired_definition_skips_with_coupon_ended():
    definition = CouponDefinitionFactory(valid_until=NOON - timedelta(days=1))
    member = consented("email")
    outcome = reach(member, coupon_definition_id=definition.pk)
    assert outcome.reason == SkipReason.COUPON_ENDED
    assert not Coupon.objects.exists() and not OutboxMessage.objects.exists()


def test_a_batch_reaches_each_member_once_with_their_own_outcome():
    definition = CouponDefinitionFactory()
    members = [consented("email") for _ in range(5)] + [consented()]
    with transaction.atomic():
        answers = reach_members(member_ids=[m.pk for m in members], source="campaign",
                                source_id=9, occasion="", content=CONTENT,
                                channels=["email"], coupon_definition_id=definition.pk,
                                holdout_ids=[members[0].pk], now=NOON)
    assert answers[members[0].pk].reason == "holdout"
    assert answers[members[-1].pk].reason == "no_consent"
    assert sum(a.sent for a in answers.values()) == 4
    assert Coupon.objects.count() == 4 and OutboxMessage.objects.count() == 4


def test_email_renders_with_pixel_unsubscribe_and_tracked_link(mailoutbox):
    member = consented("email")
    reach(member, channels=["email"])
    outbox_deliver(now=NOON + timedelta(seconds=1))
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    html = email.alternatives[0][0]
    assert "/m/o/" in html and "/m/unsubscribe/" in html and "/m/c/" in email.body
    assert email.extra_headers["List-Unsubscribe"].startswith("<http")


def test_withdrawn_before_sending_is_cancelled_not_sent(mailoutbox):
    member = consented("email")
    reach(member, channels=["email"])
    consent_set(member=member, channel="email", granted=False)
    outbox_deliver(now=NOON + timedelta(seconds=1))
    assert mailoutbox == []
    assert OutboxMessage.objects.get().state == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_two_sources_racing_cannot_both_pass_the_cap():
    member = consented("email")
    cap = Cap(messages=1, days=7)

    def work(i):
        with transaction.atomic():
            return reach_member(member_id=member.pk, source=("campaign", "journey")[i],
                                source_id=1, occasion="", content=CONTENT, channels=["email"],
                                now=NOON, cap=cap)

    outcomes, errors = race(2, work)
    assert errors == []
    assert sorted(o.reason for o in outcomes) == ["", "capped"]
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_reach_racing_writes_once():
    member = consented("email")

    def work(i):
        with transaction.atomic():
            return reach_member(member_id=member.pk, source="campaign", source_id=1,
                                occasion="", content=CONTENT, channels=["email"], now=NOON)

    outcomes, errors = race(3, work)
    assert errors == [] and len({o.touch_id for o in outcomes}) == 1
    assert Touch.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_tracking_links_open_click_and_unsubscribe(client):
    from marketing.links import click_url, open_url, unsubscribe_url

    member = consented("email")
    outcome = reach(member, channels=["email"])
    touch_id = outcome.touch_id
    assert client.get(open_url(touch_id, language="zh-hans")).status_code == 200
    response = client.get(click_url(touch_id, "/products/", language="zh-hans"))
    assert response.status_code == 302 and response["Location"] == "/products/"
    evil = click_url(touch_id, "https://evil.example/", language="zh-hans")
    assert client.get(evil)["Location"] == "/"
    touch = Touch.objects.get(pk=touch_id)
    assert touch.opened_at and touch.clicked_at
    url = unsubscribe_url(touch_id, "email", language="zh-hans")
    # Opening the link (a person, a mail scanner, a link preview) only asks.
    response = client.get(url)
    assert response.status_code == 200 and b"data-unsubscribe-confirm" in response.content
    assert member.consents.get(channel="email").withdrawn_at is None
    # The button, or the mail program's one-click POST (RFC 8058), withdraws.
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and b"data-unsubscribed" in response.content
    consent = member.consents.get(channel="email")
    assert consent.withdrawn_at is not None  # the history keeps the row
    assert client.get("/m/unsubscribe/forged/").status_code == 400
    assert client.post("/m/unsubscribe/forged/").status_code == 400


def test_sms_reply_opts_out(client, settings):
    settings.MARKETING_SMS_REPLY_TOKEN = "s3cret"
    member = consented("sms", phone="+8613900001111")
    url = "/m/sms-reply/"
    assert client.post(url, {"phone": "13900001111", "text": "T"}).status_code == 403
    response = client.post(url, {"phone": "13900001111", "text": " t "},
                           headers={"X-Reply-Token": "s3cret"})
    assert response.json() == {"opted_out": True}
    assert not member.consents.filter(channel="sms", withdrawn_at__isnull=True).exists()


def test_the_member_reads_the_inbox(client):
    member = consented()
    reach(member, channels=["inbox"])
    client.force_login(member)
    response = client.get("/account/inbox/")
    assert response.status_code == 200 and "您的专属优惠" in response.content.decode()
    assert InboxItem.objects.get().read_at is not None
    assert "/account/inbox/" in client.get("/account/").content.decode()
