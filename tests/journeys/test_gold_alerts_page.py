"""The member's gold price alert page: set, move, remove; bad input is a sentence and a
400, never a 500 or half-written data."""

from decimal import Decimal

import pytest

from catalog.services import metal_rate_create
from journeys.models import GoldPriceAlert

pytestmark = pytest.mark.django_db
URL = "/account/gold-alerts/"


@pytest.fixture
def rate(db):
    return metal_rate_create(metal="gold", purity="999", rate_per_gram=Decimal("620.00"))


def test_a_member_sets_moves_and_removes_an_alert(signed_in, member, rate):
    page = signed_in.get(URL)
    assert page.status_code == 200 and "620" in page.content.decode()
    assert signed_in.post(URL, {"metal": "gold:999", "target": "600"}).status_code == 302
    assert signed_in.post(URL, {"metal": "gold:999", "target": "590.5"}).status_code == 302
    alert = GoldPriceAlert.objects.get(member=member)
    assert alert.target_per_gram == Decimal("590.50")
    assert "590.50" in signed_in.get(URL).content.decode()
    assert signed_in.post(URL, {"remove": str(alert.pk)}).status_code == 302
    assert not GoldPriceAlert.objects.exists()


@pytest.mark.parametrize("data", [
    {"metal": "gold:999", "target": "abc"},
    {"metal": "gold:999", "target": "-5"},
    {"metal": "gold:999", "target": "NaN"},
    {"metal": "gold:999", "target": "650"},  # the rate is already under it
    {"metal": "gold:18K", "target": "300"},  # no rate for that purity
    {"metal": "copper:1", "target": "3"},
    {"metal": "", "target": ""},
])
def test_bad_input_is_a_400_with_words(signed_in, rate, data):
    response = signed_in.post(URL, data)
    assert response.status_code == 400
    assert not GoldPriceAlert.objects.exists()


def test_someone_elses_alert_cannot_be_removed(signed_in, rate):
    from tests.members.factories import UserFactory

    other = GoldPriceAlert.objects.create(member=UserFactory(), metal="gold", purity="999",
                                          target_per_gram=Decimal("500"))
    signed_in.post(URL, {"remove": str(other.pk)})
    signed_in.post(URL, {"remove": "x"})
    assert GoldPriceAlert.objects.filter(pk=other.pk).exists()


def test_the_page_needs_a_sign_in(client):
    assert client.get(URL).status_code == 302
