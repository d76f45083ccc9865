"""Coupons are redeemed exactly as often as their limits say, however many try at once:
real parallel connections to PostgreSQL (tests.concurrency.race), each racer its own
transaction through members.services.coupons."""

from decimal import Decimal

import pytest

from members.models import CouponStatus, MemberProfile, Redemption
from members.services.coupons import (
    CouponNotApplicable,
    coupon_redeem,
    coupon_redemption_reverse,
)
from tests.concurrency import race
from tests.members.coupon_engine_factories import category, coupon, definition, piece
from tests.members.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lines():
    ring = piece(in_category=category("戒指"), price="2000.00")
    return [(ring, Decimal("2000.00"))]


def reasons(errors):
    assert all(isinstance(e, CouponNotApplicable) for e in errors), errors
    return {e.code for e in errors}


def test_twenty_parallel_redemptions_of_a_single_use_code_give_one(lines):
    printed = coupon(definition(value=Decimal("200.00")), code="PRINTED01")

    def redeem(i):
        return coupon_redeem(code="printed-01", member=None, channel="store", lines=lines,
                             reference=f"ORD-SU-{i}")

    won, errors = race(20, redeem)
    assert len(won) == 1 and len(errors) == 19
    assert reasons(errors) == {"coupon_used"}
    printed.refresh_from_db()
    assert (printed.uses, printed.status) == (1, CouponStatus.REDEEMED)
    assert list(Redemption.objects.values_list("reference", flat=True)) == [won[0].reference]


def test_a_members_own_coupon_raced_from_two_devices_is_redeemed_once(lines):
    member = UserFactory()
    own = coupon(member=member)
    won, errors = race(10, lambda i: coupon_redeem(code=own.code, member=member, channel="online",
                                                   lines=lines, reference=f"ORD-OWN-{i}"))
    assert len(won) == 1 and reasons(errors) == {"coupon_used"}
    own.refresh_from_db()
    assert (own.uses, own.status) == (1, CouponStatus.REDEEMED)
    assert Redemption.objects.filter(coupon=own).count() == 1


def test_a_total_limit_of_three_raced_by_twenty_members_with_a_public_code_gives_three(lines):
    offer = definition(total_limit=3)
    public = coupon(offer, code="FIRST3", max_uses=None)
    members = [UserFactory() for _ in range(20)]
    won, errors = race(20, lambda i: coupon_redeem(code="first3", member=members[i],
                                                   channel="online", lines=lines,
                                                   reference=f"ORD-TL-{i}"))
    assert len(won) == 3 and len(errors) == 17
    assert reasons(errors) == {"coupon_limit_reached"}
    assert Redemption.objects.filter(definition=offer, reversed_at__isnull=True).count() == 3
    assert len({r.member_id for r in Redemption.objects.all()}) == 3
    public.refresh_from_db()
    assert (public.uses, public.status) == (0, CouponStatus.ISSUED)  # a public code counts none


def test_one_member_racing_ten_orders_with_a_per_member_limit_of_one_gets_one(lines):
    offer = definition(per_member_limit=1)
    coupon(offer, code="ONCEEACH", max_uses=None)
    member = UserFactory()
    assert not MemberProfile.objects.filter(user=member).exists()  # made on the way, too
    won, errors = race(10, lambda i: coupon_redeem(code="ONCEEACH", member=member,
                                                   channel="online", lines=lines,
                                                   reference=f"ORD-PM-{i}"))
    assert len(won) == 1 and reasons(errors) == {"coupon_limit_reached"}
    assert Redemption.objects.filter(definition=offer, member=member).count() == 1
    assert MemberProfile.objects.filter(user=member).count() == 1


def test_parallel_reversals_of_one_order_give_the_coupon_back_once_then_it_redeems_again(lines):
    member = UserFactory()
    own = coupon(member=member)
    coupon_redeem(code=own.code, member=member, channel="online", lines=lines,
                  reference="ORD-BACK")
    done, errors = race(8, lambda i: coupon_redemption_reverse(reference="ORD-BACK"))
    assert not errors
    assert len([r for r in done if r is not None]) == 1
    own.refresh_from_db()
    assert (own.uses, own.status) == (0, CouponStatus.ISSUED)
    assert Redemption.objects.get(reference="ORD-BACK").reversed_at is not None

    won, errors = race(5, lambda i: coupon_redeem(code=own.code, member=member,
                                                  channel="online", lines=lines,
                                                  reference=f"ORD-AGAIN-{i}"))
    assert len(won) == 1 and reasons(errors) == {"coupon_used"}
    own.refresh_from_db()
    assert (own.uses, own.status) == (1, CouponStatus.REDEEMED)
    assert Redemption.objects.filter(reversed_at__isnull=True).count() == 1
