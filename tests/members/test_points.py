"""The points ledger (members.services.points): earning by spend, rate and tier multiplier;
once per order; redemption only from the balance, also under parallel connections; the
balance cache always equal to the ledger's sum; the ledger append-only in the database;
reversal in proportion to what was refunded; points given back once; the redemption
ceiling."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from members.errors import PointsInsufficient, PointsInvalid
from members.models import MemberProfile, PointsEntry, PointsKind
from members.services import (
    member_profile_ensure,
    points_adjust,
    points_balance,
    points_earn,
    points_max_for,
    points_redeem,
    points_return,
    points_reverse,
    points_value,
)
from members.services.points import points_ledger_sum
from tests.concurrency import race
from tests.members.coupon_engine_factories import tiers_ladder
from tests.members.factories import StaffFactory, UserFactory

D = Decimal


@pytest.fixture
def ladder(db):
    return tiers_ladder()


def member_with(points: int, **fields):
    member = UserFactory(**fields)
    if points:
        points_adjust(member=member, points=points, note="opening balance",
                      actor=StaffFactory())
    return member


def balance_holds(member) -> int:
    """The cached balance, asserted equal to the ledger's sum (the invariant)."""
    cached = points_balance(member=member)
    assert cached == points_ledger_sum(member=member)
    return cached


# --- Earning -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_earning_is_spend_times_rate_times_tier_multiplier_rounded_down(ladder, settings):
    member = member_with(0)
    entry = points_earn(member=member, reference="ORD-E1", spend=D("1999.99"), channel="online")
    assert (entry.kind, entry.points, entry.spend) == (PointsKind.EARN, 1999, D("1999.99"))

    silver = member_with(0)
    member_profile_ensure(user=silver)
    assert MemberProfile.objects.filter(user=silver).update(tier=ladder["t-silver"]) == 1
    settings.LOYALTY_POINTS_PER_YUAN = D("2")
    # 1999.99 x 2 x 1.2 = 4799.976
    assert points_earn(member=silver, reference="ORD-E2", spend=D("1999.99"),
                       channel="store").points == 4799
    assert balance_holds(member) == 1999 and balance_holds(silver) == 4799


@pytest.mark.django_db
def test_an_order_earns_once(ladder):
    member = member_with(0)
    first = points_earn(member=member, reference="ORD-ONCE", spend=D("500.00"), channel="online")
    assert first is not None
    assert points_earn(member=member, reference="ORD-ONCE", spend=D("500.00"),
                       channel="online") is None
    assert PointsEntry.objects.filter(kind=PointsKind.EARN, reference="ORD-ONCE").count() == 1
    assert balance_holds(member) == 500
    assert points_earn(member=member, reference="ORD-NOTHING", spend=D("0"),
                       channel="online") is None
    assert balance_holds(member) == 500


# --- Redeeming -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_redeeming_takes_from_the_balance_and_never_more_than_it(ladder):
    member = member_with(1000)
    entry = points_redeem(member=member, points=300, reference="ORD-R1")
    assert (entry.kind, entry.points, entry.reference) == (PointsKind.REDEEM, -300, "ORD-R1")
    assert balance_holds(member) == 700
    with pytest.raises(PointsInsufficient) as caught:
        points_redeem(member=member, points=701, reference="ORD-R2")
    assert caught.value.status == 409 and caught.value.extra == {"balance": 700}
    assert not PointsEntry.objects.filter(reference="ORD-R2").exists()
    assert balance_holds(member) == 700
    points_redeem(member=member, points=700, reference="ORD-R3")
    assert balance_holds(member) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("points", [0, -5, True, 1.5, "10", None])
def test_points_to_redeem_must_be_a_positive_whole_number(ladder, points):
    member = member_with(100)
    with pytest.raises(PointsInvalid):
        points_redeem(member=member, points=points, reference="ORD-BAD")
    assert balance_holds(member) == 100
    assert PointsEntry.objects.filter(member=member).count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_redemptions_of_100_from_1000_give_exactly_ten():
    member = member_with(1000)
    done, errors = race(20, lambda i: points_redeem(member=member, points=100,
                                                    reference=f"ORD-P-{i}"))
    assert len(done) == 10 and len(errors) == 10
    assert all(isinstance(e, PointsInsufficient) for e in errors), errors
    assert balance_holds(member) == 0
    assert PointsEntry.objects.filter(member=member, kind=PointsKind.REDEEM).count() == 10


@pytest.mark.django_db(transaction=True)
def test_the_balance_equals_the_ledger_whatever_runs_at_once():
    """Redemptions, staff adjustments, earnings and givings back of one member in parallel."""
    tiers_ladder()
    member = member_with(500)
    staff = StaffFactory()
    for n in range(4):
        points_redeem(member=member, points=50, reference=f"ORD-G-{n}")

    def work(i):
        kind = i % 4
        if kind == 0:
            return points_redeem(member=member, points=120, reference=f"ORD-M-{i}")
        if kind == 1:
            return points_adjust(member=member, points=-30, note="correction", actor=staff)
        if kind == 2:
            return points_earn(member=member, reference=f"ORD-E-{i}", spend=D("75.00"),
                               channel="store")
        return points_return(reference=f"ORD-G-{i // 4}")

    done, errors = race(16, work)
    assert all(isinstance(e, PointsInsufficient) for e in errors), errors
    assert len(done) + len(errors) == 16
    final = balance_holds(member)
    assert final >= 0
    redeemed = PointsEntry.objects.filter(member=member, kind=PointsKind.REDEEM,
                                          reference__startswith="ORD-M-").count()
    assert final == 500 - 4 * 50 + 4 * 50 - 120 * redeemed - 4 * 30 + 4 * 75


