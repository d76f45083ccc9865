"""The demo's loyalty: members in every tier, balances equal to their ledgers (the demo
shopper a gold member with a few thousand points), points earned for the history and
spent on some orders, coupons in wallets and redeemed online and at counters, consents
with their history; and a second run adds nothing."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from devtools.demo.load import row_counts
from devtools.demo.loyalty import PUBLIC_CODE
from devtools.demo.people import DEMO_MEMBER_EMAIL
from members.models import (
    Channel,
    Consent,
    Coupon,
    CouponChannel,
    CouponStatus,
    MemberProfile,
    PointsEntry,
    PointsKind,
    Redemption,
    Tier,
    User,
)
from members.services import points_balance, points_ledger_sum
from members.services.coupons import coupons_usable
from orders.models import Order, OrderChannel, OrderStatus, Payment, PaymentStatus

REACHED = [OrderStatus.COLLECTED, OrderStatus.DELIVERED, OrderStatus.COMPLETED]


def _balances() -> dict[int, int]:
    return dict(MemberProfile.objects.values_list("user_id", "points_balance"))


@pytest.mark.django_db
def test_the_demo_has_every_tier_points_and_coupons_used_online_and_at_counters():
    out = io.StringIO()
    call_command("load_demo", "--small", stdout=out)
    for step in ("top spenders", "points and tiers", "consents", "coupons", "coupons used"):
        assert step in out.getvalue(), step

    # Every tier has members; every cached balance is its ledger's sum.
    for tier in Tier.objects.all():
        assert MemberProfile.objects.filter(tier=tier).exists(), tier.code
    wrong = (MemberProfile.objects
             .annotate(ledger=Coalesce(Sum("user__points_entries__points"), 0))
             .exclude(points_balance=F("ledger")))
    assert list(wrong.values_list("user_id", "points_balance", "ledger")) == []

    shopper = User.objects.get(email=DEMO_MEMBER_EMAIL)
    assert shopper.profile.tier.code == "gold"
    balance = points_balance(member=shopper)
    assert balance == points_ledger_sum(member=shopper)
    assert 1_000 <= balance < 10_000

    # Every order that reached its member earned on what was paid; orders paid in part
    # with points show them, and their payment is the rest.
    earned = dict(PointsEntry.objects.filter(kind=PointsKind.EARN)
                  .values_list("reference", "spend"))
    reached = Order.objects.filter(member__isnull=False, status__in=REACHED, total__gt=0)
    assert reached.count() > 20
    for number, total in reached.values_list("number", "total"):
        assert earned[number] == total, number
    redeemed = PointsEntry.objects.filter(kind=PointsKind.REDEEM)
    assert redeemed.filter(channel=Channel.ONLINE).exists()
    assert redeemed.filter(channel=Channel.STORE).exists()
    for entry in redeemed:
        order = Order.objects.get(number=entry.reference)
        assert order.points_redeemed == -entry.points, order.number
        assert order.total == order.subtotal - order.coupon_discount - order.points_discount
        paid = Payment.objects.filter(order=order, status=PaymentStatus.SUCCEEDED).first()
        assert paid is None or paid.amount == order.total, order.number

    # Coupons redeemed in both channels: a printed code and points at a counter, wallet
    # coupons and the public code online.
    live = Redemption.objects.filter(reversed_at__isnull=True)
    assert live.filter(channel=CouponChannel.ONLINE).exists()
    assert live.filter(channel=CouponChannel.STORE, coupon__batch__isnull=False).exists()
    assert live.filter(coupon__code=PUBLIC_CODE).exists()
    for redemption in live:
        order = Order.objects.get(number=redemption.reference)
        assert order.coupon_discount == redemption.discount
        assert order.channel == (OrderChannel.STORE if redemption.channel == CouponChannel.STORE
                                 else OrderChannel.ONLINE)
    assert Order.objects.filter(channel=OrderChannel.STORE, points_redeemed__gt=0,
                                events__kind="placed", events__data__via="counter").exists()

    # The shopper's wallet: usable online and store-only coupons, used ones, an expired one.
    now = timezone.now()
    assert coupons_usable(member=shopper, channel="online", now=now)
    assert any(c.definition.channel == CouponChannel.STORE
               for c in coupons_usable(member=shopper, channel="store", now=now))
    mine = Coupon.objects.filter(member=shopper)
    assert mine.filter(status=CouponStatus.REDEEMED).count() >= 2
    assert mine.filter(status=CouponStatus.ISSUED, expires_at__lt=now).exists()
    # The loyalty offers' holders: what campaigns and journeys gave through marketing's reach
    # (occasion "campaign:..." / "journey:...", devtools/demo/marketing.py and journeys.py) apart.
    holders = (Coupon.objects.exclude(member=None).exclude(occasion__startswith="journey:")
               .exclude(occasion__startswith="campaign:")
               .values("member").distinct().count())
    assert 0.2 <= holders / MemberProfile.objects.count() <= 0.5

    # Consents on both channels, given online and in stores, some withdrawn.
    assert {"email", "sms"} <= set(Consent.objects.values_list("channel", flat=True))
    assert Consent.objects.filter(source=Channel.STORE, store__isnull=False).exists()
    assert Consent.objects.filter(withdrawn_at__isnull=False).exists()

    counts, balances = row_counts(), _balances()
    totals = Order.objects.aggregate(s=Sum("total"))["s"]
    again = io.StringIO()
    call_command("load_demo", "--small", stdout=again)
    assert row_counts() == counts
    assert _balances() == balances
    assert Order.objects.aggregate(s=Sum("total"))["s"] == totals
    assert "coupons used      already there" in again.getvalue()


@pytest.mark.django_db
def test_the_balance_rebuild_sets_the_cache_to_the_ledger():
    from members.services import points_balance_rebuild
    from tests.members.factories import UserFactory

    first, second, third = UserFactory(), UserFactory(), UserFactory()
    for member in (first, second, third):
        MemberProfile.objects.get_or_create(user=member)
    PointsEntry.objects.bulk_create([
        PointsEntry(member=first, kind=PointsKind.EARN, points=1200, spend=Decimal("1200"),
                    reference="O1"),
        PointsEntry(member=first, kind=PointsKind.REDEEM, points=-200, reference="O2"),
        PointsEntry(member=second, kind=PointsKind.EARN, points=50, spend=Decimal("50"),
                    reference="O3"),
    ])
    MemberProfile.objects.filter(user=third).update(points_balance=7)  # a stale cache

    assert points_balance_rebuild(member_ids=[first.pk]) == 1
    assert _balances()[first.pk] == 1000 and _balances()[second.pk] == 0
    assert points_balance_rebuild() == 2  # the second's 50, the third's 7 -> 0
    assert {m.pk: _balances()[m.pk] for m in (first, second, third)} == {
        first.pk: 1000, second.pk: 50, third.pk: 0}
    assert points_balance_rebuild() == 0
