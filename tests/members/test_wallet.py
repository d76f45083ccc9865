from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from members.models import CouponStatus
from members.selectors import coupon_describe, coupon_scope_summary
from members.services import coupon_issue
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.members.factories import UserFactory

from .coupon_factories import CouponDefinitionFactory, CouponFactory

pytestmark = pytest.mark.django_db

WALLET = "/en/account/coupons/"


@pytest.mark.parametrize("fields, words", [
    ({"kind": "threshold", "value": "200", "min_spend": "2000"}, "¥200 off orders over ¥2,000"),
    ({"kind": "amount", "value": "50", "min_spend": "0"}, "¥50 off"),
    ({"kind": "percent", "value": "10", "min_spend": "0", "cap": "500"}, "10% off, up to ¥500"),
    ({"kind": "percent", "value": "8.5", "min_spend": "0"}, "8.5% off"),
    ({"kind": "percent", "value": "10", "min_spend": "3000", "cap": "500"},
     "10% off orders over ¥3,000, up to ¥500"),
    ({"kind": "percent", "value": "12", "min_spend": "1000"}, "12% off orders over ¥1,000"),
])
def test_coupon_describe_says_the_value_in_words(fields, words):
    definition = CouponDefinitionFactory.build(**{k: Decimal(v) if k != "kind" else v
                                                  for k, v in fields.items()})
    with translation.override("en"):
        assert coupon_describe(definition) == words


def test_scope_summary_names_what_counts_and_what_does_not():
    rings = CategoryFactory()
    bars = CategoryFactory(slug="bars", name="金条", name_en="Gold bars")
    everything = CouponDefinitionFactory()
    scoped = CouponDefinitionFactory()
    scoped.categories.set([rings])
    scoped.excluded_categories.set([bars])
    except_bars = CouponDefinitionFactory()
    except_bars.excluded_categories.set([bars])
    with translation.override("en"):
        assert coupon_scope_summary(everything) == "All pieces"
        assert coupon_scope_summary(scoped) == "On Rings, except Gold bars"
        assert coupon_scope_summary(except_bars) == "All pieces except Gold bars"


def test_the_wallet_needs_a_sign_in(client):
    response = client.get(WALLET)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_wallet_groups_coupons_and_shows_codes_to_use(client):
    member = UserFactory()
    now = timezone.now()
    usable = coupon_issue(definition=CouponDefinitionFactory(channel="store"), member=member)
    later = coupon_issue(definition=CouponDefinitionFactory(
        valid_from=now + timedelta(days=3)), member=member)
    used = CouponFactory(member=member, status=CouponStatus.REDEEMED, uses=1)
    expired = CouponFactory(member=member, expires_at=now - timedelta(days=1))
    void = CouponFactory(member=member, status=CouponStatus.VOID)
    withdrawn = CouponFactory(member=member, definition=CouponDefinitionFactory(
        is_active=False))
    someone_elses = coupon_issue(definition=CouponDefinitionFactory(), member=UserFactory())
    client.force_login(member)
    response = client.get(WALLET)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    wallet = response.context["wallet"]
    assert [e.code for e in wallet.usable] == [usable.code, later.code]
    assert [e.state for e in wallet.usable] == ["usable", "not_yet_valid"]
    assert [e.code for e in wallet.used] == [used.code]
    assert {e.code for e in wallet.ended} == {expired.code, void.code, withdrawn.code}
    page = response.text
    assert someone_elses.code not in page
    assert "¥200 off orders over ¥2,000" in page
    assert "In store only" in page and "All pieces" in page
    # A QR for each code to use, none for the others.
    assert page.count('<span class="mk-coupon__qr"') == 2
    assert page.count('<span class="mk-coupon__qr" role="img" aria-label="QR code of '
                      f'{usable.code}"><svg') == 1
    assert f'class="mk-coupon__code" aria-label="Coupon code">{usable.code}<' in page


def test_the_wallet_costs_the_same_queries_for_1_or_20_coupons(client):
    member = UserFactory()
    client.force_login(member)
    category = CategoryFactory()
    product = ProductFactory(category=category)

    def add(count):
        for _ in range(count):
            definition = CouponDefinitionFactory()
            definition.categories.set([category])
            definition.excluded_products.set([product])
            coupon_issue(definition=definition, member=member)

    add(1)
    client.get(WALLET)  # warm: session, translations
    with CaptureQueriesContext(connection) as one:
        assert client.get(WALLET).status_code == 200
    add(19)
    with CaptureQueriesContext(connection) as twenty:
        response = client.get(WALLET)
    assert len(response.context["wallet"].usable) == 20
    assert len(twenty) == len(one)
    assert len(one) <= 10
