from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from members.models import CouponStatus, Redemption
from members.services import coupon_batch_create, coupon_issue, coupon_public_create
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.members.factories import UserFactory

from .coupon_factories import CouponDefinitionFactory, CouponFactory

pytestmark = pytest.mark.django_db

# The API speaks the shop's language (zh-hans) whatever the Accept-Language header says:
# descriptions are asserted in Chinese.
CHECK = "/api/v1/coupons/check/"
MINE = "/api/v1/me/coupons/"


@pytest.fixture
def api():
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def signed_in(api, member):
    api.force_authenticate(member)
    return api


def check(api, **body):
    return api.post(CHECK, body, format="json")


# --- /me/coupons/ ------------------------------------------------------------------------------


def test_my_coupons_need_a_sign_in(api):
    assert api.get(MINE).status_code == 403


def test_my_coupons_list_mine_with_their_state(signed_in, member):
    usable = coupon_issue(definition=CouponDefinitionFactory(channel="online"), member=member)
    used = CouponFactory(member=member, status=CouponStatus.REDEEMED, uses=1)
    coupon_issue(definition=CouponDefinitionFactory(), member=UserFactory())
    response = signed_in.get(MINE)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    rows = {row["code"]: row for row in body["results"]}
    assert rows[usable.code]["usable"] is True
    assert rows[usable.code]["state"] == "usable"
    assert rows[usable.code]["status"] == "issued"
    assert rows[usable.code]["channel"] == "online"
    assert rows[usable.code]["description"] == "满 ¥2,000 减 ¥200"
    assert rows[usable.code]["scope"] == "全部商品"
    assert rows[usable.code]["expires_at"] is None
    assert rows[used.code]["usable"] is False and rows[used.code]["state"] == "used"


def test_my_coupons_cost_the_same_queries_for_1_or_15(signed_in, member):
    category = CategoryFactory()

    def add(count):
        for _ in range(count):
            definition = CouponDefinitionFactory()
            definition.categories.set([category])
            coupon_issue(definition=definition, member=member)

    add(1)
    with CaptureQueriesContext(connection) as one:
        signed_in.get(MINE)
    add(14)
    with CaptureQueriesContext(connection) as many:
        assert signed_in.get(MINE).json()["count"] == 15
    assert len(many) == len(one)


# --- /coupons/check/ ------------------------------------------------------------------------------


def test_a_code_that_applies_says_the_discount_on_the_lines(signed_in, member):
    coupon = coupon_issue(definition=CouponDefinitionFactory(), member=member)
    variant = VariantFactory(list_price=Decimal("1299.00"))
    typed = f" {coupon.code[:6].lower()}-{coupon.code[6:]} "
    response = check(signed_in, code=typed, lines=[{"sku": variant.sku, "quantity": 2}])
    assert response.status_code == 200
    assert response.json() == {"valid": True, "code": coupon.code, "discount": "200.00",
                               "eligible": "2598.00",
                               "description": "满 ¥2,000 减 ¥200"}


def test_a_percent_code_is_capped_and_scoped(signed_in, member):
    rings = CategoryFactory()
    bars = CategoryFactory(slug="bars", name="金条", name_en="Gold bars")
    definition = CouponDefinitionFactory(kind="percent", value=Decimal("10"),
                                         min_spend=Decimal("0"), cap=Decimal("500"))
    definition.categories.set([rings])
    coupon = coupon_issue(definition=definition, member=member)
    ring = VariantFactory(product=ProductFactory(category=rings), list_price=Decimal("8000"))
    bar = VariantFactory(product=ProductFactory(category=bars), list_price=Decimal("20000"))
    body = check(signed_in, code=coupon.code,
                 lines=[{"sku": ring.sku, "quantity": 1}, {"sku": bar.sku}]).json()
    assert body["valid"] is True
    assert body["eligible"] == "8000.00" and body["discount"] == "500.00"
    assert body["description"] == "优惠 10%，最高减 ¥500"


def test_without_lines_the_basket_rules_are_not_checked(signed_in, member):
    coupon = coupon_issue(definition=CouponDefinitionFactory(), member=member)
    body = check(signed_in, code=coupon.code).json()
    assert body["valid"] is True and body["discount"] == "0.00"


def invalid(response, reason):
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False, body
    assert body["reason"] == reason
    assert body["detail"]
    return body


