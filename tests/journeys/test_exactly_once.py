"""Exactly once, on real PostgreSQL connections: parallel triggers enter a member once
per occasion, parallel ticks send each step once, and a worker killed mid-batch leaves
nothing half-written (the next tick sends everything, once)."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone

from journeys import builtins as b
from journeys.models import EnrolmentStatus, Journey, JourneyEnrolment
from journeys.services.engine import enrol, enrolments_run_batch
from journeys.services.tick import journeys_tick
from marketing.models import Touch
from members.models import Coupon, MemberProfile
from o2o.models import OutboxMessage
from tests.concurrency import race
from tests.members.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def only(*keys):
    Journey.objects.exclude(key__in=keys).update(is_enabled=False)


def members_with_birthday(count, day=date(1990, 5, 20), tier=None):
    people = UserFactory.create_batch(count)
    MemberProfile.objects.bulk_create([MemberProfile(user=p, birthday=day, tier=tier)
                                       for p in people])
    return people


@pytest.mark.django_db(transaction=True)
def test_parallel_triggers_enter_a_member_once(builtins):
    only(b.WELCOME)
    journey = Journey.objects.get(key=b.WELCOME)
    person = UserFactory()
    MemberProfile.objects.create(user=person)

    def trigger(_i):
        with transaction.atomic():
            return enrol(journey=journey, member_id=person.pk, occasion="joined", run_now=True)

    results, errors = race(6, trigger)
    assert not errors
    assert sum(r is not None for r in results) == 1
    assert JourneyEnrolment.objects.filter(member=person).count() == 1
    assert Touch.objects.filter(member=person).count() == 1
    assert Coupon.objects.filter(member=person).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_ticks_send_each_step_once(builtins, settings):
    settings.MARKETING_CAP_MESSAGES = 100
    only(b.WELCOME)
    journey = Journey.objects.get(key=b.WELCOME)
    people = UserFactory.create_batch(120)
    MemberProfile.objects.bulk_create([MemberProfile(user=p) for p in people])
    now = timezone.now()
    with transaction.atomic():
        for person in people:
            enrol(journey=journey, member_id=person.pk, occasion="joined", now=now)

    def tick(_i):
        claimed = 0
        while True:
            result = enrolments_run_batch(batch_size=7)
            if not result.claimed:
                return claimed
            claimed += result.claimed

    results, errors = race(4, tick)
    assert not errors, errors
    assert sum(results) == 120  # no enrolment claimed twice
    assert JourneyEnrolment.objects.filter(status=EnrolmentStatus.COMPLETED).count() == 120
    per_member = Counter(Touch.objects.values_list("member_id", flat=True))
    assert len(per_member) == 120 and set(per_member.values()) == {1}
    assert Coupon.objects.count() == 120


@pytest.mark.django_db(transaction=True)
def test_parallel_daily_ticks_enter_and_send_once(builtins, settings, tiers_with_gifts):
    only(b.BIRTHDAY)
    import time_machine

    members_with_birthday(60, tier=tiers_with_gifts)
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 5, 20, 10)),
                             tick=False):
        _results, errors = race(3, lambda _i: journeys_tick(batch_size=9))
    assert not errors, errors
    assert JourneyEnrolment.objects.count() == 60
    assert Touch.objects.count() == 60
    assert Coupon.objects.count() == 60


@pytest.fixture
def tiers_with_gifts(db):
    from tests.members.coupon_factories import CouponDefinitionFactory, TierFactory

    tier = TierFactory(code="t-race", min_spend=1)
    CouponDefinitionFactory(birthday_tiers=[tier])
    return tier


CHILD = """
import os, sys, time
import django
django.setup()
from journeys.services import engine
from journeys.services.engine import enrolments_run_batch

real = engine.reach_members
count = 0
def slow(**kwargs):
    global count
    answer = real(**kwargs)
    count += len(answer)
    if count >= int(os.environ["PAUSE_AFTER"]):
        open(os.environ["MARK"], "w").write("mid-batch")
        time.sleep(120)  # killed here, the batch's transaction open
    return answer
engine.reach_members = slow
enrolments_run_batch(batch_size=500)
"""


def _test_db_url() -> str:
    name = connection.settings_dict["NAME"]
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/o2o")
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.mark.long
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_leaves_nothing_and_the_next_tick_sends_once(
        builtins, settings, tmp_path):
    settings.MARKETING_CAP_MESSAGES = 100
    only(b.WELCOME)
    journey = Journey.objects.get(key=b.WELCOME)
    people = UserFactory.create_batch(80)
    MemberProfile.objects.bulk_create([MemberProfile(user=p) for p in people])
    with transaction.atomic():
        for person in people:
            enrol(journey=journey, member_id=person.pk, occasion="joined")
    mark = tmp_path / "mark"
    env = {**os.environ, "DATABASE_URL": _test_db_url(), "PAUSE_AFTER": "1",
           "MARK": str(mark), "DJANGO_SETTINGS_MODULE": "o2o.settings.test",
           "QUIET_HOURS": ""}
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while not mark.exists():
        assert child.poll() is None, child.stdout.read().decode()[-3000:]
        assert time.monotonic() < deadline, "the child never got mid-batch"
        time.sleep(0.1)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    # Its transaction rolled back whole: nothing sent, nothing moved.
    assert Touch.objects.count() == 0 and Coupon.objects.count() == 0
    assert not OutboxMessage.objects.filter(kind__startswith="marketing.reach").exists()
    assert JourneyEnrolment.objects.filter(status=EnrolmentStatus.ACTIVE).count() == 80
    # The next tick (its locks released with the dead connection) sends every one, once.
    deadline = time.monotonic() + 30
    while enrolments_run_batch(batch_size=500).claimed == 0:
        assert time.monotonic() < deadline, "the dead worker's rows stayed locked"
        time.sleep(0.5)
    journeys_tick(sweep=False)
    assert JourneyEnrolment.objects.filter(status=EnrolmentStatus.COMPLETED).count() == 80
    per_member = Counter(Touch.objects.values_list("member_id", flat=True))
    assert len(per_member) == 80 and set(per_member.values()) == {1}
    assert Coupon.objects.count() == 80
    assert django_settings.DATABASES["default"]["NAME"] == connection.settings_dict["NAME"]
