"""Segments: each rule against hand-built members, groups, and bad rules."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Collection, WishlistItem
from marketing.models import MemberScore, Segment, Touch
from marketing.services.segments import (
    SegmentInvalid,
    segment_contains,
    segment_count,
    segment_member_ids,
    segment_queryset,
    segment_rules_clean,
)
from members.models import Address
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.members.coupon_factories import CouponDefinitionFactory, CouponFactory, TierFactory
from tests.members.factories import StaffFactory, UserFactory
from tests.stores.factories import StoreFactory

from .factories import NOON, consented, paid_order, profile

pytestmark = pytest.mark.django_db

TODAY = NOON.date()  # 2026-12-07


def ids(rules, now=NOON):
    return set(segment_queryset(rules, now=now).values_list("pk", flat=True))


def test_tier_gender_and_age():
    gold, silver = TierFactory(code="gold"), TierFactory(code="silver")
    a = profile(tier=gold, gender="f", birthday=date(1990, 12, 8))   # 35
    b = profile(tier=silver, gender="m", birthday=date(2000, 1, 1))  # 26
    c = profile(tier=gold, gender="m", birthday=None)
    assert ids({"rule": "tier", "tiers": [gold.pk]}) == {a.pk, c.pk}
    assert ids({"rule": "gender", "genders": ["f"]}) == {a.pk}
    assert ids({"rule": "age", "min": 30, "max": 40}) == {a.pk}
    assert ids({"rule": "age", "max": 30}) == {b.pk}
    # the day before the 36th birthday the member is still 35
    assert ids({"rule": "age", "min": 36}) == set()
    assert ids({"rule": "age", "min": 36}, now=NOON + timedelta(days=1)) == {a.pk}


def test_birthday_and_anniversary_within_days_ignore_the_year_and_wrap_the_new_year():
    soon = profile(birthday=date(1980, 12, 20))
    after_new_year = profile(birthday=date(1995, 1, 3))
    past = profile(birthday=date(1990, 12, 1))
    leap = profile(anniversary=date(2016, 2, 29))
    assert ids({"rule": "birthday", "days": 30}) == {soon.pk, after_new_year.pk}
    assert ids({"rule": "birthday", "days": 0}) == set()
    assert ids({"rule": "birthday", "days": 13}) == {soon.pk}
    assert past.pk not in ids({"rule": "birthday", "days": 300})
    feb = timezone.make_aware(timezone.datetime(2027, 2, 27, 12))
    assert ids({"rule": "anniversary", "days": 3}, now=feb) == {leap.pk}


def test_home_store_bought_at_near_store_and_channel():
    shanghai = StoreFactory(code="sh", latitude=Decimal("31.2304"), longitude=Decimal("121.4737"))
    suzhou = StoreFactory(code="sz", city="苏州", latitude=Decimal("31.2989"),
                          longitude=Decimal("120.5853"))
    beijing = StoreFactory(code="bj", city="北京", latitude=Decimal("39.9042"),
                           longitude=Decimal("116.4074"))
    home_sz = profile(home_store=suzhou)
    home_bj = profile(home_store=beijing)
    lives_in_sh = profile()
    Address.objects.create(member=lives_in_sh, recipient="x", phone="1", province="上海",
                           city="上海", district="静安", street="x", postcode="200000",
                           is_default=True)
    online_only, store_only, both = profile(), profile(), profile()
    paid_order(online_only)
    paid_order(store_only, channel="store", store=beijing)
    paid_order(both)
    paid_order(both, channel="store", store=shanghai)
    paid_order(home_sz, channel="store", store=shanghai, status="cancelled")
    assert ids({"rule": "home_store", "stores": [suzhou.pk]}) == {home_sz.pk}
    assert ids({"rule": "bought_at", "stores": [shanghai.pk]}) == {both.pk}
    assert ids({"rule": "near_store", "store": shanghai.pk, "km": 100}) == {home_sz.pk,
                                                                             lives_in_sh.pk}
    assert home_bj.pk not in ids({"rule": "near_store", "store": shanghai.pk, "km": 1000})
    assert ids({"rule": "channel", "channel": "online"}) == {online_only.pk}
    assert ids({"rule": "channel", "channel": "store"}) == {store_only.pk}
    assert ids({"rule": "channel", "channel": "both"}) == {both.pk}


def test_rfm_and_spend_over_a_period():
    high, low, nobody = profile(), profile(), profile()
    MemberScore.objects.create(member=high, recency=5, frequency=4, monetary=5, computed_at=NOON)
    MemberScore.objects.create(member=low, recency=1, frequency=1, monetary=2, computed_at=NOON)
    paid_order(high, total="8000.00", at=NOON - timedelta(days=10))
    paid_order(high, total="3000.00", at=NOON - timedelta(days=400))
    paid_order(low, total="500.00", at=NOON - timedelta(days=10))
    assert ids({"rule": "rfm", "recency": [4, 5], "monetary": [5, 5]}) == {high.pk}
    assert ids({"rule": "spend", "min": "5000", "days": 365}) == {high.pk}
    assert ids({"rule": "spend", "min": "10000", "days": 730}) == {high.pk}
    assert ids({"rule": "spend", "max": "600", "days": 365}) == {low.pk, nobody.pk}


def test_bought_a_category_with_its_children_a_collection_or_a_material():
    rings = CategoryFactory(slug="rings")
    wedding = CategoryFactory(slug="wedding-rings", name="婚戒", parent=rings)
    necklaces = CategoryFactory(slug="necklaces", name="项链")
    limited = Collection.objects.create(name="限量", slug="limited", kind="limited")
    wedding_ring = VariantFactory(product=ProductFactory(category=wedding, material="platinum"))
    necklace = VariantFactory(product=ProductFactory(category=necklaces, material="pearl"))
    necklace.product.collections.add(limited)
    ring_buyer, necklace_buyer = profile(), profile()
    paid_order(ring_buyer, variant=wedding_ring)
    paid_order(necklace_buyer, variant=necklace)
    assert ids({"rule": "bought", "categories": [rings.pk]}) == {ring_buyer.pk}
    assert ids({"rule": "bought", "collections": [limited.pk]}) == {necklace_buyer.pk}
    assert ids({"rule": "bought", "materials": ["pearl", "platinum"]}) == {ring_buyer.pk,
                                                                          necklace_buyer.pk}


def test_wishlist_coupon_consent_and_not_messaged():
    product = ProductFactory()
    wisher, holder, emailable, messaged = profile(), profile(), consented("email"), profile()
    WishlistItem.objects.create(user=wisher, product=product)
    definition = CouponDefinitionFactory()
    CouponFactory(definition=definition, member=holder)
    CouponFactory(definition=definition, member=wisher, status="redeemed")
    Touch.objects.create(source="campaign", source_id=1, member=messaged, outcome="sent",
                         at=NOON - timedelta(days=3))
    assert ids({"rule": "wishlist", "products": [product.pk]}) == {wisher.pk}
    assert ids({"rule": "wishlist"}) == {wisher.pk}
    assert ids({"rule": "has_coupon", "definition": definition.pk}) == {holder.pk}
    assert ids({"rule": "consent", "channel": "email"}) == {emailable.pk}
    assert messaged.pk not in ids({"rule": "not_messaged", "days": 7})
    assert messaged.pk in ids({"rule": "not_messaged", "days": 2})


def test_and_or_not_groups_and_the_stored_segment_helpers():
    gold = TierFactory(code="gold")
    rings = CategoryFactory(slug="rings")
    ring = VariantFactory(product=ProductFactory(category=rings))
    target = profile(tier=gold, birthday=date(1990, 12, 25))
    no_ring = profile(tier=gold, birthday=date(1990, 12, 25))
    not_gold = profile(birthday=date(1990, 12, 25))
    paid_order(target, variant=ring)
    paid_order(not_gold, variant=ring)
    rules = {"all": [{"rule": "tier", "tiers": [gold.pk]},
                     {"rule": "birthday", "days": 30},
                     {"rule": "bought", "categories": [rings.pk]}]}
    assert ids(rules) == {target.pk}
    assert ids({"any": [{"rule": "tier", "tiers": [gold.pk]},
                        {"rule": "bought", "categories": [rings.pk]}]}) == {
        target.pk, no_ring.pk, not_gold.pk}
    assert ids({"all": [{"rule": "tier", "tiers": [gold.pk]},
                        {"not": {"rule": "bought", "categories": [rings.pk]}}]}) == {no_ring.pk}
    segment = Segment.objects.create(name="金卡生日买戒指", rules=rules)
    assert segment_count(segment, now=NOON) == 1
    assert list(segment_member_ids(segment, now=NOON)) == [target.pk]
    assert segment_contains(segment, target.pk, now=NOON)
    assert not segment_contains(segment, no_ring.pk, now=NOON)


def test_staff_and_closed_accounts_are_never_in_a_segment():
    member = profile()
    profile(UserFactory(is_active=False))
    StaffFactory()
    assert ids({}) == {member.pk}


@pytest.mark.parametrize("rules", [
    {"rule": "nope"},
    {"all": []},
    {"rule": "tier", "tiers": []},
    {"rule": "age", "min": 50, "max": 20},
    {"rule": "birthday", "days": -1},
    {"rule": "spend", "min": "abc"},
    {"rule": "rfm", "recency": [0, 9]},
    {"rule": "channel", "channel": "mars"},
    {"not": "x"},
    [1, 2],
])
def test_malformed_rules_are_refused_in_words(rules):
    with pytest.raises(SegmentInvalid) as refused:
        segment_rules_clean(rules)
    assert str(refused.value.message)


def test_the_count_is_one_query(django_assert_num_queries):
    gold = TierFactory(code="gold")
    rules = {"all": [{"rule": "tier", "tiers": [gold.pk]}, {"rule": "birthday", "days": 30},
                     {"rule": "consent", "channel": "email"},
                     {"rule": "not_messaged", "days": 7}]}
    with django_assert_num_queries(1):
        segment_count(rules, now=NOON)


def test_rfm_scores_are_quintiles_of_paid_orders():
    from marketing.services.scores import member_scores_refresh

    members = [profile() for _ in range(5)]
    for rank, member in enumerate(members, start=1):
        for _ in range(rank):
            paid_order(member, total=f"{rank * 1000}.00", at=NOON - timedelta(days=50 - rank))
    idle = profile()
    MemberScore.objects.create(member=idle, recency=5, frequency=5, monetary=5,
                               computed_at=NOON - timedelta(days=1))
    assert member_scores_refresh(now=NOON) == 5
    best = MemberScore.objects.get(member=members[-1])
    assert (best.recency, best.frequency, best.monetary) == (5, 5, 5)
    worst = MemberScore.objects.get(member=members[0])
    assert (worst.recency, worst.frequency, worst.monetary) == (1, 1, 1)
    assert not MemberScore.objects.filter(member=idle).exists()
