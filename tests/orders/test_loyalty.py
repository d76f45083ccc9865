"""Coupons and points on orders (orders.services.loyalty through the real order services):
the amounts on the order and what is charged; cancel, expiry and refunds giving back the
coupon and the points; points earned on what was paid when the pieces reach the member,
taken back in proportion on a return; the counter sale with a printed code; the cart's
coupon and points, and a coupon that stops applying before the order is placed."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.urls import reverse

from members.errors import PointsInsufficient, PointsInvalid
from members.models import (
    Coupon,
    CouponChannel,
    CouponStatus,
    DiscountKind,
    MemberProfile,
    PointsEntry,
    PointsKind,
    Redemption,
)
from members.services import points_adjust, points_balance, points_redeem
from members.services.coupon_issuing import coupon_batch_create, coupon_void
from members.services.coupons import CouponNotApplicable, coupon_redeem
from members.services.points import points_ledger_sum
from orders.errors import PaymentMismatch
from orders.models import Cart, Fulfilment, Order, OrderEvent, OrderStatus, Payment
from orders.services import (
    order_cancel,
    order_collect,
    order_pay,
    order_place,
    order_transition,
    orders_expire,
)
from orders.services.cart import cart_add, cart_discounts, cart_discounts_set
from orders.services.checkout import checkout_place
from orders.services.counter import PricesMoved, order_sell_at_counter
from orders.services.loyalty import discounts_quote
from orders.services.payments import payment_refund
from stores.models import StockLevel
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.concurrency import race
from tests.fixtures import staff_of
from tests.members.coupon_engine_factories import coupon, definition, tiers_ladder
from tests.members.factories import StaffFactory, UserFactory
from tests.orders.factories import pay
from tests.stores.factories import StoreFactory, warehouse

S = OrderStatus
D = Decimal
CONTACT = {"contact_name": "林小姐", "contact_phone": "+8613800138000",
           "contact_email": "lin@example.com"}
ADDRESS = {"recipient": "林小姐", "phone": "13800138000", "province": "上海市",
           "city": "上海市", "district": "静安区", "street": "南京西路 1266 号 2 楼",
           "postcode": "200040"}


@pytest.fixture(autouse=True)
def rules(settings):
    settings.LOYALTY_POINTS_PER_YUAN = D("1")
    settings.LOYALTY_POINT_VALUE = D("0.01")
    settings.LOYALTY_REDEEM_MAX_SHARE = D("0.5")


@pytest.fixture
def shop(db):
    """A store with three rings of ¥12,000, a member with 10,000 points and a ¥200-off
    coupon of their own; the tier ladder classic 0 / silver 10,000 / gold 50,000."""
    ladder = tiers_ladder()
    store = StoreFactory(code="loy-a")
    ring = VariantFactory(list_price=D("12000.00"))
    stock_receive(store=store, variant=ring, quantity=3)
    member = UserFactory()
    points_adjust(member=member, points=10000, note="welcome", actor=StaffFactory())
    own = coupon(definition(value=D("200.00")), member=member)
    return {"store": store, "ring": ring, "member": member, "coupon": own, "ladder": ladder}


def place(shop, *, coupon_code=None, points=8000, **kwargs) -> Order:
    return order_place(lines=[(shop["ring"], 1)], fulfilment=Fulfilment.PICKUP,
                       store=shop["store"], member=shop["member"],
                       coupon_code=shop["coupon"].code if coupon_code is None else coupon_code,
                       points=points, **kwargs)


def amounts(order):
    order.refresh_from_db()
    return (order.subtotal, order.coupon_discount, order.points_discount, order.discount,
            order.total)


def reserved(shop):
    return StockLevel.objects.get(store=shop["store"], variant=shop["ring"]).reserved


def balance(member) -> int:
    cached = points_balance(member=member)
    assert cached == points_ledger_sum(member=member)  # the invariant, every time
    return cached


def entries(order, kind):
    return list(PointsEntry.objects.filter(reference=order.number, kind=kind)
                .values_list("points", flat=True))


def coupon_state(shop):
    own = Coupon.objects.get(pk=shop["coupon"].pk)
    return own.uses, own.status


def profile(member):
    return MemberProfile.objects.select_related("tier").get(user=member)


# --- Placing and paying --------------------------------------------------------------------


def test_an_online_order_with_a_coupon_and_points_carries_the_amounts_and_is_charged_its_total(
        shop):
    order = place(shop)
    assert amounts(order) == (D("12000.00"), D("200.00"), D("80.00"), D("280.00"),
                              D("11720.00"))
    # The table's CHECK constraints: total = subtotal - discount, discount = coupon + points.
    assert order.total == order.subtotal - order.discount
    assert order.discount == order.coupon_discount + order.points_discount
    assert (order.coupon_code, order.points_redeemed) == (shop["coupon"].code, 8000)
    redemption = Redemption.objects.get(reference=order.number)
    assert (redemption.coupon, redemption.member, redemption.channel, redemption.store,
            redemption.discount) == (shop["coupon"], shop["member"], "online", None,
                                     D("200.00"))
    assert coupon_state(shop) == (1, CouponStatus.REDEEMED)
    assert entries(order, PointsKind.REDEEM) == [-8000]
    assert balance(shop["member"]) == 2000
    placed = OrderEvent.objects.get(order=order, kind="placed").data
    assert (placed["coupon"], placed["coupon_discount"], placed["points"],
            placed["points_discount"]) == (shop["coupon"].code, "200.00", 8000, "80.00")

    with pytest.raises(PaymentMismatch):  # the subtotal is not what is owed
        order_pay(order=order, provider="test", reference="pay-subtotal", amount=order.subtotal,
                  currency=order.currency)
    paid = pay(order)
    assert Payment.objects.get(order=order).amount == D("11720.00")
    assert paid.status == S.READY_FOR_PICKUP
    assert entries(order, PointsKind.EARN) == []  # earned at the hand-over, not when paid


def test_a_coupon_code_as_typed_is_stored_cleaned_on_the_order(shop):
    typed = " " + "-".join(shop["coupon"].code.lower()[i:i + 4] for i in range(0, 16, 4))
    order = place(shop, coupon_code=typed, points=0)
    assert order.coupon_code == shop["coupon"].code
    assert amounts(order)[1:] == (D("200.00"), D("0.00"), D("200.00"), D("11800.00"))


def test_points_are_refused_beyond_the_share_or_the_balance_and_nothing_is_written(shop):
    # Points pay at most half of what is left after the coupon: ¥5,900 = 590,000 points.
    points_adjust(member=shop["member"], points=600000, note="a lot", actor=StaffFactory())
    with pytest.raises(PointsInvalid) as caught:
        place(shop, points=590001)
    assert caught.value.code == "points_over_limit" and caught.value.extra == {"max": 590000}
    assert not Order.objects.exists() and not Redemption.objects.exists()
    assert reserved(shop) == 0
    assert balance(shop["member"]) == 610000
    order = place(shop, points=590000)
    assert amounts(order)[1:] == (D("200.00"), D("5900.00"), D("6100.00"), D("5900.00"))


def test_a_guest_cannot_use_points_and_a_member_coupon_is_not_a_guests(shop):
    with pytest.raises(PointsInvalid) as caught:
        order_place(lines=[(shop["ring"], 1)], fulfilment=Fulfilment.PICKUP,
                    store=shop["store"], points=100, **CONTACT)
    assert caught.value.code == "points_need_member"
    with pytest.raises(CouponNotApplicable) as caught:
        order_place(lines=[(shop["ring"], 1)], fulfilment=Fulfilment.PICKUP,
                    store=shop["store"], coupon_code=shop["coupon"].code, **CONTACT)
    assert caught.value.code == "coupon_not_yours"
    assert not Order.objects.exists() and reserved(shop) == 0


def test_a_coupon_not_combining_with_points_refuses_the_order_with_points(shop):
    alone = coupon(definition(stacks_with_points=False), member=shop["member"])
    with pytest.raises(CouponNotApplicable) as caught:
        place(shop, coupon_code=alone.code, points=100)
    assert caught.value.code == "coupon_no_points"
    assert not Order.objects.exists() and balance(shop["member"]) == 10000
    assert amounts(place(shop, coupon_code=alone.code, points=0))[1] == D("100.00")


def test_a_coupon_worth_the_whole_order_is_refused(shop):
    everything = coupon(definition(kind=DiscountKind.AMOUNT, value=D("20000.00")),
                        member=shop["member"])
    with pytest.raises(CouponNotApplicable) as caught:
        place(shop, coupon_code=everything.code, points=0)
    assert caught.value.code == "coupon_covers_everything"
    assert not Redemption.objects.exists() and not Order.objects.exists()


# --- Cancel and expiry ---------------------------------------------------------------------


def test_cancelling_gives_back_the_coupon_and_the_points_once(shop):
    order = place(shop)
    assert balance(shop["member"]) == 2000
    order_cancel(order=order, actor=shop["member"], via="account")
    assert Redemption.objects.get(reference=order.number).reversed_at is not None
    assert coupon_state(shop) == (0, CouponStatus.ISSUED)
    assert entries(order, PointsKind.RETURN) == [8000]
    assert balance(shop["member"]) == 10000
    order_cancel(order=order, actor=shop["member"])  # idempotent
    assert entries(order, PointsKind.RETURN) == [8000] and balance(shop["member"]) == 10000
    assert reserved(shop) == 0
    # The coupon works again on the next order.
    again = place(shop)
    assert Redemption.objects.get(reference=again.number, reversed_at__isnull=True)


def test_an_order_left_unpaid_expires_and_gives_back_the_coupon_and_the_points(shop):
    order = place(shop)
    assert orders_expire(now=order.expires_at - timedelta(seconds=1)) == 0
    assert orders_expire(now=order.expires_at + timedelta(seconds=1)) == 1
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert coupon_state(shop) == (0, CouponStatus.ISSUED)
    assert entries(order, PointsKind.RETURN) == [8000] and balance(shop["member"]) == 10000
    assert orders_expire(now=order.expires_at + timedelta(minutes=5)) == 0


# --- Earning on the hand-over, refunds -----------------------------------------------------


def collected(shop, **kwargs):
    order = pay(place(shop, **kwargs))
    clerk = staff_of(shop["store"], sync_roles=True)
    return order_collect(order=order, store=shop["store"], actor=clerk), clerk


def test_collecting_earns_points_on_the_total_paid_and_moves_the_tier(shop):
    assert profile(shop["member"]).tier == shop["ladder"]["t-classic"]
    order, _clerk = collected(shop)
    earned = PointsEntry.objects.get(reference=order.number, kind=PointsKind.EARN)
    assert (earned.points, earned.spend, earned.channel) == (11720, D("11720.00"), "online")
    assert balance(shop["member"]) == 2000 + 11720
    member = profile(shop["member"])
    assert member.spend_12m == D("11720.00") and member.tier == shop["ladder"]["t-silver"]
    # A second hand-over (a double click) earns nothing more.
    order_collect(order=order, store=shop["store"], actor=_clerk)
    assert entries(order, PointsKind.EARN) == [11720]


def test_a_delivered_order_earns_when_delivered(shop):
    depot = warehouse(code="loy-wh")
    stock_receive(store=depot, variant=shop["ring"], quantity=1)
    order = order_place(lines=[(shop["ring"], 1)], fulfilment=Fulfilment.DELIVERY,
                        stock_from=depot, member=shop["member"], coupon_code=shop["coupon"].code)
    order = order_transition(order=pay(order), to=S.SHIPPED, via="test")
    assert entries(order, PointsKind.EARN) == []
    order_transition(order=order, to=S.DELIVERED, via="test")
    assert entries(order, PointsKind.EARN) == [11800]


def test_a_full_refund_after_collection_takes_back_what_was_earned_and_gives_back_the_rest(
        shop):
    order, clerk = collected(shop)
    payment_refund(order=order, actor=clerk, reason="returned")
    order.refresh_from_db()
    assert order.status == S.REFUNDED
    assert entries(order, PointsKind.REVERSE) == [-11720]
    assert entries(order, PointsKind.RETURN) == [8000]
    assert coupon_state(shop) == (0, CouponStatus.ISSUED)
    assert balance(shop["member"]) == 10000
    member = profile(shop["member"])
    assert member.spend_12m == D("0.00") and member.tier == shop["ladder"]["t-classic"]


def test_a_partial_refund_takes_back_a_share_and_the_rest_the_remainder(shop):
    order, clerk = collected(shop)
    payment_refund(order=order, amount=D("2930.00"), actor=clerk)  # a quarter of 11,720
    order.refresh_from_db()
    assert order.status == S.PARTIALLY_REFUNDED
    assert entries(order, PointsKind.REVERSE) == [-2930]
    assert entries(order, PointsKind.RETURN) == []  # the sale stands: coupon and points spent
    assert coupon_state(shop) == (1, CouponStatus.REDEEMED)
    assert profile(shop["member"]).spend_12m == D("8790.00")
    assert profile(shop["member"]).tier == shop["ladder"]["t-classic"]

    payment_refund(order=order, actor=clerk)
    assert sorted(entries(order, PointsKind.REVERSE)) == [-8790, -2930]
    assert sum(PointsEntry.objects.filter(reference=order.number).exclude(
        kind__in=[PointsKind.REDEEM, PointsKind.RETURN]).values_list("points", flat=True)) == 0
    assert entries(order, PointsKind.RETURN) == [8000]
    assert coupon_state(shop) == (0, CouponStatus.ISSUED)
    assert balance(shop["member"]) == 10000


def test_a_refund_before_the_hand_over_gives_back_without_earning(shop):
    order = pay(place(shop))
    payment_refund(order=order, actor=None)
    order.refresh_from_db()
    assert order.status == S.REFUNDED
    assert entries(order, PointsKind.EARN) == entries(order, PointsKind.REVERSE) == []
    assert entries(order, PointsKind.RETURN) == [8000]
    assert coupon_state(shop) == (0, CouponStatus.ISSUED)
    assert balance(shop["member"]) == 10000 and reserved(shop) == 0


# --- At the counter ------------------------------------------------------------------------


def test_a_counter_sale_with_a_printed_code_and_points_records_the_store(shop):
    clerk = staff_of(shop["store"], sync_roles=True)
    printed = coupon_batch_create(
        definition=definition(kind=DiscountKind.PERCENT, value=D("5"),
                              channel=CouponChannel.STORE),
        quantity=2, actor=clerk).coupons.order_by("pk").first()
    typed = printed.code[:6].lower() + " - " + printed.code[6:]
    # 5% of 12,000 = 600; points: 5,000 = ¥50.
    order = order_sell_at_counter(store=shop["store"], staff=clerk, lines=[(shop["ring"], 1)],
                                  member=shop["member"], payment_provider="cash",
                                  coupon_code=typed, points=5000, total_seen=D("11350.00"))
    assert order.status == S.COMPLETED
    assert amounts(order) == (D("12000.00"), D("600.00"), D("50.00"), D("650.00"),
                              D("11350.00"))
    redemption = Redemption.objects.get(reference=order.number)
    assert (redemption.coupon, redemption.channel, redemption.store, redemption.actor,
            redemption.member) == (printed, "store", shop["store"], clerk, shop["member"])
    printed.refresh_from_db()
    assert (printed.uses, printed.status) == (1, CouponStatus.REDEEMED)
    assert Payment.objects.get(order=order).amount == D("11350.00")
    redeemed = PointsEntry.objects.get(reference=order.number, kind=PointsKind.REDEEM)
    assert (redeemed.points, redeemed.channel, redeemed.actor) == (-5000, "store", clerk)
    assert entries(order, PointsKind.EARN) == [11350]
    assert balance(shop["member"]) == 10000 - 5000 + 11350
    assert StockLevel.objects.get(store=shop["store"], variant=shop["ring"]).on_hand == 2


def test_a_counter_sale_refuses_an_online_coupon_or_a_moved_total_and_writes_nothing(shop):
    clerk = staff_of(shop["store"], sync_roles=True)
    web = coupon(definition(channel=CouponChannel.ONLINE), member=shop["member"])
    sale = {"store": shop["store"], "staff": clerk, "lines": [(shop["ring"], 1)],
            "member": shop["member"], "payment_provider": "cash"}
    with pytest.raises(CouponNotApplicable) as caught:
        order_sell_at_counter(coupon_code=web.code, **sale)
    assert caught.value.code == "coupon_wrong_channel"
    with pytest.raises(PricesMoved):
        order_sell_at_counter(coupon_code=shop["coupon"].code, points=1000,
                              total_seen=D("11800.00"), **sale)
    assert not Order.objects.exists() and not Redemption.objects.exists()
    assert coupon_state(shop) == (0, CouponStatus.ISSUED)
    assert balance(shop["member"]) == 10000
    assert StockLevel.objects.get(store=shop["store"], variant=shop["ring"]).on_hand == 3


# --- The cart and checkout -----------------------------------------------------------------


def member_cart(shop, *, coupon_code=None, points=3000) -> Cart:
    cart = Cart.objects.create(member=shop["member"])
    cart_add(cart=cart, variant=shop["ring"], quantity=1)
    cart_discounts_set(cart=cart, member=shop["member"],
                       coupon_code=shop["coupon"].code if coupon_code is None else coupon_code,
                       points=points)
    cart.refresh_from_db()
    return cart


def test_the_cart_keeps_a_coupon_and_points_then_the_order_takes_them_and_they_are_cleared(
        shop):
    cart = member_cart(shop)
    assert (cart.coupon_code, cart.points) == (shop["coupon"].code, 3000)
    preview = cart_discounts(cart=cart, member=shop["member"])
    assert (preview.coupon_discount, preview.points_discount, preview.total) == (
        D("200.00"), D("30.00"), D("11770.00"))
    assert not Redemption.objects.exists() and balance(shop["member"]) == 10000  # a preview

    order = checkout_place(cart=cart, fulfilment=Fulfilment.PICKUP, store=shop["store"],
                           member=shop["member"], **CONTACT)
    assert amounts(order) == (D("12000.00"), D("200.00"), D("30.00"), D("230.00"),
                              D("11770.00"))
    cart.refresh_from_db()
    assert (cart.coupon_code, cart.points) == ("", 0)
    assert not cart.lines.exists()
    assert balance(shop["member"]) == 7000


def test_the_cart_refuses_a_coupon_or_points_that_do_not_apply_and_keeps_nothing(shop):
    cart = Cart.objects.create(member=shop["member"])
    cart_add(cart=cart, variant=shop["ring"], quantity=1)
    with pytest.raises(CouponNotApplicable) as caught:
        cart_discounts_set(cart=cart, member=shop["member"], coupon_code="NO-SUCH-CODE")
    assert caught.value.code == "coupon_unknown"
    with pytest.raises(PointsInvalid) as caught:
        cart_discounts_set(cart=cart, member=shop["member"], points=10001)
    assert caught.value.code == "points_over_limit"
    guest = Cart.objects.create()
    cart_add(cart=guest, variant=shop["ring"], quantity=1)
    with pytest.raises(PointsInvalid) as caught:
        cart_discounts_set(cart=guest, member=None, points=10)
    assert caught.value.code == "points_need_member"
    for kept in (cart, guest):
        kept.refresh_from_db()
        assert (kept.coupon_code, kept.points) == ("", 0)


def test_a_coupon_that_stops_applying_before_checkout_refuses_the_order_and_writes_nothing(
        shop):
    cart = member_cart(shop)
    coupon_void(coupon=shop["coupon"], actor=None)
    preview = cart_discounts(cart=cart, member=shop["member"])
    assert preview.coupon is None and preview.coupon_error.code == "coupon_void"

    with pytest.raises(CouponNotApplicable) as caught:
        checkout_place(cart=cart, fulfilment=Fulfilment.DELIVERY, address=ADDRESS,
                       member=shop["member"], **CONTACT)
    assert caught.value.code == "coupon_void" and str(caught.value.message)
    assert not Order.objects.exists() and not Redemption.objects.exists()
    assert not PointsEntry.objects.filter(kind=PointsKind.REDEEM).exists()
    assert balance(shop["member"]) == 10000
    assert reserved(shop) == 0
    cart.refresh_from_db()  # the cart is as it was: the shopper removes the code
    assert cart.lines.count() == 1 and (cart.coupon_code, cart.points) == (
        shop["coupon"].code, 3000)


def test_points_spent_elsewhere_before_checkout_refuse_the_order_and_write_nothing(shop):
    cart = member_cart(shop, points=9000)
    points_redeem(member=shop["member"], points=5000, reference="ELSEWHERE")
    with pytest.raises((PointsInvalid, PointsInsufficient)):
        checkout_place(cart=cart, fulfilment=Fulfilment.PICKUP, store=shop["store"],
                       member=shop["member"], **CONTACT)
    assert not Order.objects.exists() and not Redemption.objects.exists()
    assert coupon_state(shop) == (0, CouponStatus.ISSUED)
    assert balance(shop["member"]) == 5000 and reserved(shop) == 0


def test_codes_typed_on_the_review_page_count_towards_the_guessing_limit(client, settings,
                                                                          shop):
    """The page takes the same limit as the API (coupon_guess_ensure): no way round it."""
    settings.COUPON_CHECK_RATE = "3/m"
    client.post(reverse("orders:cart_add"), {"variant": shop["ring"].pk})
    client.post(reverse("orders:checkout_contact"),
                {"name": "林小姐", "phone": "138 0013 8000", "email": ""})
    client.post(reverse("orders:checkout_fulfilment"),
                {"fulfilment": "pickup", "store": shop["store"].code})
    review = reverse("orders:checkout_review")
    for n in range(3):
        response = client.post(review, {"action": "discounts", "coupon_code": f"GUESS{n}"})
        assert response.status_code == 400 and response.context["error"].code == "coupon_unknown"
    printed = coupon(definition(value=D("100.00")), code="PRINTED7")
    response = client.post(review, {"action": "discounts", "coupon_code": printed.code})
    assert response.status_code == 429 and response.context["error"].code == "rate_limited"
    assert Cart.objects.get().coupon_code == ""
    # Removing a coupon or setting points types no code: not held back.
    assert client.post(review, {"action": "coupon_remove"}).status_code == 302


def test_a_preview_explains_without_writing(shop):
    quote = discounts_quote(lines=[(shop["ring"], D("12000.00"))], member=shop["member"],
                            channel="online", coupon_code="nope", points=10001)
    assert quote.coupon_error.code == "coupon_unknown"
    assert quote.points_error.code == "points_over_limit"
    assert (quote.points_balance, quote.points_max, quote.total) == (10000, 10000, D("12000.00"))
    assert not Redemption.objects.exists() and balance(shop["member"]) == 10000


# --- Under concurrency ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_shoppers_racing_one_printed_code_place_one_order_with_it():
    tiers_ladder()
    store = StoreFactory(code="loy-race")
    ring = VariantFactory(list_price=D("3000.00"))
    stock_receive(store=store, variant=ring, quantity=10)
    coupon(definition(value=D("300.00")), code="RACE1")

    def buy(i):
        return order_place(lines=[(ring, 1)], fulfilment=Fulfilment.PICKUP, store=store,
                           coupon_code="race1", contact_name=f"顾客{i}",
                           contact_phone=f"+86138000000{i:02d}")

    placed, errors = race(6, buy)
    assert len(placed) == 1
    assert all(isinstance(e, CouponNotApplicable) and e.code == "coupon_used" for e in errors)
    assert Order.objects.count() == 1 and Redemption.objects.count() == 1
    assert Order.objects.get().total == D("2700.00")
    assert StockLevel.objects.get(store=store, variant=ring).reserved == 1


@pytest.mark.django_db(transaction=True)
def test_a_return_and_the_same_members_coupon_use_at_once_do_not_deadlock():
    """The lock order is order -> coupon -> member profile (coupon_redeem's). A refund
    after the hand-over gives the coupon back before it touches the member's points, so a
    checkout of the same member holding the coupon and wanting the profile only waits."""
    tiers_ladder()
    store = StoreFactory(code="loy-lock")
    ring = VariantFactory(list_price=D("3000.00"))
    stock_receive(store=store, variant=ring, quantity=2)
    member = UserFactory()
    own = coupon(definition(value=D("100.00")), member=member)
    order = pay(order_place(lines=[(ring, 1)], fulfilment=Fulfilment.PICKUP, store=store,
                            member=member, coupon_code=own.code))
    order = order_collect(order=order, store=store, actor=staff_of(store))
    coupon_locked = threading.Event()

    def someone_waits_on_a_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh inside a transaction
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                           "'Lock' AND datname = current_database() AND pid <> pg_backend_pid()")
            return cursor.fetchone()[0] > 0

    def work(i):
        if i == 0:  # the refund at the counter
            assert coupon_locked.wait(timeout=10)
            return payment_refund(order=order, actor=None)
        with transaction.atomic():  # a checkout of the same member, with the same coupon
            Coupon.objects.select_for_update().get(pk=own.pk)
            coupon_locked.set()
            deadline = time.monotonic() + 10
            while not someone_waits_on_a_lock():
                assert time.monotonic() < deadline, "the refund never waited for the coupon"
                time.sleep(0.05)
            return coupon_redeem(code=own.code, member=member, channel="online",
                                 lines=[(ring, D("3000.00"))], reference="ORD-OTHER")

    done, errors = race(2, work)
    assert [type(e) for e in errors] == [CouponNotApplicable], errors  # coupon_used, no deadlock
    order.refresh_from_db()
    assert order.status == S.REFUNDED
    assert entries(order, PointsKind.REVERSE) == [-2900]
    assert Coupon.objects.get(pk=own.pk).status == CouponStatus.ISSUED
    assert balance(member) == 0


# --- What the shopper and the clerk read: coupon and points between the lines and the total


def _between(page: str, first: str, middle: list[str], last: str) -> bool:
    at = [page.index(text) for text in [first, *middle, last]]
    return at == sorted(at)


def test_the_test_pay_page_and_the_desk_show_the_coupon_and_the_points(shop, client, settings):
    from django.utils import translation

    from orders.services.payments import payment_start

    settings.STRIPE_SECRET_KEY = ""
    order = place(shop, pay_at_counter=True)
    with translation.override("en"):
        start = payment_start(order=order, success_url="/en/", cancel_url="/en/")
    page = client.get(start).content.decode()
    assert _between(page, "¥12,000", [f"Coupon {order.coupon_code}", "−¥200",
                                      "8000 points", "−¥80"], "¥11,720")

    client.force_login(staff_of(shop["store"], sync_roles=True))
    with translation.override("en"):
        desk = reverse("admin:orders_order_desk")
    card = client.get(f"{desk}?store={shop['store'].code}&q={order.pickup_code}").content.decode()
    lines = card[card.index('class="od-lines"'):]
    assert _between(lines, "¥12,000", [f"Coupon {order.coupon_code}", "−¥200",
                                      "8000 points", "−¥80"], "¥11,720")
