"""Each built-in journey with a moving clock (time-machine): who enters, when each step
runs, what they get, and that a second tick gives nothing more."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from catalog.services import metal_rate_create
from journeys import builtins as b
from journeys.models import EnrolmentStatus, ExitReason, GoldPriceAlert, JourneyEnrolment
from journeys.services.tick import journeys_tick
from members.models import Coupon, MemberProfile
from orders.services import order_collect
from tests.members.coupon_factories import CouponDefinitionFactory, TierFactory
from tests.members.factories import StaffFactory, UserFactory
from tests.orders.factories import pickup_order

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def member(tier=None, **profile):
    person = UserFactory()
    MemberProfile.objects.create(user=person, tier=tier, **profile)
    return person


def only(*keys):
    """Switch the other built-ins off (the welcome's sweep would greet every new row)."""
    from journeys.models import Journey

    Journey.objects.exclude(key__in=keys).update(is_enabled=False)


def enrolments(key, **filters):
    return JourneyEnrolment.objects.filter(journey__key=key, **filters)


# --- Birthday: every tier, with the tier's own gift ----------------------------------------


@pytest.fixture
def tiers():
    return (TierFactory(code="t-basic", min_spend=Decimal("0.01")),
            TierFactory(code="t-silver", min_spend=Decimal("0.02")),
            TierFactory(code="t-gold", min_spend=Decimal("0.03")))


def test_birthday_every_tier_gets_its_own_gift_once(builtins, tiers):
    only(b.BIRTHDAY)
    basic, silver, gold = tiers
    basic_gift = CouponDefinitionFactory(birthday_tiers=[basic], valid_days=30)
    gold_gift = CouponDefinitionFactory(birthday_tiers=[gold], valid_days=30)
    gold_extra = CouponDefinitionFactory(birthday_tiers=[gold, silver])
    CouponDefinitionFactory(birthday_tiers=[gold], is_active=False)  # switched off
    born_today = member(basic, birthday=date(1990, 5, 20))
    gold_today = member(gold, birthday=date(1985, 5, 20))
    silver_today = member(silver, birthday=date(1988, 5, 20))
    member(gold, birthday=date(1990, 5, 21))  # tomorrow
    member(gold)  # no birthday given
    closed = member(gold, birthday=date(1985, 5, 20))
    closed.is_active = False
    closed.save()
    with time_machine.travel(at(2026, 5, 20, 10, 0), tick=False):
        journeys_tick()
        journeys_tick()  # a second tick (or beat twice): nothing more
    assert {(c.member_id, c.definition_id) for c in Coupon.objects.all()} == {
        (born_today.pk, basic_gift.pk), (gold_today.pk, gold_gift.pk),
        (gold_today.pk, gold_extra.pk), (silver_today.pk, gold_extra.pk)}
    assert enrolments(b.BIRTHDAY).count() == 3
    assert set(enrolments(b.BIRTHDAY).values_list("occasion", flat=True)) == {"birthday-2026"}
    assert enrolments(b.BIRTHDAY, status=EnrolmentStatus.COMPLETED).count() == 3
    # Next year is another occasion.
    with time_machine.travel(at(2027, 5, 20, 10, 0), tick=False):
        journeys_tick()
    assert Coupon.objects.count() == 8


def test_birthday_is_the_shop_day_not_utc(builtins, tiers):
    only(b.BIRTHDAY)
    basic = tiers[0]
    CouponDefinitionFactory(birthday_tiers=[basic])
    person = member(basic, birthday=date(1990, 5, 20))
    # 20 May 01:00 in Shanghai is still 19 May in UTC: the shop's day counts.
    with time_machine.travel(at(2026, 5, 20, 1, 0), tick=False):
        journeys_tick()
    assert Coupon.objects.filter(member=person).count() == 1


def test_feb_29_birthdays_come_on_feb_28_in_common_years(builtins, tiers):
    only(b.BIRTHDAY)
    basic = tiers[0]
    CouponDefinitionFactory(birthday_tiers=[basic])
    leapling = member(basic, birthday=date(2000, 2, 29))
    feb_28 = member(basic, birthday=date(1999, 2, 28))
    with time_machine.travel(at(2027, 2, 28, 10), tick=False):
        journeys_tick()
    assert set(Coupon.objects.values_list("member", flat=True)) == {leapling.pk, feb_28.pk}
    with time_machine.travel(at(2028, 2, 28, 10), tick=False):
        journeys_tick()
    assert Coupon.objects.filter(member=feb_28).count() == 2
    assert Coupon.objects.filter(member=leapling).count() == 1
    with time_machine.travel(at(2028, 2, 29, 10), tick=False):
        journeys_tick()
    assert Coupon.objects.filter(member=leapling).count() == 2


def test_the_beat_runs_the_tick_and_no_longer_the_birthday_task():
    from o2o.celery import app

    tasks = [e["task"] for e in app.conf.beat_schedule.values()]
    assert tasks.count("journeys.tasks.journeys_tick_task") == 1
    assert "marketing.tasks.coupons_birthday_issue_task" not in tasks


# --- Anniversary: 15 days ahead, then on the day -----------------------------------------


def test_anniversary_invites_15_days_ahead_then_greets_on_the_day(builtins):
    only(b.ANNIVERSARY)
    couple = member(anniversary=date(2015, 6, 20))
    member(anniversary=date(2015, 6, 21))
    with time_machine.travel(at(2026, 6, 5, 10), tick=False):
        journeys_tick()
    enrolment = enrolments(b.ANNIVERSARY).get()
    assert enrolment.member == couple and enrolment.occasion == "anniversary-2026"
    assert enrolment.messages_sent == 1 and enrolment.status == EnrolmentStatus.ACTIVE
    assert enrolment.due_at == at(2026, 6, 20, 10)
    with time_machine.travel(at(2026, 6, 19, 10), tick=False):
        journeys_tick()
    enrolment.refresh_from_db()
    assert enrolment.messages_sent == 1
    with time_machine.travel(at(2026, 6, 20, 10, 5), tick=False):
        journeys_tick()
    enrolment.refresh_from_db()
    assert enrolment.messages_sent == 2 and enrolment.status == EnrolmentStatus.COMPLETED


def test_a_member_who_removes_the_date_leaves(builtins):
    only(b.ANNIVERSARY)
    couple = member(anniversary=date(2015, 6, 20))
    with time_machine.travel(at(2026, 6, 5, 10), tick=False):
        journeys_tick()
    MemberProfile.objects.filter(user=couple).update(anniversary=None)
    with time_machine.travel(at(2026, 6, 20, 10, 5), tick=False):
        journeys_tick()
    enrolment = enrolments(b.ANNIVERSARY).get()
    assert enrolment.status == EnrolmentStatus.EXITED
    assert enrolment.exit_reason == ExitReason.DATE_GONE
    assert enrolment.messages_sent == 1


# --- Care reminder: six months after the hand-over ------------------------------------------


def test_care_reminder_six_months_after_the_hand_over(builtins):
    only(b.CARE)
    shopper = member()
    with time_machine.travel(at(2026, 1, 10, 15), tick=False):
        order = pickup_order(paid=True, member=shopper)
        order_collect(order=order, store=order.store, actor=StaffFactory(is_superuser=True))
    enrolment = enrolments(b.CARE).get()
    assert enrolment.occasion == f"order:{order.pk}"
    with time_machine.travel(at(2026, 7, 1, 15), tick=False):
        journeys_tick()
    enrolment.refresh_from_db()
    assert enrolment.messages_sent == 0
    with time_machine.travel(at(2026, 7, 12, 15), tick=False):
        journeys_tick()
    enrolment.refresh_from_db()
    assert enrolment.messages_sent == 1 and enrolment.status == EnrolmentStatus.COMPLETED
    variant_id = order.lines.get().variant_id
    assert enrolment.context["variant_ids"] == [variant_id]


def test_care_link_books_the_piece_at_the_store(builtins, client):
    only(b.CARE)
    shopper = member()
    order = pickup_order(paid=True, member=shopper)
    order_collect(order=order, store=order.store, actor=StaffFactory(is_superuser=True))
    client.force_login(shopper)
    response = client.get("/account/care/")
    variant = order.lines.get().variant
    assert response.status_code == 302
    assert response["Location"] == f"/try-on/book/?store={order.store.code}&variant={variant.pk}"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert variant.product.name in page.content.decode()


# --- Try-on without a purchase --------------------------------------------------------------


def _tryon_ended(shopper):
    from stores.services import (
        appointment_book,
        appointment_check_in,
        appointment_complete,
        stock_receive,
    )
    from tests.catalog.factories import VariantFactory
    from tests.stores.factories import days_ahead, local, tryon_store

    store = tryon_store()
    piece = VariantFactory()
    stock_receive(store=store, variant=piece, quantity=1)
    appointment = appointment_book(store=store, starts_at=local(store, days_ahead(store, 2), 15),
                                   variant_ids=[piece.pk], contact_name="林小姐",
                                   contact_phone="138 0013 8000", member=shopper, notify=False)
    clerk = StaffFactory(is_superuser=True)
    appointment_check_in(appointment=appointment, actor=clerk)
    appointment_complete(appointment=appointment, actor=clerk, outcome="not_bought")
    return appointment


def test_try_on_follow_up_two_days_later_unless_they_bought(builtins):
    only(b.TRYON)
    stays, buys = member(), member()
    _tryon_ended(stays)
    _tryon_ended(buys)
    assert enrolments(b.TRYON).count() == 2
    entered = enrolments(b.TRYON).first().entered_at
    with time_machine.travel(entered + timedelta(days=1), tick=False):
        pickup_order(paid=True, member=buys)
    with time_machine.travel(entered + timedelta(days=1, hours=23), tick=False):
        journeys_tick()
    assert not enrolments(b.TRYON).filter(messages_sent__gt=0).exists()
    with time_machine.travel(entered + timedelta(days=2, minutes=5), tick=False):
        journeys_tick()
    done = enrolments(b.TRYON, member=stays).get()
    assert done.messages_sent == 1 and done.status == EnrolmentStatus.COMPLETED
    assert done.context["variant_ids"]
    left = enrolments(b.TRYON, member=buys).get()
    assert left.status == EnrolmentStatus.EXITED and left.exit_reason == ExitReason.BOUGHT
    assert left.messages_sent == 0


# --- Win-back: no purchase in 12 months ------------------------------------------------------


def test_win_back_after_twelve_months_without_a_purchase(builtins):
    only(b.WINBACK)
    lapsed, recent = member(), member()
    with time_machine.travel(at(2025, 3, 1, 12), tick=False):
        pickup_order(paid=True, member=lapsed)
    with time_machine.travel(at(2025, 12, 1, 12), tick=False):
        pickup_order(paid=True, member=recent)
    with time_machine.travel(at(2026, 3, 2, 12), tick=False):
        journeys_tick()
        journeys_tick()
    enrolment = enrolments(b.WINBACK).get()
    assert enrolment.member == lapsed and enrolment.messages_sent == 1
    assert Coupon.objects.filter(member=lapsed).count() == 1
    assert not Coupon.objects.filter(member=recent).exists()
    with time_machine.travel(at(2026, 3, 17, 12), tick=False):
        journeys_tick()
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.COMPLETED and enrolment.messages_sent == 2


# --- Gold price alert ---------------------------------------------------------------------


def test_gold_price_alert_told_once_when_the_rate_falls_to_it(builtins):
    only(b.GOLD_PRICE)
    from journeys.services.alerts import gold_alert_set

    shopper = member()
    with time_machine.travel(at(2026, 4, 1, 10), tick=False):
        metal_rate_create(metal="gold", purity="999", rate_per_gram=Decimal("620.00"))
        gold_alert_set(member=shopper, metal="gold", purity="999", target=Decimal("600"))
    with time_machine.travel(at(2026, 4, 2, 10), tick=False), transaction.atomic():
        metal_rate_create(metal="gold", purity="999", rate_per_gram=Decimal("605.00"))
    assert not enrolments(b.GOLD_PRICE).exists()
    with time_machine.travel(at(2026, 4, 3, 10), tick=False):
        metal_rate_create(metal="gold", purity="999", rate_per_gram=Decimal("598.00"))
    enrolment = enrolments(b.GOLD_PRICE).get()
    assert enrolment.messages_sent == 1  # told in the rate's own transaction
    alert = GoldPriceAlert.objects.get()
    assert alert.fired_rate == Decimal("598.00")
    with time_machine.travel(at(2026, 4, 4, 10), tick=False):
        metal_rate_create(metal="gold", purity="999", rate_per_gram=Decimal("590.00"))
        journeys_tick()
    assert enrolments(b.GOLD_PRICE).count() == 1
    assert enrolments(b.GOLD_PRICE).get().messages_sent == 1


# --- Back in stock at my store ----------------------------------------------------------------


def test_a_wishlist_piece_arriving_at_my_store(builtins):
    only(b.BACK_IN_STOCK)
    from catalog.services import wishlist_add
    from stores.services import stock_receive
    from tests.catalog.factories import VariantFactory
    from tests.stores.factories import StoreFactory

    store, other = StoreFactory(), StoreFactory()
    variant = VariantFactory()
    fan = member(home_store=store)
    elsewhere = member(home_store=other)
    wishlist_add(user=fan, product=variant.product)
    wishlist_add(user=elsewhere, product=variant.product)
    with time_machine.travel(at(2026, 8, 1, 11), tick=False):
        stock_receive(store=store, variant=variant, quantity=1)
        journeys_tick()
        journeys_tick()
    enrolment = enrolments(b.BACK_IN_STOCK).get()
    assert enrolment.member == fan and enrolment.messages_sent == 1


# --- Welcome: every sign-up path -----------------------------------------------------------


def test_welcome_gift_at_web_sign_up(builtins, client):
    response = client.post("/accounts/signup/", {
        "phone": "13912345678", "email": "new@example.com",
        "password1": "a sturdy pass 42", "password2": "a sturdy pass 42"})
    assert response.status_code == 302, response.content.decode()[:2000]
    enrolment = enrolments(b.WELCOME).get()
    assert enrolment.status == EnrolmentStatus.COMPLETED and enrolment.messages_sent == 1
    assert Coupon.objects.filter(member=enrolment.member).count() == 1


def test_welcome_at_counter_registration(builtins):
    from members.services import member_register
    from tests.stores.factories import StoreFactory

    store = StoreFactory()
    person, created = member_register(phone="13800138123", name="王女士", store=store,
                                      actor=StaffFactory(is_superuser=True),
                                      consents={"sms": True})
    assert created
    assert Coupon.objects.filter(member=person).count() == 1
    member_register(phone="13800138123", store=store, actor=StaffFactory(is_superuser=True))
    assert enrolments(b.WELCOME).count() == 1


def test_welcome_sweep_catches_members_of_a_silent_path(builtins):
    person = member()  # created without telling anyone (an import, the API)
    journeys_tick()
    assert Coupon.objects.filter(member=person).count() == 1
    journeys_tick()
    assert Coupon.objects.filter(member=person).count() == 1


def test_signup_page_promises_only_what_the_shop_does(builtins, client):
    from journeys.models import Journey
    from tests.members.coupon_factories import CouponDefinitionFactory

    welcome = ("A welcome gift", "新会员礼")
    days = ("Gifts for your days", "专属纪念日礼遇", "A birthday gift", "每年生日")
    page = client.get("/accounts/signup/").content.decode()
    assert any(text in page for text in welcome)
    # The anniversary runs, but a tier without a birthday gift: no birthday promise.
    assert not any(text in page for text in days)
    from members.models import Tier

    CouponDefinitionFactory(birthday_tiers=list(Tier.objects.all()))
    page = client.get("/accounts/signup/").content.decode()
    assert any(text in page for text in days)
    Journey.objects.update(is_enabled=False)
    page = client.get("/accounts/signup/").content.decode()
    assert not any(text in page for text in welcome + days)
