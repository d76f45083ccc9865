from datetime import datetime
from zoneinfo import ZoneInfo

from members.models import Consent
from tests.members.factories import UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI)  # outside the default quiet hours
NIGHT = datetime(2026, 12, 7, 22, 30, tzinfo=SHANGHAI)


def consented(*channels: str, **fields):
    """A member with open consents on ``channels`` (email, sms)."""
    person = UserFactory(**fields)
    for channel in channels:
        Consent.objects.create(member=person, channel=channel)
    return person


def profile(person=None, **fields):
    """A member with a profile (``fields``: tier, gender, birthday, home_store...)."""
    from members.models import MemberProfile

    person = person or UserFactory()
    MemberProfile.objects.create(user=person, **fields)
    return person


_orders = iter(range(1, 10**9))


def paid_order(member, *, channel="online", store=None, total="1000.00", variant=None,
               at=None, status="completed"):
    """A paid order row (written directly: segments and attribution only read them)."""
    from decimal import Decimal

    from django.utils import timezone

    from orders.models import Order, OrderLine

    amount = Decimal(total)
    order = Order.objects.create(
        number=f"T{next(_orders):09d}", channel=channel,
        fulfilment="counter" if channel == "store" else "delivery", status=status,
        member=member, store=store, subtotal=amount, total=amount,
        placed_at=at or timezone.now(), paid_at=at or timezone.now())
    if variant is not None:
        OrderLine.objects.create(order=order, variant=variant, product_name="p", sku=variant.sku,
                                 quantity=1, unit_price=amount, line_total=amount)
    return order