def test_each_reason_the_engine_gives(signed_in, member):
    now = timezone.now()
    variant = VariantFactory(list_price=Decimal("1000"))
    lines = [{"sku": variant.sku, "quantity": 1}]
    invalid(check(signed_in, code="NOSUCHCODE"), "coupon_unknown")
    expired = coupon_issue(definition=CouponDefinitionFactory(
        valid_until=now + timedelta(seconds=30)), member=member)
    expired.expires_at = now - timedelta(days=1)
    expired.save(update_fields=["expires_at"])
    invalid(check(signed_in, code=expired.code), "coupon_expired")
    later = coupon_issue(definition=CouponDefinitionFactory(valid_from=now + timedelta(days=2)),
                         member=member)
    invalid(check(signed_in, code=later.code), "coupon_not_yet_valid")
    void = CouponFactory(member=member, status=CouponStatus.VOID)
    invalid(check(signed_in, code=void.code), "coupon_void")
    used = CouponFactory(member=member, status=CouponStatus.REDEEMED, uses=1)
    invalid(check(signed_in, code=used.code), "coupon_used")
    theirs = coupon_issue(definition=CouponDefinitionFactory(), member=UserFactory())
    invalid(check(signed_in, code=theirs.code), "coupon_not_yours")
    in_store = coupon_issue(definition=CouponDefinitionFactory(channel="store"), member=member)
    invalid(check(signed_in, code=in_store.code), "coupon_wrong_channel")
    assert check(signed_in, code=in_store.code, channel="store").json()["valid"] is True
    no_points = coupon_issue(definition=CouponDefinitionFactory(stacks_with_points=False),
                             member=member)
    invalid(check(signed_in, code=no_points.code, with_points=True), "coupon_no_points")
    body = invalid(check(signed_in, code=coupon_issue(
        definition=CouponDefinitionFactory(), member=member).code, lines=lines),
        "coupon_min_spend")
    assert body["missing"] == "1000.00"
    scoped = CouponDefinitionFactory(min_spend=Decimal("0"))
    scoped.categories.set([CategoryFactory(slug="bars", name="金条")])
    invalid(check(signed_in, code=coupon_issue(definition=scoped, member=member).code,
                  lines=lines), "coupon_out_of_scope")


def test_a_used_up_offer_says_limit_reached(signed_in, member):
    definition = CouponDefinitionFactory(total_limit=1)
    public = coupon_public_create(definition=definition, code="GOLD520", actor=None)
    Redemption.objects.create(coupon=public, definition=definition, member=UserFactory(),
                              reference="O-1", channel="online", discount=200,
                              redeemed_at=timezone.now())
    invalid(check(signed_in, code="gold 520"), "coupon_limit_reached")


def test_anonymous_callers_may_check_a_printed_code_but_not_a_members_or_a_public_one(
        api, member):
    batch = coupon_batch_create(definition=CouponDefinitionFactory(), quantity=1, note="",
                                actor=None)
    assert check(api, code=batch.coupons.get().code).json()["valid"] is True
    # A public code's per-member limit needs a member to count against.
    coupon_public_create(definition=CouponDefinitionFactory(), code="GOLD520", actor=None)
    invalid(check(api, code="GOLD520"), "coupon_needs_member")
    mine = coupon_issue(definition=CouponDefinitionFactory(), member=member)
    invalid(check(api, code=mine.code), "coupon_not_yours")


@pytest.mark.parametrize("body, field", [
    ({}, "code"),
    ({"code": "GOLD520", "channel": "phone"}, "channel"),
    ({"code": "GOLD520", "lines": [{"sku": "X", "quantity": 0}]}, "lines"),
    ({"code": "GOLD520", "lines": "X"}, "lines"),
    ({"code": "X" * 65}, "code"),
    ({"code": "GOLD\x00520"}, "code"),
])
def test_malformed_checks_are_400(api, body, field):
    response = api.post(CHECK, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and field in response.json()["fields"]


def test_unknown_pieces_are_a_400_with_the_skus(api):
    coupon_public_create(definition=CouponDefinitionFactory(), code="GOLD520", actor=None)
    response = check(api, code="GOLD520", lines=[{"sku": "NOPE-1"}])
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_sku"
    assert response.json()["skus"] == ["NOPE-1"]


def test_checks_past_the_rate_are_429_per_ip(api, settings):
    settings.COUPON_CHECK_RATE = "5/m"
    for _ in range(5):
        invalid(check(api, code="GUESS"), "coupon_unknown")
    response = check(api, code="GUESS")
    assert response.status_code == 429
    assert response.json()["reason"] == "rate_limited"
    assert response.json()["code"] == "rate_limited"
    assert response["Retry-After"] == "60"
    # Another address is not held back by this one's guesses.
    other = APIClient(REMOTE_ADDR="10.1.2.3")
    assert check(other, code="GUESS").status_code == 200


def test_checks_past_the_rate_are_429_per_member_from_any_address(member, settings):
    settings.COUPON_CHECK_RATE = "3/m"
    for n in range(3):
        client = APIClient(REMOTE_ADDR=f"10.0.0.{n + 1}")
        client.force_authenticate(member)
        assert check(client, code="GUESS").status_code == 200
    client = APIClient(REMOTE_ADDR="10.0.0.99")
    client.force_authenticate(member)
    assert check(client, code="GUESS").status_code == 429


def test_the_schema_documents_the_coupon_api(api):
    response = api.get("/api/schema/", {"format": "json"})
    paths = response.json()["paths"]
    assert "post" in paths["/api/v1/coupons/check/"]
    assert "429" in paths["/api/v1/coupons/check/"]["post"]["responses"]
    assert "get" in paths["/api/v1/me/coupons/"]
