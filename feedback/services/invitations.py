"""Invitations: written in the transaction of the moment they are about.

``invitation_schedule`` runs inside the hand-over's (the try-on's, the ticket's)
transaction, called by feedback.receivers from the domain signals, so the invitation and
its outbox rows commit or roll back with the moment. What it guarantees, in the database:

- never twice for one moment: ``SurveyInvitation.occasion`` is UNIQUE (a second signal,
  or two at once, finds or loses to the first);
- never more than one survey per member (or guest contact) every
  ``FEEDBACK_MEMBER_CAP_DAYS``: one conditional upsert on the contact's ``ContactCap``
  row (``INSERT ... ON CONFLICT DO UPDATE ... WHERE last <= now - N days RETURNING``).
  Two moments at once for one member serialise on that row; the second sees the first's
  time once it commits and is refused. The cap and the invitation are written in one
  savepoint, so a moment that loses the race for its occasion takes nothing of the cap;
- the messages (an email to the moment's address; a text only to a member who consented
  to texts, members.services.consent_active) are outbox rows due after the survey's
  delay, moved out of the quiet hours (o2o.quiet_hours), rendered in the shopper's
  language when they go. Nobody reachable: no invitation.

Locks: the ContactCap row, last (nothing is locked after it), so the moment's own lock
order is untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from members.models import ConsentChannel, User
from members.services import consent_active
from o2o.models import OutboxMessage
from o2o.outbox import OutboxItem, outbox_enqueue_many
from o2o.quiet_hours import quiet_hours_next
from stores.models import Store

from ..models import ContactCap, SurveyInvitation, SurveyVersion
from ..selectors import survey_version_current

log = logging.getLogger(__name__)

KIND_EMAIL = "feedback.invitation.email"
KIND_SMS = "feedback.invitation.sms"


def about_invitation(invitation_id: int) -> str:
    """What the outbox rows of an invitation are about (o2o.outbox ``about``)."""
    return f"feedback.invitation:{invitation_id}"


@dataclass(frozen=True)
class Moment:
    """What happened, to whom, where and by whom: what an invitation is made from."""

    trigger: str
    occasion: str  # UNIQUE: "order:<id>", "appointment:<id>", "ticket:<id>"
    at: datetime
    channel: str  # online or store
    language: str
    member: User | None = None
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""  # how the store reaches them (texts go only with consent)
    store: Store | None = None
    staff_id: int | None = None
    order_id: int | None = None
    appointment_id: int | None = None
    ticket_id: int | None = None
    reference: str = ""


def contact_key(*, member: User | None, email: str) -> str:
    """Whose frequency cap a moment counts against: the member's, else the guest's email."""
    if member is not None:
        return f"member:{member.pk}"
    return f"email:{email.strip().lower()}"


_CAP_SQL = f"""
    INSERT INTO {ContactCap._meta.db_table} (who, last_invited_at) VALUES (%s, %s)
    ON CONFLICT (who) DO UPDATE SET last_invited_at = EXCLUDED.last_invited_at
    WHERE {ContactCap._meta.db_table}.last_invited_at
          <= EXCLUDED.last_invited_at - make_interval(days => %s)
    RETURNING who"""


def contact_cap_take(*, who: str, at: datetime, days: int | None = None) -> bool:
    """Claim ``who``'s survey for the window ending at ``at``: True when the last one was
    at least ``days`` (default FEEDBACK_MEMBER_CAP_DAYS) before (or there was none), and
    the row now says ``at``; False when capped (nothing changed). Waits for a concurrent
    claim of the same contact to commit or roll back, then judges against what it left."""
    days = settings.FEEDBACK_MEMBER_CAP_DAYS if days is None else days
    if days <= 0:
        return True
    with connection.cursor() as cursor:
        cursor.execute(_CAP_SQL, [who, at, days])
        return cursor.fetchone() is not None


def _sms_phone(member: User | None) -> str:
    if member is None or not member.phone or not member.is_active:
        return ""
    return member.phone if consent_active(member=member, channel=ConsentChannel.SMS) else ""


def invitation_messages(invitation: SurveyInvitation, *, sms_phone: str = "") -> list[OutboxItem]:
    about = about_invitation(invitation.pk)
    payload = {"invitation_id": invitation.pk}
    items = []
    if invitation.contact_email:
        items.append(OutboxItem(channel=OutboxMessage.Channel.EMAIL, kind=KIND_EMAIL,
                                recipient=invitation.contact_email,
                                dedupe_key=f"{about}:email", payload=payload,
                                due_at=invitation.due_at, about=about))
    if sms_phone:
        items.append(OutboxItem(channel=OutboxMessage.Channel.SMS, kind=KIND_SMS,
                                recipient=sms_phone, dedupe_key=f"{about}:sms",
                                payload=payload, due_at=invitation.due_at, about=about))
    return items


def invitation_due(*, version: SurveyVersion, at: datetime) -> datetime:
    """The survey's delay after the moment, moved out of the quiet hours."""
    return quiet_hours_next(at + timedelta(minutes=version.survey.delay_minutes))


def invitation_schedule(*, moment: Moment, notify: bool = True,
                        version: SurveyVersion | None = None,
                        cap_days: int | None = None) -> SurveyInvitation | None:
    """Invite the shopper of ``moment`` to the trigger's survey, in the caller's
    transaction (must be inside one: the moment's). Returns the new invitation, or None
    when there is no published survey for the trigger, nobody to reach, the occasion
    was invited already, or the contact's frequency cap says no. ``notify=False``
    writes no messages (imported or demo moments); ``version`` and ``cap_days`` stand in
    for the current version and the setting when history is written. Never raises for
    these reasons: a hand-over must not fail because of its survey."""
    if not connection.in_atomic_block:
        raise RuntimeError("invitation_schedule runs inside the moment's transaction")
    version = version or survey_version_current(trigger=moment.trigger)
    if version is None:
        return None
    member = moment.member
    email = (moment.contact_email or (member.email if member is not None else "") or "")
    email = email.strip().lower()
    sms_phone = _sms_phone(member)
    if not email and not sms_phone:
        return None
    due = invitation_due(version=version, at=moment.at)
    try:
        with transaction.atomic():  # the cap and the invitation, or neither
            if not contact_cap_take(who=contact_key(member=member, email=email),
                                    at=moment.at, days=cap_days):
                log.info("feedback: %s not invited (frequency cap)", moment.occasion)
                return None
            invitation = SurveyInvitation.objects.create(
                version=version, trigger=moment.trigger, occasion=moment.occasion,
                member=member, contact_name=(moment.contact_name or "")[:100],
                contact_email=email,
                contact_phone=(moment.contact_phone or (member.phone if member else "") or "")[:20],
                language=moment.language,
                channel=moment.channel, store=moment.store, staff_id=moment.staff_id,
                order_id=moment.order_id, appointment_id=moment.appointment_id,
                ticket_id=moment.ticket_id, reference=moment.reference[:40],
                occurred_at=moment.at, due_at=due,
                expires_at=due + timedelta(days=max(1, settings.FEEDBACK_LINK_DAYS)),
                created_at=timezone.now())
    except IntegrityError:
        # The occasion's UNIQUE: a parallel moment for the same occasion won (and its
        # savepoint gave back our cap claim). Anything else is a real error.
        if SurveyInvitation.objects.filter(occasion=moment.occasion).exists():
            return None
        raise
    if notify:
        outbox_enqueue_many(invitation_messages(invitation, sms_phone=sms_phone))
    return invitation
