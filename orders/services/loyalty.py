"""Coupons and points on orders: the one place orders calls marketing's coupon engine and
members' points ledger.

Placing an order (online or at a counter) redeems its coupon and its points in the
order's transaction (``order_discounts_apply``); the order's status moves decide the
rest (``order_loyalty_on_move``, called by lifecycle._move before the stock effect, so
the lock order stays order -> coupon -> member profile -> stock):

    cancelled                            coupon and redeemed points given back
    refunded before the hand-over        the same
    collected, delivered                 points earned on what was paid (the tier follows)
    refunded after the hand-over         earned points (and counted spend) taken back in
                                         proportion; fully refunded: coupon and redeemed
                                         points given back too
    partially refunded                   earned points taken back in proportion

Order of the discounts: the coupon first (on the pieces it covers), then points, at most
LOYALTY_REDEEM_MAX_SHARE of what is left. An order always has something left to pay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from catalog.models import Variant
from members.errors import PointsInvalid
from members.models import User
from members.services import (
    points_balance,
    points_earn,
    points_max_for,
    points_redeem,
    points_return,
    points_reverse,
    points_value,
)
from members.services.coupons import (
    CouponNotApplicable,
    CouponQuote,
    coupon_check,
    coupon_redeem,
    coupon_redemption_reverse,
)

from ..models import Order, OrderChannel, OrderStatus, Refund, RefundStatus

S = OrderStatus
HANDED_OVER = frozenset({S.COLLECTED, S.DELIVERED, S.COMPLETED, S.PARTIALLY_REFUNDED})


@dataclass
class Discounts:
    """What a coupon and points take off ``subtotal``; ``coupon_error`` / ``points_error``
    say why one was not applied (a preview shows them; placing an order raises them)."""

    subtotal: Decimal
    coupon: CouponQuote | None = None
    coupon_error: CouponNotApplicable | None = None
    points: int = 0
    points_max: int = 0
    points_balance: int = 0
    points_error: PointsInvalid | None = None

    @property
    def coupon_discount(self) -> Decimal:
        return self.coupon.discount if self.coupon else Decimal("0.00")

    @property
    def points_discount(self) -> Decimal:
        return points_value(self.points)

    @property
    def discount(self) -> Decimal:
        return self.coupon_discount + self.points_discount

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount


def _channel(channel: str) -> str:
    return "store" if channel == OrderChannel.STORE else "online"


def discounts_quote(*, lines: Sequence[tuple[Variant, Decimal]], member: User | None,
                    channel: str, coupon_code: str = "", points: int = 0,
                    now: datetime | None = None) -> Discounts:
    """What ``coupon_code`` and ``points`` would take off these lines now, without
    writing anything: for the checkout's review, the cart API and the counter's preview.
    A coupon or a number of points that does not apply is left out, with the reason."""
    subtotal = sum((amount for _variant, amount in lines), Decimal("0.00"))
    quote = Discounts(subtotal=subtotal)
    if coupon_code:
        try:
            quote.coupon = coupon_check(code=coupon_code, member=member, channel=_channel(channel),
                                        lines=lines, with_points=points > 0, now=now)
        except CouponNotApplicable as problem:
            quote.coupon_error = problem
    if quote.coupon and quote.coupon.discount >= subtotal:
        quote.coupon_error, quote.coupon = _free_order_refused(), None
    if member is not None:
        quote.points_balance = points_balance(member=member)
        quote.points_max = points_max_for(amount=subtotal - quote.coupon_discount,
                                          balance=quote.points_balance)
    if points:
        try:
            _points_check(points, quote.points_max)
            quote.points = points
        except PointsInvalid as problem:
            quote.points_error = problem
    return quote


def _free_order_refused() -> CouponNotApplicable:
    return CouponNotApplicable(
        _("This coupon would cover the whole order; please ask in a store."),
        code="coupon_covers_everything")


def _points_check(points: int, points_max: int) -> None:
    if not isinstance(points, int) or isinstance(points, bool) or points < 0:
        raise PointsInvalid(_("Give the points to use as a whole number."))
    if points > points_max:
        raise PointsInvalid(
            _("You can use at most %(max)s points on this order.") % {"max": points_max},
            code="points_over_limit", extra={"max": points_max})


def order_discounts_event_data(order: Order) -> dict:
    """The order's coupon and points for its "placed" event (empty when it used none)."""
    data = {}
    if order.coupon_code:
        data.update(coupon=order.coupon_code, coupon_discount=str(order.coupon_discount))
    if order.points_redeemed:
        data.update(points=order.points_redeemed, points_discount=str(order.points_discount))
    return data


