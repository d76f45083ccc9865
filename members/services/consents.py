"""Marketing consents, per channel: granted and withdrawn with the time, the history kept.

Nothing marketing is sent without an open consent: senders pick recipients through
``members.selectors.members_reachable`` and check ``consent_active`` just before sending.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Channel, Consent, ConsentChannel, User


def consent_active(*, member: User, channel: str) -> bool:
    return Consent.objects.filter(member=member, channel=channel,
                                  withdrawn_at__isnull=True).exists()


@transaction.atomic
def consent_set(*, member: User, channel: str, granted: bool, source: str = Channel.ONLINE,
                store=None, actor: User | None = None,
                now: datetime | None = None) -> Consent | None:
    """Grant or withdraw the member's consent on ``channel`` (email or sms). Idempotent:
    granting an open consent, or withdrawing none, changes nothing. Returns the open
    consent after a grant, the closed one after a withdrawal, None when there was none."""
    if channel not in ConsentChannel.values:
        raise ValueError(f"unknown consent channel {channel!r}")
    now = now or timezone.now()
    current = (Consent.objects.select_for_update()
               .filter(member=member, channel=channel, withdrawn_at__isnull=True).first())
    if granted:
        if current is not None:
            return current
        try:
            with transaction.atomic():
                return Consent.objects.create(member=member, channel=channel, granted_at=now,
                                              source=source, store=store, recorded_by=actor)
        except IntegrityError:  # granted in parallel: the open row is the answer
            return Consent.objects.get(member=member, channel=channel,
                                       withdrawn_at__isnull=True)
    if current is None:
        return None
    current.withdrawn_at = now
    current.save(update_fields=["withdrawn_at"])
    return current
