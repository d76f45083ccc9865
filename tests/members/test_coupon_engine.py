"""The coupon engine (members.services.coupons): every rule with its stable reason code
and a sentence for people; scope over the category tree, collections and products with
exclusions winning; the discount's rounding, cap and ceiling; codes as people type them;
redemption, its counts and its reversal."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from members.models import CouponChannel, CouponStatus, DiscountKind, Redemption
from members.services.coupon_issuing import coupon_issue
from members.services.coupons import (
    CouponNotApplicable,
    coupon_check,
    coupon_code_clean,
    coupon_redeem,
    coupon_redemption_reverse,
    coupons_usable,
    discount_for,
    eligible_amount,
)
from tests.members.coupon_engine_factories import category, collection, coupon, definition, piece
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

D = Decimal
ONLINE, STORE = "online", "store"


def refused(**kwargs) -> CouponNotApplicable:
    """The CouponNotApplicable coupon_check raises (the test fails if it applies)."""
    with pytest.raises(CouponNotApplicable) as caught:
        coupon_check(**kwargs)
    assert caught.value.status == 400
    assert str(caught.value.message).strip()  # always a sentence for people
    return caught.value


@pytest.fixture
def tree():
    """rings > engagement > solitaire; necklaces; a "bridal" collection."""
    rings = category("戒指")
    engagement = category("订婚戒指", parent=rings)
    solitaire = category("单钻", parent=engagement)
    necklaces = category("项链")
    bridal = collection("婚嫁")
    return {
        "rings": rings, "engagement": engagement, "solitaire": solitaire,
        "necklaces": necklaces, "bridal": bridal,
        "plain_ring": piece(in_category=rings, price="1000.00"),
        "solitaire_ring": piece(in_category=solitaire, price="5000.00"),
        "necklace": piece(in_category=necklaces, price="800.00"),
        "bridal_necklace": piece(in_category=necklaces, price="1200.00", collections=[bridal]),
    }


def basket(*variants):
    return [(v, v.list_price) for v in variants]


# --- Which code --------------------------------------------------------------------------


def test_an_unknown_code_empty_or_too_long_is_coupon_unknown():
    member = UserFactory()
    coupon(code="REAL2026")
    for typed in ("NOPE2026", "", "   ", "-", "X" * 25, None):
        assert refused(code=typed, member=member, channel=ONLINE).code == "coupon_unknown"


@pytest.mark.parametrize("typed", ["gold520", " GOLD 520 ", "gold-520", "Gold_520", "g-o-l-d 5 2 0",
                                   "GOLD\t520\n", "ＧＯＬＤ５２０", "GOLD－520", "GOLD–520",
                                   "GOLD\x00520"])
def test_codes_typed_with_spaces_dashes_lower_or_full_width_characters_are_found(typed):
    made = coupon(code="GOLD520")
    quote = coupon_check(code=typed, member=UserFactory(), channel=ONLINE)
    assert quote.coupon == made
    assert coupon_code_clean(typed) == "GOLD520"


# --- The coupon itself --------------------------------------------------------------------


def test_a_void_coupon_or_a_withdrawn_definition_is_coupon_void():
    member = UserFactory()
    voided = coupon(member=member, status=CouponStatus.VOID)
    assert refused(code=voided.code, member=member, channel=ONLINE).code == "coupon_void"
    withdrawn = coupon(definition(is_active=False), member=member)
    assert refused(code=withdrawn.code, member=member, channel=ONLINE).code == "coupon_void"


def test_before_the_window_opens_is_coupon_not_yet_valid_and_at_its_start_it_works():
    opens = timezone.now() + timedelta(days=3)
    made = coupon(definition(valid_from=opens))
    member = UserFactory()
    problem = refused(code=made.code, member=member, channel=ONLINE,
                      now=opens - timedelta(seconds=1))
    assert problem.code == "coupon_not_yet_valid"
    assert coupon_check(code=made.code, member=member, channel=ONLINE, now=opens).coupon == made


def test_at_the_end_of_the_window_it_is_coupon_expired_a_second_before_it_works():
    ends = timezone.now() + timedelta(days=1)
    made = coupon(definition(valid_until=ends))
    member = UserFactory()
    assert coupon_check(code=made.code, member=member, channel=ONLINE,
                        now=ends - timedelta(seconds=1)).coupon == made
    assert refused(code=made.code, member=member, channel=ONLINE,
                   now=ends).code == "coupon_expired"
    assert refused(code=made.code, member=member, channel=ONLINE,
                   now=ends + timedelta(days=400)).code == "coupon_expired"


def test_valid_days_run_from_each_coupons_issue_and_the_window_end_still_wins():
    member = UserFactory()
    issued_at = timezone.now() - timedelta(days=10)
    thirty = definition(valid_days=30)
    issued = coupon_issue(definition=thirty, member=member, now=issued_at)
    assert issued.expires_at == issued_at + timedelta(days=30)
    ends = issued_at + timedelta(days=30)
    assert coupon_check(code=issued.code, member=member, channel=ONLINE,
                        now=ends - timedelta(seconds=1)).coupon == issued
    assert refused(code=issued.code, member=member, channel=ONLINE,
                   now=ends).code == "coupon_expired"
    # A coupon issued today of the same definition still has its 30 days.
    fresh = coupon_issue(definition=thirty, member=member)
    assert coupon_check(code=fresh.code, member=member, channel=ONLINE,
                        now=ends + timedelta(days=1)).coupon == fresh

    window_end = timezone.now() + timedelta(days=5)
    short = coupon_issue(definition=definition(valid_days=30, valid_until=window_end),
                         member=member)
    assert refused(code=short.code, member=member, channel=ONLINE,
                   now=window_end).code == "coupon_expired"


def test_a_single_use_coupon_once_redeemed_is_coupon_used(tree):
    member = UserFactory()
    made = coupon(member=member)
    coupon_redeem(code=made.code, member=member, channel=ONLINE,
                  lines=basket(tree["plain_ring"]), reference="ORD-USED-1")
    assert refused(code=made.code, member=member, channel=ONLINE).code == "coupon_used"
    made.refresh_from_db()
    assert (made.uses, made.status) == (1, CouponStatus.REDEEMED)


def test_a_public_code_with_a_use_limit_is_used_up_after_that_many(tree):
    made = coupon(code="SPRING2", max_uses=2)
    for n in range(2):
        coupon_redeem(code="spring2", member=UserFactory(), channel=ONLINE,
                      lines=basket(tree["plain_ring"]), reference=f"ORD-PUB-{n}")
    made.refresh_from_db()
    assert (made.uses, made.status) == (2, CouponStatus.REDEEMED)
    assert refused(code="SPRING2", member=UserFactory(), channel=ONLINE).code == "coupon_used"


def test_someone_elses_coupon_is_coupon_not_yours_for_a_member_and_for_a_guest():
    owner, other = UserFactory(), UserFactory()
    made = coupon(member=owner)
    assert refused(code=made.code, member=other, channel=ONLINE).code == "coupon_not_yours"
    guest = refused(code=made.code, member=None, channel=STORE)
    assert guest.code == "coupon_not_yours"
    assert coupon_check(code=made.code, member=owner, channel=ONLINE).coupon == made
    # A printed code (nobody's) works for a guest and for any member.
    printed = coupon()
    assert coupon_check(code=printed.code, member=None, channel=STORE).coupon == printed
    assert coupon_check(code=printed.code, member=other, channel=STORE).coupon == printed


def test_the_channel_online_only_at_a_counter_and_store_only_online_is_wrong_channel():
    member = UserFactory()
    web = coupon(definition(channel=CouponChannel.ONLINE), member=member)
    shop = coupon(definition(channel=CouponChannel.STORE), member=member)
    both = coupon(definition(channel=CouponChannel.BOTH), member=member)
    with translation.override("en"):
        at_counter = refused(code=web.code, member=member, channel=STORE)
        on_web = refused(code=shop.code, member=member, channel=ONLINE)
    assert at_counter.code == on_web.code == "coupon_wrong_channel"
    assert "web shop" in at_counter.message and "stores" in on_web.message
    assert coupon_check(code=web.code, member=member, channel=ONLINE).coupon == web
    assert coupon_check(code=shop.code, member=member, channel=STORE).coupon == shop
    for channel in (ONLINE, STORE):
        assert coupon_check(code=both.code, member=member, channel=channel).coupon == both


def test_a_coupon_that_does_not_combine_with_points_is_refused_only_with_points():
    member = UserFactory()
    alone = coupon(definition(stacks_with_points=False), member=member)
    assert refused(code=alone.code, member=member, channel=ONLINE,
                   with_points=True).code == "coupon_no_points"
    assert coupon_check(code=alone.code, member=member, channel=ONLINE).coupon == alone
    stacks = coupon(definition(stacks_with_points=True), member=member)
    assert coupon_check(code=stacks.code, member=member, channel=ONLINE,
                        with_points=True).coupon == stacks


def test_the_first_rule_that_fails_is_the_reason():
    owner = UserFactory()
    past = timezone.now() - timedelta(days=1)
    made = coupon(definition(valid_until=past, channel=CouponChannel.STORE), member=owner)
    # Expired, someone else's and the wrong channel at once: expiry is checked first.
    assert refused(code=made.code, member=UserFactory(), channel=ONLINE).code == "coupon_expired"


# --- Limits --------------------------------------------------------------------------------


def test_the_total_limit_counts_redemptions_not_reversed(tree):
    offer = definition(total_limit=2)
    coupon(offer, code="ONLY2", max_uses=None)
    lines = basket(tree["plain_ring"])
    for n in range(2):
        coupon_redeem(code="ONLY2", member=UserFactory(), channel=ONLINE, lines=lines,
                      reference=f"ORD-TL-{n}")
    with translation.override("en"):
        problem = refused(code="ONLY2", member=UserFactory(), channel=ONLINE)
    assert problem.code == "coupon_limit_reached" and "fully claimed" in problem.message
    # Other codes of the same definition count towards its limit too.
    other = coupon(offer)
    assert refused(code=other.code, member=None, channel=STORE).code == "coupon_limit_reached"
    coupon_redemption_reverse(reference="ORD-TL-0")
    assert coupon_check(code="ONLY2", member=UserFactory(), channel=ONLINE).coupon.code == "ONLY2"


def test_the_per_member_limit_counts_that_members_redemptions_of_the_definition(tree):
    offer = definition(per_member_limit=1)
    coupon(offer, code="ONCEEACH", max_uses=None)
    member, other = UserFactory(), UserFactory()
    lines = basket(tree["plain_ring"])
    coupon_redeem(code="ONCEEACH", member=member, channel=ONLINE, lines=lines,
                  reference="ORD-PM-1")
    with translation.override("en"):
        problem = refused(code="ONCEEACH", member=member, channel=STORE)
    assert problem.code == "coupon_limit_reached" and "already used" in problem.message
    # Another code of the definition issued to the same member: still the same offer.
    own = coupon(offer, member=member)
    assert refused(code=own.code, member=member, channel=ONLINE).code == "coupon_limit_reached"
    assert coupon_check(code="ONCEEACH", member=other, channel=ONLINE).coupon.code == "ONCEEACH"
    with pytest.raises(CouponNotApplicable) as caught:
        coupon_redeem(code="ONCEEACH", member=member, channel=ONLINE, lines=lines,
                      reference="ORD-PM-2")
    assert caught.value.code == "coupon_limit_reached"
    assert Redemption.objects.filter(member=member).count() == 1


def test_a_gift_issued_for_each_occasion_is_not_used_up_by_last_years(tree):
    """A tier's birthday gift is one definition, issued once a year (occasion
    birthday-<year>): using last year's must not make this year's "already used"."""
    gift = definition(per_member_limit=1)
    member = UserFactory()
    last_year = coupon_issue(definition=gift, member=member, occasion="birthday-2025")
    coupon_redeem(code=last_year.code, member=member, channel=ONLINE,
                  lines=basket(tree["plain_ring"]), reference="ORD-BDAY-2025")
    this_year = coupon_issue(definition=gift, member=member, occasion="birthday-2026")
    quote = coupon_check(code=this_year.code, member=member, channel=ONLINE,
                         lines=basket(tree["plain_ring"]))
    assert quote.coupon == this_year and quote.discount == D("100.00")
    # Without an occasion the definition's limit per member holds as before.
    plain = coupon(gift, member=member)
    assert refused(code=plain.code, member=member, channel=ONLINE).code == "coupon_limit_reached"


# --- The basket: scope and minimum ---------------------------------------------------------


def test_categories_include_their_sub_categories(tree):
    offer = definition(categories=[tree["rings"]])
    assert eligible_amount(offer, basket(tree["solitaire_ring"], tree["plain_ring"],
                                         tree["necklace"])) == D("6000.00")
    made = coupon(offer)
    problem = refused(code=made.code, member=None, channel=STORE,
                      lines=basket(tree["necklace"]))
    assert problem.code == "coupon_out_of_scope"


def test_collections_and_products_scope(tree):
    by_collection = definition(collections=[tree["bridal"]])
    assert eligible_amount(by_collection, basket(tree["bridal_necklace"], tree["necklace"],
                                                 tree["plain_ring"])) == D("1200.00")
    by_product = definition(products=[tree["necklace"].product])
    assert eligible_amount(by_product, basket(tree["bridal_necklace"], tree["necklace"])) == D(
        "800.00")
    # Any of the three counts once (a piece both in the category and the collection).
    mixed = definition(categories=[tree["necklaces"]], collections=[tree["bridal"]],
                       products=[tree["plain_ring"].product])
    assert eligible_amount(mixed, basket(tree["bridal_necklace"], tree["necklace"],
                                         tree["plain_ring"],
                                         tree["solitaire_ring"])) == D("3000.00")
    everything = definition()
    assert eligible_amount(everything, basket(tree["necklace"], tree["plain_ring"])) == D(
        "1800.00")


def test_exclusions_win_over_the_scope(tree):
    no_solitaire = definition(categories=[tree["rings"]],
                              excluded_products=[tree["solitaire_ring"].product])
    assert eligible_amount(no_solitaire, basket(tree["solitaire_ring"], tree["plain_ring"])) == D(
        "1000.00")
    # An excluded category takes its sub-categories with it.
    not_engagement = definition(categories=[tree["rings"]],
                                excluded_categories=[tree["engagement"]])
    assert eligible_amount(not_engagement, basket(tree["solitaire_ring"],
                                                  tree["plain_ring"])) == D("1000.00")
    # A product named in the scope is still out when its category is excluded.
    named = definition(products=[tree["solitaire_ring"].product],
                       excluded_categories=[tree["engagement"]])
    made = coupon(named)
    assert refused(code=made.code, member=None, channel=STORE,
                   lines=basket(tree["solitaire_ring"])).code == "coupon_out_of_scope"
    # Exclusions alone: everything else counts.
    not_necklaces = definition(excluded_categories=[tree["necklaces"]],
                               excluded_products=[tree["plain_ring"].product])
    assert eligible_amount(not_necklaces, basket(tree["necklace"], tree["bridal_necklace"],
                                                 tree["plain_ring"],
                                                 tree["solitaire_ring"])) == D("5000.00")


def test_the_scope_costs_a_fixed_number_of_queries(tree):
    offer = definition(categories=[tree["rings"]], collections=[tree["bridal"]],
                       excluded_categories=[tree["engagement"]],
                       excluded_products=[tree["necklace"].product])
    few = basket(tree["plain_ring"])
    many = [(piece(in_category=tree["rings"]), D("10.00")) for _ in range(15)]
    many += basket(tree["solitaire_ring"], tree["necklace"], tree["bridal_necklace"])
    counts = []
    for lines in (few, many):
        with CaptureQueriesContext(connection) as queries:
            eligible_amount(offer, lines)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 8
    assert eligible_amount(offer, many) == D("1350.00")


def test_the_minimum_spend_counts_the_covered_pieces_and_says_how_much_more(tree):
    offer = definition(categories=[tree["rings"]], min_spend=D("1500.00"))
    made = coupon(offer)
    lines = basket(tree["plain_ring"], tree["necklace"])  # 1,000 of rings, 800 not covered
    with translation.override("en"):
        problem = refused(code=made.code, member=None, channel=STORE, lines=lines)
    assert problem.code == "coupon_min_spend"
    assert problem.extra["missing"] == "500.00" and problem.extra["minimum"] == "1500.00"
    # Money written as the shop writes it everywhere: ¥1,500, not 1,500.00.
    assert "needs ¥1,500 of covered pieces; add ¥500 more" in problem.message
    assert ".00" not in problem.message
    exactly = [(tree["plain_ring"], D("1500.00"))]
    assert coupon_check(code=made.code, member=None, channel=STORE,
                        lines=exactly).discount == D("100.00")
    almost = [(tree["plain_ring"], D("1499.99"))]
    assert refused(code=made.code, member=None, channel=STORE,
                   lines=almost).extra["missing"] == "0.01"


# --- The discount --------------------------------------------------------------------------


def test_percent_rounds_half_up_to_the_cent_and_stops_at_the_cap():
    ten = definition(kind=DiscountKind.PERCENT, value=D("10"))
    assert discount_for(ten, D("1234.45")) == D("123.45")  # 123.445: half up, not to even
    assert discount_for(ten, D("1234.44")) == D("123.44")
    odd = definition(kind=DiscountKind.PERCENT, value=D("12.5"))
    assert discount_for(odd, D("0.20")) == D("0.03")  # 0.025
    capped = definition(kind=DiscountKind.PERCENT, value=D("20"), cap=D("500.00"))
    assert discount_for(capped, D("10000.00")) == D("500.00")
    assert discount_for(capped, D("2000.00")) == D("400.00")
    assert discount_for(capped, D("0")) == D("0.00")


def test_amount_and_threshold_never_take_more_than_the_covered_pieces_cost(tree):
    big = definition(kind=DiscountKind.AMOUNT, value=D("3000.00"),
                     categories=[tree["necklaces"]])
    made = coupon(big)
    quote = coupon_check(code=made.code, member=None, channel=STORE,
                         lines=basket(tree["necklace"], tree["solitaire_ring"]))
    assert (quote.eligible, quote.discount) == (D("800.00"), D("800.00"))
    threshold = definition(kind=DiscountKind.THRESHOLD, value=D("300.00"),
                           min_spend=D("3000.00"))
    assert discount_for(threshold, D("3500.00")) == D("300.00")
    huge = definition(kind=DiscountKind.THRESHOLD, value=D("5000.00"), min_spend=D("3000.00"))
    assert discount_for(huge, D("3500.00")) == D("3500.00")
    capped = definition(kind=DiscountKind.AMOUNT, value=D("800.00"), cap=D("200.00"))
    assert discount_for(capped, D("5000.00")) == D("200.00")


def test_without_a_basket_only_the_coupons_own_rules_are_checked(tree):
    offer = definition(categories=[tree["rings"]], min_spend=D("99999.00"))
    made = coupon(offer)
    quote = coupon_check(code=made.code, member=None, channel=STORE)
    assert (quote.coupon, quote.discount, quote.eligible) == (made, D("0.00"), D("0.00"))


# --- Redemption and reversal ---------------------------------------------------------------


def test_a_redemption_records_who_where_and_how_much(tree):
    member, clerk, store = UserFactory(), UserFactory(), StoreFactory()
    made = coupon(definition(kind=DiscountKind.PERCENT, value=D("10")), member=member)
    redemption = coupon_redeem(code=made.code.lower(), member=member, channel=STORE,
                               lines=basket(tree["solitaire_ring"]), reference="ORD-R-1",
                               store=store, actor=clerk)
    redemption.refresh_from_db()
    assert (redemption.coupon, redemption.definition, redemption.member) == (
        made, made.definition, member)
    assert (redemption.channel, redemption.store, redemption.actor) == (STORE, store, clerk)
    assert redemption.discount == D("500.00") and redemption.reversed_at is None


def test_a_refused_redemption_writes_nothing(tree):
    member = UserFactory()
    made = coupon(definition(min_spend=D("9000.00")), member=member)
    with pytest.raises(CouponNotApplicable) as caught:
        coupon_redeem(code=made.code, member=member, channel=ONLINE,
                      lines=basket(tree["plain_ring"]), reference="ORD-NO")
    assert caught.value.code == "coupon_min_spend"
    made.refresh_from_db()
    assert (made.uses, made.status) == (0, CouponStatus.ISSUED)
    assert not Redemption.objects.exists()


def test_reversal_gives_the_coupon_back_once_and_it_can_be_redeemed_again(tree):
    member, clerk = UserFactory(), UserFactory()
    made = coupon(member=member)
    lines = basket(tree["plain_ring"])
    first = coupon_redeem(code=made.code, member=member, channel=ONLINE, lines=lines,
                          reference="ORD-REV-1")
    reversed_ = coupon_redemption_reverse(reference="ORD-REV-1", actor=clerk)
    assert reversed_.pk == first.pk and reversed_.reversed_by == clerk
    made.refresh_from_db()
    assert (made.uses, made.status) == (0, CouponStatus.ISSUED)
    assert coupon_redemption_reverse(reference="ORD-REV-1") is None  # twice is once
    made.refresh_from_db()
    assert made.uses == 0
    assert coupon_redemption_reverse(reference="ORD-NEVER") is None

    again = coupon_redeem(code=made.code, member=member, channel=ONLINE, lines=lines,
                          reference="ORD-REV-2")
    made.refresh_from_db()
    assert (made.uses, made.status) == (1, CouponStatus.REDEEMED)
    assert list(Redemption.objects.filter(reversed_at__isnull=True)) == [again]
    assert Redemption.objects.count() == 2


def test_the_wallet_lists_the_members_own_coupons_usable_on_the_channel_now():
    member = UserFactory()
    now = timezone.now()
    usable = coupon(member=member)
    both_late = coupon(definition(channel=CouponChannel.BOTH), member=member,
                       expires_at=now + timedelta(days=9))
    web_soon = coupon(definition(channel=CouponChannel.ONLINE), member=member,
                      expires_at=now + timedelta(days=1))
    coupon(definition(channel=CouponChannel.STORE), member=member)  # wrong channel
    coupon(member=member, status=CouponStatus.VOID)
    coupon(member=member, status=CouponStatus.REDEEMED, uses=1)
    coupon(member=member, expires_at=now - timedelta(seconds=1))
    coupon(definition(valid_until=now - timedelta(days=1)), member=member)
    coupon(definition(valid_from=now + timedelta(days=1)), member=member)
    coupon(definition(is_active=False), member=member)
    coupon(member=UserFactory())  # someone else's
    assert coupons_usable(member=member, channel=ONLINE, now=now) == [web_soon, both_late, usable]


def test_the_wallet_leaves_out_coupons_whose_offer_limits_are_used_up(
        django_assert_max_num_queries):
    member, now = UserFactory(), timezone.now()
    fresh = coupon(member=member)
    claimed = definition(total_limit=1)
    full = coupon(claimed, member=member)
    Redemption.objects.create(coupon=coupon(claimed), definition=claimed, reference="O-1",
                              channel="online", discount=10, redeemed_at=now)
    once = definition(per_member_limit=1)
    spent = coupon(once, member=member)
    Redemption.objects.create(coupon=coupon(once, member=member), definition=once,
                              member=member, reference="O-2", channel="online", discount=10,
                              redeemed_at=now)
    gift = definition(per_member_limit=1)
    this_year = coupon(gift, member=member, occasion="birthday-2026")
    Redemption.objects.create(coupon=coupon(gift, member=member, occasion="birthday-2025"),
                              definition=gift, member=member, reference="O-3",
                              channel="online", discount=10, redeemed_at=now)
    with django_assert_max_num_queries(1):
        offered = coupons_usable(member=member, channel=ONLINE, now=now)
    assert fresh in offered and this_year in offered
    assert full not in offered and spent not in offered