def order_discounts_apply(*, order: Order, lines: Sequence[tuple[Variant, Decimal]],
                          member: User | None, coupon_code: str = "", points: int = 0,
                          store=None, actor: User | None = None,
                          now: datetime | None = None) -> Order:
    """Redeem the coupon and the points on a new ``order`` (inside its transaction) and
    set its amounts. Raises CouponNotApplicable (with the reason), PointsInvalid or
    PointsInsufficient (409): the caller's transaction then writes nothing."""
    if not coupon_code and not points:
        return order
    if points and member is None:
        raise PointsInvalid(_("Sign in to use your points."), code="points_need_member")
    subtotal = order.subtotal
    coupon_discount = Decimal("0.00")
    if coupon_code:
        redemption = coupon_redeem(code=coupon_code, member=member, channel=_channel(order.channel),
                                   lines=lines, reference=order.number, store=store, actor=actor,
                                   with_points=points > 0, now=now)
        if redemption.discount >= subtotal:
            raise _free_order_refused()
        coupon_discount = redemption.discount
        order.coupon_code = redemption.coupon.code
    if points:
        _points_check(points, points_max_for(amount=subtotal - coupon_discount,
                                             balance=points_balance(member=member)))
        points_redeem(member=member, points=points, reference=order.number,
                      channel=_channel(order.channel), actor=actor, now=now)
    order.coupon_discount = coupon_discount
    order.points_redeemed = points
    order.points_discount = points_value(points)
    order.discount = order.coupon_discount + order.points_discount
    order.total = subtotal - order.discount
    order.save(update_fields=["coupon_code", "coupon_discount", "points_redeemed",
                              "points_discount", "discount", "total", "updated_at"])
    return order


def _refunded(order: Order) -> Decimal:
    return Refund.objects.filter(payment__order=order, status=RefundStatus.SUCCEEDED).aggregate(
        s=Sum("amount"))["s"] or Decimal("0.00")


def _give_back(order: Order, actor: User | None, now: datetime) -> None:
    coupon_redemption_reverse(reference=order.number, actor=actor, now=now)
    points_return(reference=order.number, actor=actor, now=now)


def order_loyalty_on_move(*, order: Order, previous: str, to: str, actor: User | None,
                          now: datetime) -> None:
    """What a status move does to the order's coupon and points (module docstring).
    ``order`` is locked by the caller. Each step is idempotent."""
    if to == S.CANCELLED:
        _give_back(order, actor, now)
    elif to in (S.COLLECTED, S.DELIVERED):
        if order.member_id and order.total > 0:
            points_earn(member=order.member, reference=order.number, spend=order.total,
                        channel=_channel(order.channel), actor=actor, now=now)
    elif to in (S.REFUNDED, S.PARTIALLY_REFUNDED):
        # The coupon before anything of the member's points: the lock order is coupon ->
        # profile (coupon_redeem's), else a refund and a checkout of the same member
        # could deadlock.
        if to == S.REFUNDED:
            coupon_redemption_reverse(reference=order.number, actor=actor, now=now)
        if previous in HANDED_OVER:
            refunded = order.total if to == S.REFUNDED else _refunded(order)
            points_reverse(reference=order.number, refunded=refunded, paid=order.total,
                           actor=actor, now=now)
        if to == S.REFUNDED:
            points_return(reference=order.number, actor=actor, now=now)
