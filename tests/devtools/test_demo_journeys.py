"""The demo's journeys: the built-ins on with their coupons, today's entries sent, 林小姐's
gold price alert waiting under today's rate; a second run adds nothing."""

import io

import pytest
from django.core.management import call_command

from devtools.demo.load import row_counts
from devtools.demo.people import DEMO_MEMBER_EMAIL
from journeys.models import GoldPriceAlert, Journey
from journeys.selectors import shop_promises
from journeys.services.alerts import rate_now


@pytest.mark.django_db
def test_the_demo_switches_the_journeys_on_and_sets_an_alert():
    out = io.StringIO()
    call_command("load_demo", "--small", stdout=out)
    assert "journeys" in out.getvalue()
    journeys = list(Journey.objects.all())
    assert len(journeys) == 8
    assert all(j.is_running() for j in journeys), [j.key for j in journeys if not j.is_running()]
    promises = shop_promises()
    assert promises.welcome_gift and promises.birthday_gift and promises.anniversary
    alert = GoldPriceAlert.objects.get(member__email=DEMO_MEMBER_EMAIL)
    assert alert.fired_at is None
    assert alert.target_per_gram < rate_now(metal="gold", purity="999")
    counts = row_counts()
    call_command("load_demo", "--small", stdout=io.StringIO())
    assert row_counts() == counts
