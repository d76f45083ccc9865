from datetime import date, timedelta

import pytest
from django.utils import timezone

from marketing.tasks import coupons_birthday_issue_task
from members.models import Coupon, MemberProfile
from members.services import coupons_birthday_issue
from tests.members.coupon_factories import CouponDefinitionFactory, TierFactory
from tests.members.factories import UserFactory

pytestmark = pytest.mark.django_db


def member(tier, birthday, **user):
    person = UserFactory(**user)
    MemberProfile.objects.create(user=person, tier=tier, birthday=birthday)
    return person


@pytest.fixture
def tiers():
    return TierFactory(code="silver"), TierFactory(code="gold")


def test_members_of_the_tiers_born_today_get_one_coupon(tiers):
    silver, gold = tiers
    gift = CouponDefinitionFactory(birthday_tiers=[gold], valid_days=30)
    today = date(2026, 5, 20)
    born_today = member(gold, date(1990, 5, 20))
    member(gold, date(1990, 5, 21))          # tomorrow
    member(silver, date(1988, 5, 20))        # not a tier of the gift
    member(gold, None)                       # no birthday given
    member(gold, date(1985, 5, 20), is_active=False)  # erased account
    assert coupons_birthday_issue(today=today) == 1
    coupon = Coupon.objects.get()
    assert coupon.member == born_today and coupon.definition == gift
    assert coupon.occasion == "birthday-2026"
    assert coupon.expires_at is not None
    assert coupon.expires_at - timezone.now() < timedelta(days=30, minutes=1)


def test_running_twice_gives_one(tiers):
    _silver, gold = tiers
    CouponDefinitionFactory(birthday_tiers=[gold])
    member(gold, date(1990, 5, 20))
    member(gold, date(1991, 5, 20))
    assert coupons_birthday_issue(today=date(2026, 5, 20)) == 2
    assert coupons_birthday_issue(today=date(2026, 5, 20)) == 0
    assert Coupon.objects.count() == 2
    # Next year is another occasion.
    assert coupons_birthday_issue(today=date(2027, 5, 20)) == 2


def test_feb_29_birthdays_come_on_feb_28_in_common_years(tiers):
    _silver, gold = tiers
    CouponDefinitionFactory(birthday_tiers=[gold])
    leapling = member(gold, date(2000, 2, 29))
    feb_28 = member(gold, date(1999, 2, 28))
    assert coupons_birthday_issue(today=date(2027, 2, 28)) == 2
    assert set(Coupon.objects.values_list("member", flat=True)) == {leapling.pk, feb_28.pk}
    Coupon.objects.all().delete()
    # In a leap year each on their own day.
    assert coupons_birthday_issue(today=date(2028, 2, 28)) == 1
    assert Coupon.objects.get().member == feb_28
    assert coupons_birthday_issue(today=date(2028, 2, 29)) == 1
    assert Coupon.objects.filter(member=leapling).count() == 1


def test_every_gift_of_the_tier_and_only_active_unended_ones(tiers):
    silver, gold = tiers
    CouponDefinitionFactory(birthday_tiers=[silver, gold])
    CouponDefinitionFactory(birthday_tiers=[gold])
    CouponDefinitionFactory(birthday_tiers=[gold], is_active=False)
    CouponDefinitionFactory(birthday_tiers=[gold],
                            valid_until=timezone.now() - timedelta(days=1))
    CouponDefinitionFactory()  # not a birthday gift
    gold_member = member(gold, date(1990, 5, 20))
    silver_member = member(silver, date(1990, 5, 20))
    assert coupons_birthday_issue(today=date(2026, 5, 20)) == 3
    assert Coupon.objects.filter(member=gold_member).count() == 2
    assert Coupon.objects.filter(member=silver_member).count() == 1


def test_the_task_issues_todays_gifts(tiers):
    _silver, gold = tiers
    CouponDefinitionFactory(birthday_tiers=[gold])
    today = timezone.localdate()
    birthday = today.replace(year=1992) if (today.month, today.day) != (2, 29) else date(
        1992, 2, 29)
    member(gold, birthday)
    assert coupons_birthday_issue_task.apply().get() == 1
    assert coupons_birthday_issue_task.apply().get() == 0
    assert Coupon.objects.get().occasion == f"birthday-{today.year}"


def test_the_beat_runs_it_daily():
    from o2o.celery import app

    entries = [e for e in app.conf.beat_schedule.values()
               if e["task"] == "marketing.tasks.coupons_birthday_issue_task"]
    assert len(entries) == 1
