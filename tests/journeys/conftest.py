import pytest

from journeys.builtins import builtins_ensure
from journeys.models import Journey


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings):
    """The tests that need quiet hours set them; the others run at any hour."""
    settings.QUIET_HOURS = ""


@pytest.fixture
def builtins(db):
    """The built-in journeys, switched on (the welcome and the win-back get a coupon)."""
    from tests.members.coupon_factories import CouponDefinitionFactory

    welcome = CouponDefinitionFactory(name="新会员礼", valid_days=30)
    winback = CouponDefinitionFactory(name="回归礼", valid_days=30)
    builtins_ensure(enable=True, coupons={"welcome": welcome.pk, "winback": winback.pk})
    return {j.key: j for j in Journey.objects.select_related("current_version")}
