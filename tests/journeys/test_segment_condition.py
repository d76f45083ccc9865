"""A journey's "continue only if in the segment" step reads a saved segment of marketing's,
with any of its rules: here the "viewed" rule over the members' product views."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from journeys import builtins as b
from journeys.models import EnrolmentStatus, ExitReason, Journey, JourneyEnrolment, JourneyStep
from journeys.services.engine import enrol
from journeys.services.tick import journeys_tick
from journeys.services.versions import journey_publish
from marketing.models import InboxItem, MemberView, Segment
from members.models import MemberProfile
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.members.factories import UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_branch_on_a_segment_of_viewers_lets_only_the_viewers_through(builtins):
    Journey.objects.exclude(key=b.TRYON).update(is_enabled=False)
    journey = Journey.objects.get(key=b.TRYON)
    necklaces = CategoryFactory(slug="necklaces", name="项链")
    pendants = CategoryFactory(slug="pendants", name="吊坠", parent=necklaces)
    pendant = ProductFactory(category=pendants)
    segment = Segment.objects.create(name="最近看过项链", rules={
        "rule": "viewed", "categories": [necklaces.pk], "days": 7})
    JourneyStep.objects.filter(journey=journey, kind="branch").update(
        condition="segment", condition_value=str(segment.pk))
    journey_publish(journey=journey)
    looked, other, long_ago = UserFactory(), UserFactory(), UserFactory()
    for person in (looked, other, long_ago):
        MemberProfile.objects.create(user=person)
    entered = datetime(2026, 3, 1, 12, tzinfo=SHANGHAI)
    tick = entered + timedelta(days=3)
    for person, days in ((looked, 1), (long_ago, 20)):
        at = tick - timedelta(days=days)
        MemberView.objects.create(member=person, product=pendant, first_viewed_at=at,
                                  last_viewed_at=at, views=2)
    with time_machine.travel(entered, tick=False):
        for n, person in enumerate((looked, other, long_ago)):
            enrol(journey=journey, member_id=person.pk, occasion=f"tryon:{n}",
                  context={"pieces": "吊坠"})
        journeys_tick(sweep=False)
    with time_machine.travel(tick, tick=False):
        journeys_tick(sweep=False)
    assert set(InboxItem.objects.values_list("member_id", flat=True)) == {looked.pk}
    left = JourneyEnrolment.objects.filter(status=EnrolmentStatus.EXITED)
    assert set(left.values_list("member_id", flat=True)) == {other.pk, long_ago.pk}
    assert set(left.values_list("exit_reason", flat=True)) == {ExitReason.CONDITION}
