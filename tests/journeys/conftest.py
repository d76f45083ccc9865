import importlib.util

import pytest

from journeys.builtins import builtins_ensure
from journeys.models import Journey

REAL_REACH = importlib.util.find_spec("marketing.services.reach") is not None \
    if importlib.util.find_spec("marketing.services") is not None else False


@pytest.fixture(autouse=True)
def reach(monkeypatch, settings):
    """marketing's reach_member, or its stand-in until issue 15 is merged."""
    settings.QUIET_HOURS = ""
    if not REAL_REACH:
        from . import fake_reach

        fake_reach.install(monkeypatch)


@pytest.fixture
def builtins(db):
    """The built-in journeys, switched on (the welcome and the win-back get a coupon)."""
    from tests.members.coupon_factories import CouponDefinitionFactory

    welcome = CouponDefinitionFactory(name="新会员礼", valid_days=30)
    winback = CouponDefinitionFactory(name="回归礼", valid_days=30)
    builtins_ensure(enable=True, coupons={"welcome": welcome.pk, "winback": winback.pk})
    return {j.key: j for j in Journey.objects.select_related("current_version")}
