"""What members do with a reach: opened (the email's pixel), clicked (a tracked link),
unsubscribed (the email's link) or replied the opt-out words to a text. Each is one
conditional UPDATE or one consent service call: safe to repeat."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.models import ConsentChannel, User
from members.services import consent_set
from o2o.phone import phone_normalize

from ..models import Touch

# What a member may reply to a text to stop them (upper-cased, spaces removed).
SMS_STOP_WORDS = frozenset({"T", "TD", "N", "STOP", "UNSUBSCRIBE", "退订", "退", "取消"})


def touch_opened(*, touch_id: int, now: datetime | None = None) -> bool:
    """The first open is kept; True when this call recorded it."""
    now = now or timezone.now()
    return Touch.objects.filter(pk=touch_id, opened_at__isnull=True).update(opened_at=now) == 1


def touch_clicked(*, touch_id: int, now: datetime | None = None) -> bool:
    """The first click is kept (a click also counts as an open, images off or not)."""
    now = now or timezone.now()
    return (Touch.objects.filter(pk=touch_id, clicked_at__isnull=True)
            .update(clicked_at=now, opened_at=Coalesce("opened_at", now)) == 1)


def touch_unsubscribe(*, touch_id: int, channel: str, now: datetime | None = None) -> User | None:
    """Withdraw the consent of the touch's member on ``channel`` (the history keeps the
    row); returns the member, None when the touch or channel is unknown."""
    if channel not in ConsentChannel.values:
        return None
    touch = Touch.objects.select_related("member").filter(pk=touch_id).first()
    if touch is None:
        return None
    consent_set(member=touch.member, channel=channel, granted=False, now=now)
    return touch.member


def sms_reply_receive(*, phone: str, text: str, now: datetime | None = None) -> bool:
    """A member's reply to a text: the opt-out words withdraw their sms consent. True when
    the reply was an opt-out of a known member."""
    word = "".join((text or "").split()).upper()
    if word not in SMS_STOP_WORDS:
        return False
    try:
        normalized = phone_normalize(phone)
    except ValidationError:  # a number we cannot read is nobody we know
        return False
    member = User.objects.filter(phone=normalized).first()
    if member is None:
        return False
    with transaction.atomic():
        consent_set(member=member, channel=ConsentChannel.SMS, granted=False, now=now)
    return True