# --- The ledger is append-only -------------------------------------------------------------


@pytest.mark.django_db
def test_a_ledger_row_cannot_be_updated(ladder):
    member = member_with(100)
    entry = PointsEntry.objects.get(member=member)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PointsEntry.objects.filter(pk=entry.pk).update(points=100000)
    entry.points = 100000
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        entry.save()
    assert PointsEntry.objects.get(pk=entry.pk).points == 100
    assert balance_holds(member) == 100


# --- Reversal and giving back --------------------------------------------------------------


@pytest.mark.django_db
def test_reversal_takes_back_in_proportion_partial_then_full_and_never_twice(ladder):
    member = member_with(0)
    points_earn(member=member, reference="ORD-RV", spend=D("1333.33"), channel="online")
    assert balance_holds(member) == 1333

    third = points_reverse(reference="ORD-RV", refunded=D("444.44"), paid=D("1333.33"))
    assert (third.kind, third.points, third.spend) == (PointsKind.REVERSE, -444, D("-444.44"))
    # The same refund told twice takes nothing more.
    assert points_reverse(reference="ORD-RV", refunded=D("444.44"), paid=D("1333.33")) is None

    rest = points_reverse(reference="ORD-RV", refunded=D("1333.33"), paid=D("1333.33"))
    assert (rest.points, rest.spend) == (-889, D("-888.89"))
    assert points_reverse(reference="ORD-RV", refunded=D("1333.33"), paid=D("1333.33")) is None
    assert points_reverse(reference="ORD-RV", refunded=D("9999.00"), paid=D("1333.33")) is None
    entries = PointsEntry.objects.filter(reference="ORD-RV")
    assert sum(e.points for e in entries) == 0
    assert sum(e.spend for e in entries) == D("0.00")
    assert balance_holds(member) == 0
    assert points_reverse(reference="ORD-NEVER-EARNED", refunded=D("10"), paid=D("10")) is None


@pytest.mark.django_db
def test_a_reversal_after_the_points_were_spent_may_take_the_balance_below_zero(ladder):
    member = member_with(0)
    points_earn(member=member, reference="ORD-SPENT", spend=D("1000.00"), channel="online")
    points_redeem(member=member, points=900, reference="ORD-NEXT")
    points_reverse(reference="ORD-SPENT", refunded=D("1000.00"), paid=D("1000.00"))
    assert balance_holds(member) == -900
    with pytest.raises(PointsInsufficient):
        points_redeem(member=member, points=1, reference="ORD-MORE")


@pytest.mark.django_db
def test_redeemed_points_are_given_back_once(ladder):
    member, clerk = member_with(1000), StaffFactory()
    points_redeem(member=member, points=400, reference="ORD-GB", channel="store", actor=clerk)
    back = points_return(reference="ORD-GB", actor=clerk)
    assert (back.kind, back.points, back.channel, back.actor) == (
        PointsKind.RETURN, 400, "store", clerk)
    assert points_return(reference="ORD-GB") is None
    assert points_return(reference="ORD-NO-POINTS") is None
    assert balance_holds(member) == 1000


# --- Rules ---------------------------------------------------------------------------------


def test_points_pay_at_most_the_configured_share_and_never_more_than_the_balance(settings):
    settings.LOYALTY_POINT_VALUE = D("0.01")
    settings.LOYALTY_REDEEM_MAX_SHARE = D("0.5")
    assert points_max_for(amount=D("1000.00"), balance=100000) == 50000
    assert points_max_for(amount=D("1000.00"), balance=3000) == 3000
    assert points_max_for(amount=D("999.99"), balance=100000) == 49999  # 499.995 -> 499.99
    assert points_max_for(amount=D("0"), balance=100) == 0
    assert points_max_for(amount=D("100.00"), balance=0) == 0
    assert points_max_for(amount=D("100.00"), balance=-50) == 0
    settings.LOYALTY_REDEEM_MAX_SHARE = D("0.2")
    settings.LOYALTY_POINT_VALUE = D("0.05")
    assert points_max_for(amount=D("1000.00"), balance=100000) == 4000  # 200 yuan
    assert points_value(4000) == D("200.00")


def test_points_are_worth_their_value_rounded_down_to_the_cent(settings):
    settings.LOYALTY_POINT_VALUE = D("0.01")
    assert points_value(150) == D("1.50")
    assert points_value(0) == D("0.00")
    settings.LOYALTY_POINT_VALUE = D("0.015")
    assert points_value(333) == D("4.99")  # 4.995


@pytest.mark.django_db
def test_a_staff_adjustment_needs_a_reason_and_a_whole_number(ladder):
    member, staff = member_with(0), StaffFactory()
    with pytest.raises(PointsInvalid) as caught:
        points_adjust(member=member, points=10, note="  ", actor=staff)
    assert caught.value.code == "note_required"
    for wrong in (0, 2.5, False):
        with pytest.raises(PointsInvalid):
            points_adjust(member=member, points=wrong, note="goodwill", actor=staff)
    entry = points_adjust(member=member, points=-20, note=" mistake ", actor=staff)
    assert (entry.kind, entry.points, entry.note, entry.actor) == (
        PointsKind.ADJUST, -20, "mistake", staff)
    assert balance_holds(member) == -20
