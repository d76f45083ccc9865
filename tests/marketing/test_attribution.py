"""Attribution: the arithmetic, against hand-built reaches, orders and redemptions."""

from datetime import timedelta
from decimal import Decimal

import pytest

from marketing.models import Touch
from marketing.selectors import attribution, lift_interval
from members.models import Redemption
from o2o.models import OutboxMessage
from tests.members.coupon_factories import CouponDefinitionFactory, CouponFactory
from tests.stores.factories import StoreFactory

from .factories import NOON, paid_order, profile

pytestmark = pytest.mark.django_db


def touch(member, outcome="sent", reason="", coupon=None, **fields):
    return Touch.objects.create(source="campaign", source_id=7, member=member, outcome=outcome,
                                reason=reason, coupon=coupon, at=NOON, **fields)


def test_counts_redemptions_orders_revenue_and_lift():
    store = StoreFactory(code="xd", name="徐汇店")
    definition = CouponDefinitionFactory()
    treated = [profile() for _ in range(8)]
    held = [profile() for _ in range(4)]
    coupons = [CouponFactory(definition=definition, member=m) for m in treated[:6]]
    for i, member in enumerate(treated[:6]):
        touch(member, coupon=coupons[i], opened_at=NOON if i < 4 else None,
              clicked_at=NOON if i < 2 else None)
    touch(treated[6], outcome="skipped", reason="no_consent")
    touch(treated[7], outcome="skipped", reason="capped")
    for member in held:
        touch(member, outcome="holdout", reason="holdout")
    # Orders: two treated online, one treated at the counter with the campaign's coupon,
    # one too late, one cancelled, one before the reach; one holdout order.
    paid_order(treated[0], total="1000.00", at=NOON + timedelta(days=1))
    paid_order(treated[1], total="2000.00", at=NOON + timedelta(days=2))
    counter = paid_order(treated[2], channel="store", store=store, total="3000.00",
                         at=NOON + timedelta(days=3))
    paid_order(treated[3], total="500.00", at=NOON + timedelta(days=9))
    paid_order(treated[4], total="500.00", at=NOON + timedelta(days=1), status="cancelled")
    paid_order(treated[5], total="500.00", at=NOON - timedelta(days=1))
    paid_order(held[0], total="800.00", at=NOON + timedelta(days=1))
    Redemption.objects.create(coupon=coupons[2], definition=definition, member=treated[2],
                              reference=counter.number, channel="store", store=store,
                              discount=Decimal("200.00"), redeemed_at=NOON + timedelta(days=3))
    Redemption.objects.create(coupon=coupons[0], definition=definition, member=treated[0],
                              reference="X1", channel="online", discount=Decimal("200.00"),
                              redeemed_at=NOON + timedelta(days=1))
    Redemption.objects.create(coupon=coupons[1], definition=definition, member=treated[1],
                              reference="X2", channel="online", discount=Decimal("200.00"),
                              redeemed_at=NOON, reversed_at=NOON + timedelta(days=1))
    first = Touch.objects.order_by("pk").first()
    OutboxMessage.objects.create(channel="email", kind="marketing.reach.email",
                                 recipient="a@b.c", dedupe_key="k1",
                                 about=f"marketing.touch:{first.pk}",
                                 state="sent", due_at=NOON, sent_at=NOON)

    report = attribution(source="campaign", source_id=7)
    assert report.window_days == 7
    assert (report.audience, report.sent, report.held_out) == (12, 6, 4)
    assert report.skipped == {"no_consent": 1, "capped": 1}
    assert (report.opened, report.clicked, report.coupons) == (4, 2, 6)
    assert report.delivered == 1
    assert report.redeemed_online == 1 and report.redeemed_by_store == {"徐汇店": 1}
    assert report.discount == Decimal("400.00")
    assert report.treated.members == 8 and report.treated.converted == 3
    assert report.treated.orders == 3 and report.treated.revenue == Decimal("6000.00")
    assert report.treated.revenue_online == Decimal("3000.00")
    assert report.treated.by_store == {"徐汇店": (1, Decimal("3000.00"))}
    assert report.holdout.members == 4 and report.holdout.converted == 1
    assert report.holdout.revenue == Decimal("800.00")
    # 3/8 - 1/4 = 12.5 points
    assert report.lift == pytest.approx(12.5)
    assert report.lift_low < 12.5 < report.lift_high
    wider = attribution(source="campaign", source_id=7, window_days=10)
    assert wider.treated.orders == 4


def test_lift_interval_arithmetic():
    lift, low, high = lift_interval(30, 100, 20, 100)
    assert lift == pytest.approx(10.0)
    se = (0.3 * 0.7 / 100 + 0.2 * 0.8 / 100) ** 0.5 * 100
    assert low == pytest.approx(10.0 - 1.959964 * se)
    assert high == pytest.approx(10.0 + 1.959964 * se)
    assert lift_interval(3, 10, 0, 0) == (None, None, None)


def test_nothing_reached_reports_zeros():
    report = attribution(source="journey", source_id=99)
    assert report.audience == 0 and report.lift is None and report.treated.conversion is None
