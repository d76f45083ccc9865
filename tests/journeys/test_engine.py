"""The engine's rules: versions, a deleted coupon pauses the journey, conditions checked
again at each step, holdout, and the pipeline's consent, caps and quiet hours."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from journeys import builtins as b
from journeys.models import (
    EnrolmentStatus,
    ExitReason,
    Journey,
    JourneyEnrolment,
    JourneyStep,
)
from journeys.selectors import journey_figures
from journeys.services.engine import enrol
from journeys.services.tick import journeys_tick
from journeys.services.versions import (
    JourneyInvalid,
    enrolments_move_to_current,
    journey_publish,
)
from marketing.models import InboxItem, Touch
from members.models import Coupon, MemberProfile
from members.services import consent_set
from o2o.models import OutboxMessage
from tests.members.factories import UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def only(*keys):
    Journey.objects.exclude(key__in=keys).update(is_enabled=False)


def member(**profile):
    person = UserFactory()
    MemberProfile.objects.create(user=person, **profile)
    return person


def test_an_edit_keeps_members_on_their_version_until_moved(builtins):
    only(b.TRYON)
    journey = Journey.objects.get(key=b.TRYON)
    first = journey.current_version
    person = member()
    with time_machine.travel(at(2026, 3, 1, 12), tick=False):
        enrolment = enrol(journey=journey, member_id=person.pk, occasion="tryon:1")
        journeys_tick(sweep=False)
    step = journey.steps.get(kind="wait")
    step.wait_days = 5
    step.save()
    second = journey_publish(journey=journey)
    assert second.number == first.number + 1
    enrolment.refresh_from_db()
    assert enrolment.version == first  # still on the version it entered
    assert enrolment.due_at == at(2026, 3, 3, 12)
    late = member()
    with time_machine.travel(at(2026, 3, 1, 13), tick=False):
        later = enrol(journey=journey, member_id=late.pk, occasion="tryon:2")
    assert later.version == second
    assert enrolments_move_to_current(journey=journey) == 1
    enrolment.refresh_from_db()
    assert enrolment.version == second
    assert journey_figures(journey=journey).by_version == {second.number: 2}


def test_a_step_that_cannot_run_is_refused_with_a_sentence(builtins):
    journey = Journey.objects.get(key=b.WELCOME)
    JourneyStep.objects.filter(journey=journey, kind="send").update(channels="fax")
    with pytest.raises(JourneyInvalid, match="渠道|channels"):
        journey_publish(journey=journey)


def test_a_deleted_coupon_pauses_the_journey_and_sends_nothing(builtins):
    only(b.WINBACK)
    journey = Journey.objects.get(key=b.WINBACK)
    definition_id = journey.steps.get(position=1).coupon_definition_id
    person = member()
    enrol(journey=journey, member_id=person.pk, occasion="lapsed:1")
    from members.models import CouponDefinition

    CouponDefinition.objects.filter(pk=definition_id).delete()
    journeys_tick(sweep=False)
    journey.refresh_from_db()
    assert "优惠券" in journey.paused_reason or "coupon" in journey.paused_reason
    assert not journey.is_running()
    assert not Touch.objects.exists()
    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.status == EnrolmentStatus.ACTIVE and enrolment.step_index == 0
    journeys_tick(sweep=False)  # paused: its members wait
    assert not Touch.objects.exists()
    # The marketer picks another coupon and saves: the journey resumes.
    from tests.members.coupon_factories import CouponDefinitionFactory

    step = journey.steps.get(position=1)
    step.coupon_definition = CouponDefinitionFactory()
    step.save()
    journey_publish(journey=journey)
    enrolments_move_to_current(journey=journey)
    journeys_tick(sweep=False)
    assert Touch.objects.filter(member=person, outcome="sent").count() == 1


def test_holdout_members_get_nothing_and_are_counted(builtins):
    only(b.WELCOME)
    journey = Journey.objects.get(key=b.WELCOME)
    journey.holdout_percent = 50
    journey.save()
    people = [member() for _ in range(40)]
    for person in people:
        enrol(journey=journey, member_id=person.pk, occasion="joined")
    journeys_tick(sweep=False)
    held = JourneyEnrolment.objects.filter(holdout=True)
    assert 5 < held.count() < 35
    assert not Coupon.objects.filter(member__in=held.values("member")).exists()
    assert Touch.objects.filter(outcome="holdout").count() == held.count()
    figures = journey_figures(journey=journey)
    assert figures.holdout == held.count() and figures.entered == 40
    assert figures.messages_sent == 40 - held.count()


def test_consent_decides_the_channels(builtins):
    only(b.GOLD_PRICE)
    journey = Journey.objects.get(key=b.GOLD_PRICE)
    silent = member()  # no consent: the inbox only
    texts = member()
    consent_set(member=texts, channel="sms", granted=True, source="online")
    for person in (silent, texts):
        enrol(journey=journey, member_id=person.pk, occasion="alert:x",
              context={"metal": "gold", "purity": "999", "rate": "598", "target": "600"})
    journeys_tick(sweep=False)
    assert Touch.objects.get(member=silent).channels == "inbox"
    assert set(Touch.objects.get(member=texts).channels.split(",")) == {"inbox", "sms"}
    sms = OutboxMessage.objects.get(recipient=texts.phone)
    assert "598" in sms.payload["text"] and "600" in sms.payload["text"]
    assert "598" in InboxItem.objects.get(member=silent).body


def test_the_frequency_cap_skips_and_the_journey_goes_on(builtins, settings):
    settings.MARKETING_CAP_MESSAGES = 1
    only(b.WINBACK)
    journey = Journey.objects.get(key=b.WINBACK)
    person = member()
    from marketing.services.reach import Content, reach_member

    reach_member(member_id=person.pk, source="campaign", source_id=1, occasion="spring",
                 content=Content(inbox_title={"zh-hans": "春季"}), channels=["inbox"])
    with time_machine.travel(timedelta(0)):
        enrol(journey=journey, member_id=person.pk, occasion="lapsed:9")
        journeys_tick(sweep=False)
    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.messages_sent == 0
    assert enrolment.context["skipped"] == {"capped": 1}
    assert enrolment.status == EnrolmentStatus.ACTIVE  # on to its wait
    assert not Coupon.objects.filter(member=person).exists()


def test_quiet_hours_move_the_step_and_write_nothing(builtins, settings):
    settings.QUIET_HOURS = "21:00-09:00"
    only(b.WELCOME)
    journey = Journey.objects.get(key=b.WELCOME)
    person = member()
    with time_machine.travel(at(2026, 6, 1, 22, 30), tick=False):
        enrol(journey=journey, member_id=person.pk, occasion="joined", run_now=True)
    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.status == EnrolmentStatus.ACTIVE
    assert enrolment.due_at == at(2026, 6, 2, 9, 0)
    assert not Touch.objects.exists() and not Coupon.objects.exists()
    with time_machine.travel(at(2026, 6, 2, 9, 1), tick=False):
        journeys_tick(sweep=False)
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.COMPLETED
    assert Coupon.objects.filter(member=person).count() == 1


def test_a_closed_account_leaves(builtins):
    only(b.CARE)
    journey = Journey.objects.get(key=b.CARE)
    person = member()
    enrol(journey=journey, member_id=person.pk, occasion="order:1")
    person.is_active = False
    person.save()
    with time_machine.travel(timedelta(days=200)):
        journeys_tick(sweep=False)
    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.status == EnrolmentStatus.EXITED
    assert enrolment.exit_reason == ExitReason.INACTIVE


def test_resume_clears_a_pause_even_when_the_steps_did_not_change(builtins):
    from journeys.services.versions import journey_pause, journey_resume

    journey = Journey.objects.get(key=b.WINBACK)
    version = journey.current_version
    journey_pause(journey=journey, reason="优惠券已停用")
    assert journey_resume(journey=journey) == version  # same steps: no new version
    journey.refresh_from_db()
    assert journey.paused_reason == ""


def test_a_journey_without_a_published_version_is_not_switched_on(builtins):
    from journeys.services.versions import journeys_switch

    draft = Journey.objects.create(key="draft-only", name="草稿", trigger=Journey.objects
                                   .get(key=b.WINBACK).trigger, is_enabled=False)
    published = Journey.objects.filter(key=b.WINBACK)
    published.update(is_enabled=False)
    switched = journeys_switch(journeys=Journey.objects.filter(pk__in=[draft.pk,
                                                                     published.get().pk]),
                               enabled=True)
    assert switched == 1
    assert Journey.objects.get(key=b.WINBACK).is_enabled
    assert not Journey.objects.get(pk=draft.pk).is_enabled
    assert journeys_switch(journeys=Journey.objects.filter(key=b.WINBACK), enabled=False) == 1
    assert not Journey.objects.get(key=b.WINBACK).is_enabled
