import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation

from members.models import (
    Coupon,
    CouponBatch,
    CouponDefinition,
    CouponStatus,
    MemberProfile,
    Redemption,
)
from members.roles import STORE_STAFF
from members.services import coupon_batch_create, coupon_issue
from tests.catalog.factories import CategoryFactory
from tests.members.coupon_factories import CouponDefinitionFactory, CouponFactory, TierFactory
from tests.members.factories import StaffFactory, UserFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

ADMIN = "/en/admin/members"


def definition_form(**overrides):
    data = {
        "name": "满2000减200", "description": "", "is_active": "on", "kind": "threshold",
        "value": "200", "cap": "", "min_spend": "2000", "channel": "both",
        "valid_from_0": "", "valid_from_1": "", "valid_until_0": "", "valid_until_1": "",
        "valid_days": "30", "total_limit": "", "per_member_limit": "1",
        "stacks_with_points": "on",
    }
    data.update(overrides)
    return data


# --- Definitions --------------------------------------------------------------------------------


def test_a_marketer_creates_a_definition_with_a_scope(marketer_client, marketer):
    rings = CategoryFactory()
    gold = TierFactory(code="gold")
    response = marketer_client.post(f"{ADMIN}/coupondefinition/add/", definition_form(
        categories=[rings.pk], birthday_tiers=[gold.pk]))
    assert response.status_code == 302, response.context["adminform"].form.errors
    definition = CouponDefinition.objects.get()
    assert definition.created_by == marketer
    assert list(definition.categories.all()) == [rings]
    assert list(definition.birthday_tiers.all()) == [gold]


@pytest.mark.parametrize("overrides, field", [
    ({"kind": "percent", "value": "150"}, None),          # CHECK: percent at most 100
    ({"value": "-5"}, None),                               # CHECK: value positive
    ({"kind": "threshold", "min_spend": "0"}, "min_spend"),
    ({"valid_from_0": "2026-06-01", "valid_from_1": "00:00:00",
      "valid_until_0": "2026-05-01", "valid_until_1": "00:00:00"}, "valid_until"),
    ({"value": "abc"}, "value"),
])
def test_a_bad_definition_is_a_400_with_the_reason(marketer_client, overrides, field):
    response = marketer_client.post(f"{ADMIN}/coupondefinition/add/", definition_form(**overrides))
    assert response.status_code == 400
    form = response.context["adminform"].form
    assert form.errors
    if field:
        assert field in form.errors
    assert not CouponDefinition.objects.exists()


def test_the_definition_list_shows_counts_in_one_query_per_page(
        marketer_client, django_assert_max_num_queries):
    for n in range(5):
        definition = CouponDefinitionFactory()
        for _ in range(n):
            coupon_issue(definition=definition, member=UserFactory())
    busy = CouponDefinition.objects.order_by("-pk").first()
    coupon = busy.coupons.first()
    Redemption.objects.create(coupon=coupon, definition=busy, member=coupon.member,
                              reference="O-1", channel="online", discount=200,
                              redeemed_at=timezone.now())
    Redemption.objects.create(coupon=coupon, definition=busy, member=coupon.member,
                              reference="O-2", channel="online", discount=200,
                              redeemed_at=timezone.now(), reversed_at=timezone.now())
    with django_assert_max_num_queries(12):
        response = marketer_client.get(f"{ADMIN}/coupondefinition/")
    assert response.status_code == 200
    rows = {d.pk: d for d in response.context["cl"].result_list}
    assert rows[busy.pk].issued_count == 4
    assert rows[busy.pk].redeemed_count == 1
    assert "¥200 off orders over ¥2,000" in response.text


def test_the_definition_page_offers_the_tools(marketer_client):
    definition = CouponDefinitionFactory()
    response = marketer_client.get(f"{ADMIN}/coupondefinition/{definition.pk}/change/")
    assert response.status_code == 200
    for name in ("issue", "public_code", "batch"):
        assert reverse(f"admin:members_coupondefinition_{name}",
                       args=[definition.pk]) in response.text


# --- Issue to members --------------------------------------------------------------------------


def test_issue_to_pasted_numbers_lists_the_unknown_ones(marketer_client, marketer):
    definition = CouponDefinitionFactory()
    known = UserFactory(phone="+8613800138000")
    url = f"{ADMIN}/coupondefinition/{definition.pk}/issue/"
    assert marketer_client.get(url).status_code == 200
    response = marketer_client.post(url, {"phones": "138 0013 8000\n137 0000 0000\n"})
    assert response.status_code == 200
    assert response.context["unknown"] == ["+8613700000000"]
    assert "+8613700000000" in response.text
    coupon = Coupon.objects.get()
    assert coupon.member == known and coupon.issued_by == marketer


