import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from members.models import Coupon, CouponBatch, CouponStatus
from members.services import (
    CouponIssueRefused,
    coupon_batch_create,
    coupon_batch_csv,
    coupon_code_clean,
    coupon_code_new,
    coupon_issue,
    coupon_public_create,
    coupon_void,
    coupons_issue_to_members,
    coupons_issue_to_phones,
)
from members.services.coupon_issuing import CODE_ALPHABET, coupon_expiry_for
from tests.concurrency import race
from tests.members.factories import StaffFactory, UserFactory

from .coupon_factories import CouponDefinitionFactory, CouponFactory

pytestmark = pytest.mark.django_db


# --- Codes -----------------------------------------------------------------------------------


def test_new_codes_are_12_unambiguous_characters_and_differ():
    codes = {coupon_code_new() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == 12
        assert set(code) <= set(CODE_ALPHABET)
    assert not set("01OIL") & set("".join(codes))


@pytest.mark.parametrize("raw, clean", [
    (" gold-520 ", "GOLD520"),
    ("ab12 cd34", "AB12CD34"),
    ("ＧＯＬＤ５２０", "GOLD520"),  # full-width, as a Chinese keyboard may type it
    ("gold_520\x00", "GOLD520"),
    ("AB—CD\u3000EF\t\n", "ABCDEF"),
    ("", ""),
    (None, ""),
])
def test_typed_codes_are_cleaned_the_same_way(raw, clean):
    assert coupon_code_clean(raw) == clean


def test_the_engine_reads_codes_with_the_one_cleaner_and_a_cleaned_code_as_it_is():
    from members.services.coupons import coupon_code_clean as engine_clean

    assert engine_clean is coupon_code_clean  # one reading of a typed code, not two
    for raw in [" gold-520 ", "ab12 cd34", "x_y-z", "ＧＯＬＤ—５２０\x00"]:
        assert coupon_code_clean(coupon_code_clean(raw)) == coupon_code_clean(raw)


# --- To one member -----------------------------------------------------------------------------


def test_issue_gives_the_member_a_single_use_code_recording_who_issued_it():
    definition = CouponDefinitionFactory()
    member, marketer = UserFactory(), StaffFactory()
    coupon = coupon_issue(definition=definition, member=member, actor=marketer)
    assert coupon.member == member and coupon.issued_by == marketer
    assert coupon.max_uses == 1 and coupon.uses == 0 and coupon.status == CouponStatus.ISSUED
    assert len(coupon.code) == 12
    assert coupon.expires_at is None  # the definition never ends


def test_expiry_is_days_from_issue_when_that_comes_first():
    now = timezone.now()
    definition = CouponDefinitionFactory(valid_days=30, valid_until=now + timedelta(days=90))
    coupon = coupon_issue(definition=definition, member=UserFactory(), now=now)
    assert coupon.expires_at == now + timedelta(days=30)


def test_expiry_is_the_definitions_end_when_that_comes_first():
    now = timezone.now()
    definition = CouponDefinitionFactory(valid_days=30, valid_until=now + timedelta(days=10))
    coupon = coupon_issue(definition=definition, member=UserFactory(), now=now)
    assert coupon.expires_at == now + timedelta(days=10)


def test_days_count_from_the_window_start_when_issued_before_it_opens():
    now = timezone.now()
    starts = now + timedelta(days=5)
    definition = CouponDefinitionFactory(valid_days=7, valid_from=starts)
    assert coupon_expiry_for(definition=definition, issued_at=now) == starts + timedelta(days=7)


def test_an_inactive_or_ended_definition_issues_nothing():
    inactive = CouponDefinitionFactory(is_active=False)
    with pytest.raises(CouponIssueRefused) as caught:
        coupon_issue(definition=inactive, member=UserFactory())
    assert caught.value.code == "definition_inactive"
    ended = CouponDefinitionFactory(valid_until=timezone.now() - timedelta(minutes=1))
    with pytest.raises(CouponIssueRefused) as caught:
        coupon_issue(definition=ended, member=UserFactory())
    assert caught.value.code == "definition_ended"
    assert not Coupon.objects.exists()


def test_an_occasion_is_issued_once():
    definition, member = CouponDefinitionFactory(), UserFactory()
    first = coupon_issue(definition=definition, member=member, occasion="birthday-2026")
    again = coupon_issue(definition=definition, member=member, occasion="birthday-2026")
    assert again.pk == first.pk
    other = coupon_issue(definition=definition, member=member, occasion="birthday-2027")
    assert other.pk != first.pk
    assert Coupon.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_occasion_raced_by_many_is_issued_once():
    definition, member = CouponDefinitionFactory(), UserFactory()

    def work(_i):
        return coupon_issue(definition=definition, member=member, occasion="birthday-2026").pk

    results, errors = race(8, work)
    assert errors == []
    assert len(set(results)) == 1
    assert Coupon.objects.filter(definition=definition, member=member).count() == 1


# --- To many members -----------------------------------------------------------------------------


def test_issue_to_members_skips_holders_of_an_unused_one_and_inactive_accounts():
    definition, marketer = CouponDefinitionFactory(), StaffFactory()
    holder, fresh, gone = UserFactory(), UserFactory(), UserFactory(is_active=False)
    used_one = UserFactory()
    coupon_issue(definition=definition, member=holder)
    CouponFactory(definition=definition, member=used_one, status=CouponStatus.REDEEMED, uses=1)
    issued = coupons_issue_to_members(definition=definition, actor=marketer,
                                      members=[holder, fresh, gone, used_one, fresh])
    assert issued == 2
    assert Coupon.objects.filter(definition=definition, member=holder).count() == 1
    assert Coupon.objects.filter(definition=definition, member=fresh,
                                 issued_by=marketer).count() == 1
    assert not Coupon.objects.filter(member=gone).exists()
    assert Coupon.objects.filter(definition=definition, member=used_one).count() == 2
    # A second run gives nobody a second one.
    assert coupons_issue_to_members(definition=definition, actor=marketer,
                                    members=[holder, fresh]) == 0


def test_issue_to_members_takes_a_queryset_and_gives_distinct_codes():
    from members.models import User

    definition = CouponDefinitionFactory(valid_days=10)
    UserFactory.create_batch(25)
    issued = coupons_issue_to_members(definition=definition, members=User.objects.all(),
                                      actor=None)
    assert issued == 25
    codes = list(Coupon.objects.values_list("code", flat=True))
    assert len(set(codes)) == 25
    assert all(c.expires_at is not None for c in Coupon.objects.all())


def test_an_expired_unused_coupon_does_not_stop_a_new_one():
    definition, member = CouponDefinitionFactory(), UserFactory()
    CouponFactory(definition=definition, member=member,
                  expires_at=timezone.now() - timedelta(days=1))
    assert coupons_issue_to_members(definition=definition, members=[member], actor=None) == 1


def test_issue_to_phones_reports_unknown_and_invalid_numbers():
    definition, marketer = CouponDefinitionFactory(), StaffFactory()
    known = UserFactory(phone="+8613800138000")
    other = UserFactory(phone="+8613900139000")
    text = ("138 0013 8000\n"
            "+86 139-0013-9000\r\n"
            "13800138000\n"        # a repeat, typed another way
            "\n"
            "137 0000 0000\n"      # a valid number of nobody
            "hello\n")
    issued, unknown = coupons_issue_to_phones(definition=definition, phones_text=text,
                                              actor=marketer)
    assert issued == 2
    assert set(Coupon.objects.values_list("member", flat=True)) == {known.pk, other.pk}
    assert unknown == ["hello", "+8613700000000"]


def test_issue_to_phones_with_nothing_pasted_is_refused():
    with pytest.raises(CouponIssueRefused) as caught:
        coupons_issue_to_phones(definition=CouponDefinitionFactory(), phones_text=" \n ",
                                actor=None)
    assert caught.value.code == "no_phones"


def test_issue_to_phones_of_an_ended_definition_is_refused_even_with_no_member():
    ended = CouponDefinitionFactory(valid_until=timezone.now() - timedelta(days=1))
    with pytest.raises(CouponIssueRefused) as caught:
        coupons_issue_to_phones(definition=ended, phones_text="13700000000", actor=None)
    assert caught.value.code == "definition_ended"


# --- Public codes -------------------------------------------------------------------------------


def test_public_code_is_cleaned_and_has_no_member_and_no_use_limit():
    definition, marketer = CouponDefinitionFactory(), StaffFactory()
    coupon = coupon_public_create(definition=definition, code=" gold-520 ", actor=marketer)
    assert coupon.code == "GOLD520"
    assert coupon.member is None and coupon.max_uses is None and coupon.issued_by == marketer
    limited = coupon_public_create(definition=definition, code="VIP100", actor=marketer,
                                   max_uses=50)
    assert limited.max_uses == 50


def test_a_public_code_that_clashes_is_refused_clearly():
    definition = CouponDefinitionFactory()
    coupon_public_create(definition=definition, code="GOLD520", actor=None)
    with pytest.raises(CouponIssueRefused) as caught:
        coupon_public_create(definition=CouponDefinitionFactory(), code="gold 520", actor=None)
    assert caught.value.code == "code_taken"
    assert "GOLD520" in str(caught.value.message)
    assert Coupon.objects.count() == 1


@pytest.mark.parametrize("code", ["AB1", "X" * 25, "GOLD!520", "金卡520", ""])
def test_a_public_code_must_be_4_to_24_letters_and_digits(code):
    with pytest.raises(CouponIssueRefused) as caught:
        coupon_public_create(definition=CouponDefinitionFactory(), code=code, actor=None)
    assert caught.value.code == "code_invalid"
    assert not Coupon.objects.exists()


def test_a_public_code_with_zero_uses_is_refused():
    with pytest.raises(CouponIssueRefused) as caught:
        coupon_public_create(definition=CouponDefinitionFactory(), code="GOLD520",
                             actor=None, max_uses=0)
    assert caught.value.code == "max_uses_invalid"


# --- Printed batches ---------------------------------------------------------------------------


def test_a_batch_makes_n_unique_single_use_anonymous_codes():
    definition, marketer = CouponDefinitionFactory(valid_days=60), StaffFactory()
    batch = coupon_batch_create(definition=definition, quantity=1500, note="上海店开业",
                                actor=marketer)
    assert batch.quantity == 1500 and batch.created_by == marketer and batch.note == "上海店开业"
    coupons = Coupon.objects.filter(batch=batch)
    assert coupons.count() == 1500
    assert coupons.values("code").distinct().count() == 1500
    assert not coupons.exclude(max_uses=1).exists()
    assert not coupons.exclude(member=None).exists()
    assert not coupons.exclude(issued_by=marketer).exists()


@pytest.mark.parametrize("quantity", [0, -1, 10_001, True, "5"])
def test_a_batch_quantity_outside_1_to_10000_is_refused(quantity):
    with pytest.raises(CouponIssueRefused) as caught:
        coupon_batch_create(definition=CouponDefinitionFactory(), quantity=quantity, note="",
                            actor=None)
    assert caught.value.code == "quantity_invalid"
    assert not CouponBatch.objects.exists()


def test_the_batch_csv_lists_each_code_with_its_value_and_end(settings):
    from django.utils import translation

    ends = timezone.now() + timedelta(days=3)
    definition = CouponDefinitionFactory(valid_until=ends)
    batch = coupon_batch_create(definition=definition, quantity=3, note="", actor=None)
    with translation.override("en"):
        rows = list(csv.reader(io.StringIO(coupon_batch_csv(batch))))
    assert rows[0] == ["Code", "Value", "Valid until"]
    codes = sorted(Coupon.objects.filter(batch=batch).values_list("code", flat=True))
    assert sorted(row[0] for row in rows[1:]) == codes
    local_end = timezone.localtime(ends).date().isoformat()
    assert all(row[1:] == ["¥200 off orders over ¥2,000", local_end] for row in rows[1:])


# --- Void ---------------------------------------------------------------------------------------


def test_void_stops_an_unused_coupon_and_records_who():
    marketer = StaffFactory()
    coupon = coupon_issue(definition=CouponDefinitionFactory(), member=UserFactory())
    coupon_void(coupon=coupon, actor=marketer)
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.VOID
    entry = LogEntry.objects.get(object_id=str(coupon.pk))
    assert entry.user == marketer


def test_a_used_or_void_coupon_cannot_be_voided():
    used = CouponFactory(status=CouponStatus.REDEEMED, uses=1)
    with pytest.raises(CouponIssueRefused) as caught:
        coupon_void(coupon=used, actor=None)
    assert caught.value.code == "coupon_not_voidable"
    used.refresh_from_db()
    assert used.status == CouponStatus.REDEEMED
    void = CouponFactory(status=CouponStatus.VOID)
    with pytest.raises(CouponIssueRefused):
        coupon_void(coupon=void, actor=None)
