"""Tiers (members.services.tiers): the tier is the highest whose threshold the member's
spend over the last 12 months reaches; exactly the threshold reaches it, a cent less does
not; spend ages out (the nightly refresh); a return after the hand-over lowers the spend
and can lower the tier; the multiplier applies from the next earning."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from members.models import MemberProfile
from members.services import (
    member_profile_ensure,
    member_tier_refresh,
    points_earn,
    points_reverse,
    tiers_refresh_all,
)
from members.services.tiers import member_spend, spend_window_start, tier_for_spend
from tests.members.coupon_engine_factories import tiers_ladder
from tests.members.factories import UserFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def ladder():
    return tiers_ladder()


def profile(member) -> MemberProfile:
    return MemberProfile.objects.select_related("tier").get(user=member)


def earn(member, spend, *, reference, at=None):
    return points_earn(member=member, reference=reference, spend=D(spend), channel="online",
                       now=at)


def test_exactly_the_threshold_reaches_the_tier_one_cent_less_does_not(ladder):
    at, below = UserFactory(), UserFactory()
    earn(at, "10000.00", reference="ORD-AT")
    earn(below, "9999.99", reference="ORD-BELOW")
    assert profile(at).tier == ladder["t-silver"] and profile(at).spend_12m == D("10000.00")
    assert profile(below).tier == ladder["t-classic"]
    assert profile(below).spend_12m == D("9999.99")
    # Two orders add up; the highest tier reached wins.
    earn(below, "0.01", reference="ORD-CENT")
    assert profile(below).tier == ladder["t-silver"]
    earn(at, "40000.00", reference="ORD-GOLD")
    assert profile(at).tier == ladder["t-gold"]

    tiers = list(ladder.values())
    assert tier_for_spend(D("49999.99"), tiers) == ladder["t-silver"]
    assert tier_for_spend(D("50000.00"), tiers) == ladder["t-gold"]
    assert tier_for_spend(D("0"), tiers) == ladder["t-classic"]


def test_the_multiplier_applies_from_the_next_earning(ladder):
    member = UserFactory()
    first = earn(member, "10000.00", reference="ORD-M1")
    assert first.points == 10000  # earned at the classic x1.00, then silver
    assert profile(member).tier == ladder["t-silver"]
    assert earn(member, "1000.00", reference="ORD-M2").points == 1200  # x1.20


def test_spend_older_than_twelve_months_ages_out_with_the_nightly_refresh(ladder):
    now = timezone.now()
    aging, recent, fresh = UserFactory(), UserFactory(), UserFactory()
    earn(aging, "12000.00", reference="ORD-OLD", at=now - timedelta(days=300))
    earn(recent, "12000.00", reference="ORD-RECENT", at=now - timedelta(days=200))
    earn(fresh, "100.00", reference="ORD-FRESH", at=now)
    assert profile(aging).tier == profile(recent).tier == ladder["t-silver"]

    later = now + timedelta(days=70)  # ORD-OLD is now 370 days old
    assert tiers_refresh_all(now=later, batch_size=2) == 1
    assert profile(aging).tier == ladder["t-classic"] and profile(aging).spend_12m == D("0.00")
    assert profile(recent).tier == ladder["t-silver"]
    assert profile(recent).spend_12m == D("12000.00")
    assert profile(fresh).tier_checked_at == later
    assert tiers_refresh_all(now=later) == 0  # safe to run twice

    # A purchase exactly at the window's start is out, a second later it is in.
    bought = now - timedelta(days=200)
    year_on = bought + timedelta(days=365)
    assert spend_window_start(year_on) == bought
    assert member_spend(member=recent, now=year_on) == D("0")
    assert member_spend(member=recent, now=year_on - timedelta(seconds=1)) == D("12000.00")


def test_a_return_after_the_hand_over_lowers_the_spend_and_can_lower_the_tier(ladder):
    member = UserFactory()
    earn(member, "12000.00", reference="ORD-RET")
    assert profile(member).tier == ladder["t-silver"]
    points_reverse(reference="ORD-RET", refunded=D("1000.00"), paid=D("12000.00"))
    assert profile(member).spend_12m == D("11000.00")
    assert profile(member).tier == ladder["t-silver"]
    points_reverse(reference="ORD-RET", refunded=D("3000.00"), paid=D("12000.00"))
    assert profile(member).spend_12m == D("9000.00")
    assert profile(member).tier == ladder["t-classic"]
    points_reverse(reference="ORD-RET", refunded=D("12000.00"), paid=D("12000.00"))
    assert profile(member).spend_12m == D("0.00")


def test_a_return_leaves_the_window_with_the_purchase_it_undoes(ladder):
    """A return takes back the spend of its own purchase, not of later ones: once that
    purchase ages out, its return must not eat into what the member spent since."""
    now = timezone.now()
    member = UserFactory()
    earn(member, "20000.00", reference="ORD-A", at=now - timedelta(days=300))
    points_reverse(reference="ORD-A", refunded=D("20000.00"), paid=D("20000.00"),
                   now=now - timedelta(days=200))
    earn(member, "15000.00", reference="ORD-B", at=now - timedelta(days=100))
    assert profile(member).spend_12m == D("15000.00")
    assert profile(member).tier == ladder["t-silver"]

    later = now + timedelta(days=70)  # ORD-A aged out; its return, 270 days old, has not
    tiers_refresh_all(now=later)
    assert profile(member).spend_12m == D("15000.00")
    assert profile(member).tier == ladder["t-silver"]


def test_a_tier_refresh_writes_only_what_changed(ladder):
    member = UserFactory()
    earn(member, "500.00", reference="ORD-W")
    before = profile(member)
    again = member_tier_refresh(member=member)
    assert (again.tier_id, again.spend_12m) == (before.tier_id, before.spend_12m)


def test_the_nightly_refresh_costs_the_same_for_many_members(ladder,
                                                             django_assert_max_num_queries):
    members = [UserFactory() for _ in range(12)]
    for i, member in enumerate(members):
        member_profile_ensure(user=member)
        if i % 3:
            earn(member, Decimal("6000") * (i % 3), reference=f"N-{i}")
    MemberProfile.objects.update(tier=None, spend_12m=Decimal("0.00"))
    # The tiers; then per batch of 10 a savepoint, the profiles locked, their spends, one
    # bulk UPDATE, its release; the last (empty) batch ends it: not a query per member.
    with django_assert_max_num_queries(1 + 5 * 2 + 3):
        changed = tiers_refresh_all(batch_size=10)
    assert changed == 12
    spends = dict(MemberProfile.objects.values_list("user_id", "spend_12m"))
    assert [spends[m.pk] for m in members] == [Decimal("6000") * (i % 3) for i in range(12)]