def test_issue_to_tiers_gives_every_member_of_them_one(marketer_client):
    definition = CouponDefinitionFactory()
    silver, gold = TierFactory(code="silver"), TierFactory(code="gold")
    in_gold = [UserFactory() for _ in range(3)]
    for user in in_gold:
        MemberProfile.objects.create(user=user, tier=gold)
    MemberProfile.objects.create(user=UserFactory(), tier=silver)
    response = marketer_client.post(f"{ADMIN}/coupondefinition/{definition.pk}/issue/",
                                    {"tiers": [gold.pk]})
    assert response.status_code == 302
    assert set(Coupon.objects.values_list("member", flat=True)) == {u.pk for u in in_gold}


@pytest.mark.parametrize("data", [{}, {"phones": "13800138000", "tiers": ["1"]},
                                  {"tiers": ["999999"]}, {"phones": "a\x00b"}])
def test_bad_issue_input_is_a_400(marketer_client, data):
    definition = CouponDefinitionFactory()
    TierFactory(code="gold", pk=1) if "tiers" in data else None
    response = marketer_client.post(f"{ADMIN}/coupondefinition/{definition.pk}/issue/", data)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not Coupon.objects.exists()


def test_issuing_an_ended_definition_is_a_400_with_the_reason(marketer_client):
    definition = CouponDefinitionFactory(valid_until=timezone.now() - timedelta(days=1))
    UserFactory(phone="+8613800138000")
    response = marketer_client.post(f"{ADMIN}/coupondefinition/{definition.pk}/issue/",
                                    {"phones": "13800138000"})
    assert response.status_code == 400
    assert "no more coupons can be issued" in response.context["error"]
    assert not Coupon.objects.exists()


# --- Public code and batch ---------------------------------------------------------------------


def test_a_public_code_is_created_and_a_clash_is_a_400(marketer_client):
    definition = CouponDefinitionFactory()
    url = f"{ADMIN}/coupondefinition/{definition.pk}/public-code/"
    assert marketer_client.get(url).status_code == 200
    response = marketer_client.post(url, {"code": "gold-520", "max_uses": ""})
    assert response.status_code == 302
    assert Coupon.objects.get().code == "GOLD520"
    response = marketer_client.post(url, {"code": "GOLD520"})
    assert response.status_code == 400
    assert "GOLD520" in response.context["error"]
    response = marketer_client.post(url, {"code": "ab"})
    assert response.status_code == 400
    response = marketer_client.post(url, {"code": "VIP100", "max_uses": "0"})
    assert response.status_code == 400
    assert Coupon.objects.count() == 1


def test_a_printed_batch_is_made_and_offered_as_csv(marketer_client):
    definition = CouponDefinitionFactory()
    url = f"{ADMIN}/coupondefinition/{definition.pk}/batch/"
    assert marketer_client.get(url).status_code == 200
    response = marketer_client.post(url, {"quantity": "25", "note": "南京西路店"})
    batch = CouponBatch.objects.get()
    assert response.status_code == 302
    with translation.override("en"):
        assert response["Location"] == reverse("admin:members_couponbatch_change",
                                               args=[batch.pk])
    assert batch.coupons.count() == 25
    page = marketer_client.get(f"{ADMIN}/couponbatch/{batch.pk}/change/")
    csv_url = reverse("admin:members_couponbatch_csv", args=[batch.pk])
    assert csv_url in page.text
    download = marketer_client.get(csv_url)
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="coupons-batch-{batch.pk}.csv"'
    text = download.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 26
    assert {row[0] for row in rows[1:]} == set(batch.coupons.values_list("code", flat=True))


@pytest.mark.parametrize("data", [{"quantity": "0"}, {"quantity": "10001"}, {"quantity": "²"},
                                  {"quantity": ""}])
def test_a_bad_batch_is_a_400(marketer_client, data):
    definition = CouponDefinitionFactory()
    response = marketer_client.post(f"{ADMIN}/coupondefinition/{definition.pk}/batch/", data)
    assert response.status_code == 400
    assert not CouponBatch.objects.exists()


def test_store_staff_cannot_issue(client):
    staff = StaffFactory()
    staff.groups.add(Group.objects.get(name=STORE_STAFF))
    client.force_login(staff)
    definition = CouponDefinitionFactory()
    response = client.post(f"{ADMIN}/coupondefinition/{definition.pk}/issue/",
                           {"phones": "13800138000"})
    assert response.status_code == 403
    assert not Coupon.objects.exists()


# --- Coupons, redemptions, batches -------------------------------------------------------------


def test_coupons_are_found_by_code_or_full_phone_with_the_phone_masked(marketer_client):
    member = UserFactory(phone="+8613800138000", name="林小姐")
    mine = coupon_issue(definition=CouponDefinitionFactory(), member=member)
    other = coupon_issue(definition=CouponDefinitionFactory(), member=UserFactory())
    url = f"{ADMIN}/coupon/"
    by_phone = marketer_client.get(url, {"q": "138 0013 8000"})
    assert [c.pk for c in by_phone.context["cl"].result_list] == [mine.pk]
    assert "138****8000" in by_phone.text and "13800138000" not in by_phone.text
    typed = f"{mine.code[:4].lower()}-{mine.code[4:]}"
    by_code = marketer_client.get(url, {"q": typed})
    assert [c.pk for c in by_code.context["cl"].result_list] == [mine.pk]
    assert other.code not in by_code.text
    assert marketer_client.get(url, {"q": "\x00"}).status_code == 200


