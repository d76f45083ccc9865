"""The marketers' screens: journeys with their steps, versions and figures in words."""

import pytest
from django.contrib.auth.models import Group

from journeys import builtins as b
from journeys.models import Journey, JourneyEnrolment
from journeys.services.engine import enrol
from journeys.services.tick import journeys_tick
from members.models import MemberProfile
from members.roles import MARKETER
from tests.members.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer_client(client):
    user = StaffFactory(email="marketer@example.com")
    user.groups.add(Group.objects.get(name=MARKETER))
    client.force_login(user)
    return client


def _formset(journey):
    """The change form's POST data for ``journey`` as it stands."""
    data = {"name": journey.name, "key": journey.key, "trigger": journey.trigger,
            "is_enabled": "on" if journey.is_enabled else "", "lead_days": journey.lead_days,
            "holdout_percent": journey.holdout_percent}
    steps = list(journey.steps.order_by("position"))
    prefix = "steps"
    data.update({f"{prefix}-TOTAL_FORMS": len(steps), f"{prefix}-INITIAL_FORMS": len(steps),
                 f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
    fields = ["position", "kind", "wait_days", "wait_until", "channels", "coupon_from",
              "coupon_definition", "title_zh", "title_en", "body_zh", "body_en", "sms_zh",
              "sms_en", "link", "condition", "condition_value"]
    for i, step in enumerate(steps):
        data[f"{prefix}-{i}-id"] = step.pk
        data[f"{prefix}-{i}-journey"] = journey.pk
        for name in fields:
            value = getattr(step, name + "_id" if name == "coupon_definition" else name)
            data[f"{prefix}-{i}-{name}"] = "" if value is None else value
        data[f"{prefix}-{i}-channels"] = step.channels.split(",") if step.channels else []
    data.update({"versions-TOTAL_FORMS": 0, "versions-INITIAL_FORMS": 0,
                 "versions-MIN_NUM_FORMS": 0, "versions-MAX_NUM_FORMS": 1000})
    return data


def test_the_marketer_edits_steps_and_a_new_version_is_published(builtins, marketer_client):
    journey = Journey.objects.get(key=b.TRYON)
    person = UserFactory()
    MemberProfile.objects.create(user=person)
    enrol(journey=journey, member_id=person.pk, occasion="tryon:1")
    journeys_tick(sweep=False)
    url = f"/admin/journeys/journey/{journey.pk}/change/"
    page = marketer_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Members entered" in text or "进入人数" in text
    data = _formset(journey)
    data["steps-0-wait_days"] = 3
    response = marketer_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    journey.refresh_from_db()
    assert journey.current_version.number == 2
    assert JourneyEnrolment.objects.get().version.number == 1


def test_a_bad_step_is_a_message_not_a_500(builtins, marketer_client):
    journey = Journey.objects.get(key=b.GOLD_PRICE)
    data = _formset(journey)
    data["steps-0-channels"] = []  # a send step with no channel
    response = marketer_client.post(f"/admin/journeys/journey/{journey.pk}/change/", data,
                                    follow=True)
    assert response.status_code == 200
    journey.refresh_from_db()
    assert journey.current_version.number == 1


def test_the_lists_open(builtins, marketer_client):
    for url in ["/admin/journeys/journey/", "/admin/journeys/journeyenrolment/",
                "/admin/journeys/goldpricealert/"]:
        assert marketer_client.get(url).status_code == 200, url
