"""Every beat entry names a task the worker knows; the nightly tier task does its work."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from members.models import MemberProfile, PointsEntry, PointsKind, Tier
from members.services import member_profile_ensure
from members.tasks import tiers_refresh_task
from o2o.celery import app
from tests.members.factories import UserFactory


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    names = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "members.tasks.tiers_refresh_task" in names
    assert names <= set(app.tasks), names - set(app.tasks)


@pytest.mark.django_db
def test_the_nightly_tier_task_lets_old_spend_age_out():
    member = UserFactory()
    member_profile_ensure(user=member)
    gold = Tier.objects.get(code="gold")
    old = timezone.now() - timedelta(days=400)
    PointsEntry.objects.create(member=member, kind=PointsKind.EARN, points=60_000,
                               spend=Decimal("60000"), reference="HIST-1", created_at=old)
    MemberProfile.objects.filter(user=member).update(tier=gold, spend_12m=Decimal("60000"))
    assert tiers_refresh_task.apply().get() == 1
    profile = MemberProfile.objects.get(user=member)
    assert (profile.tier.code, profile.spend_12m) == ("classic", Decimal("0.00"))