def test_the_coupon_list_costs_the_same_for_many_rows(marketer_client,
                                                      django_assert_max_num_queries):
    definition = CouponDefinitionFactory()
    for _ in range(5):
        coupon_batch_create(definition=CouponDefinitionFactory(), quantity=6, note="",
                            actor=None)
    for _ in range(20):
        coupon_issue(definition=definition, member=UserFactory())
    with django_assert_max_num_queries(14):
        response = marketer_client.get(f"{ADMIN}/coupon/")
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 50
    batch = CouponBatch.objects.first()
    response = marketer_client.get(f"{ADMIN}/coupon/", {"batch": batch.pk})
    assert {c.batch_id for c in response.context["cl"].result_list} == {batch.pk}
    assert marketer_client.get(f"{ADMIN}/coupon/", {"batch": "x²"}).status_code == 200


def test_coupons_are_voided_through_the_action(marketer_client, marketer):
    unused = coupon_issue(definition=CouponDefinitionFactory(), member=UserFactory())
    used = CouponFactory(status=CouponStatus.REDEEMED, uses=1)
    response = marketer_client.post(f"{ADMIN}/coupon/", {
        "action": "void_selected", "_selected_action": [unused.pk, used.pk]}, follow=True)
    assert response.status_code == 200
    unused.refresh_from_db(), used.refresh_from_db()
    assert unused.status == CouponStatus.VOID
    assert used.status == CouponStatus.REDEEMED
    texts = [str(m) for m in response.context["messages"]]
    assert any("cannot be voided" in t for t in texts)
    assert any("1 coupon voided" in t for t in texts)


def test_a_coupon_page_is_read_only(marketer_client):
    coupon = coupon_issue(definition=CouponDefinitionFactory(), member=UserFactory())
    response = marketer_client.get(f"{ADMIN}/coupon/{coupon.pk}/change/")
    assert response.status_code == 200
    assert 'name="_save"' not in response.text
    assert marketer_client.get(f"{ADMIN}/coupon/add/").status_code == 403


def test_redemptions_and_batches_are_read_only_lists(marketer_client):
    definition = CouponDefinitionFactory()
    coupon = coupon_issue(definition=definition, member=UserFactory(phone="+8613800138000"))
    redemption = Redemption.objects.create(
        coupon=coupon, definition=definition, member=coupon.member, reference="O-2026-1",
        channel="store", discount=200, redeemed_at=timezone.now())
    batch = coupon_batch_create(definition=definition, quantity=2, note="", actor=None)
    response = marketer_client.get(f"{ADMIN}/redemption/")
    assert response.status_code == 200
    assert "O-2026-1" in response.text and "138****8000" in response.text
    assert marketer_client.get(f"{ADMIN}/redemption/{redemption.pk}/change/").status_code == 200
    assert marketer_client.get(f"{ADMIN}/redemption/add/").status_code == 403
    response = marketer_client.get(f"{ADMIN}/couponbatch/")
    assert reverse("admin:members_couponbatch_csv", args=[batch.pk]) in response.text
    assert marketer_client.get(f"{ADMIN}/couponbatch/add/").status_code == 403


def test_the_scope_pickers_search_the_catalog_for_a_marketer(marketer_client):
    CategoryFactory()
    response = marketer_client.get("/en/admin/autocomplete/", {
        "app_label": "members", "model_name": "coupondefinition",
        "field_name": "excluded_categories", "term": "Ring"})
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["戒指"]


def test_the_redemption_list_costs_the_same_for_many_rows(marketer_client,
                                                          django_assert_max_num_queries):
    store = StoreFactory()
    for n in range(30):
        definition = CouponDefinitionFactory()
        coupon = coupon_issue(definition=definition, member=UserFactory())
        Redemption.objects.create(coupon=coupon, definition=definition, member=coupon.member,
                                  reference=f"O-{n}", channel="store", store=store,
                                  discount=200, redeemed_at=timezone.now())
    with django_assert_max_num_queries(14):
        response = marketer_client.get(f"{ADMIN}/redemption/")
    assert len(response.context["cl"].result_list) == 30


def test_an_ended_definition_shows_no_active_tick(marketer_client):
    now = timezone.now()
    running = CouponDefinitionFactory(name="RUNNING", valid_until=now + timedelta(days=3))
    ended = CouponDefinitionFactory(name="ENDED", valid_from=now - timedelta(days=30),
                                    valid_until=now - timedelta(days=1))
    off = CouponDefinitionFactory(name="SWITCHED-OFF", is_active=False)
    page = marketer_client.get(f"{ADMIN}/coupondefinition/").text

    def tick(name):
        row = page[page.index(f">{name}<"):]
        row = row[:row.index("</tr>")]
        return "icon-yes.svg" in row

    assert tick("RUNNING") and not tick("ENDED") and not tick("SWITCHED-OFF")
    assert ended.is_active and running.is_active and not off.is_active
