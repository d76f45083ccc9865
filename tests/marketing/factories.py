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
