"""Privacy: a member's data as one JSON document, and the erasure of the member.

Apps below members (catalog, stores) must not import it, so the registry of *sections*
is the kernel's (o2o.privacy): each app that keeps a member's data registers one from
its own ``privacy.py`` (imported by its AppConfig.ready)::

    privacy_section_register("orders", export=..., erase=..., blocks=..., prepare=...)

``member_data_export`` is the member's own rows (user, profile, tier, consents with their
history, address book, points ledger) plus every section's export, JSON-ready.

``member_erase`` is one transaction:

1. lock the User row (a second erase of the same member waits, then finds no one:
   MemberGone, 404);
2. refuse staff and superuser accounts, and whatever a section's ``blocks`` names
   (EraseBlocked, code ``erase_blocked``, 409, with the reason);
3. every section's ``prepare`` winds up what is in flight (orders awaiting payment are
   cancelled through orders.services.order_cancel, booked try-ons through
   stores.services.appointment_cancel), before any section erases, so no wind-up
   (a coupon given back, points returned) lands on rows already anonymised;
4. every section's ``erase`` deletes or anonymises its rows;
5. members' own rows go with the User row.

What is erased or anonymised (keep this list true when a model gains personal data):

members    User deleted; with it MemberProfile, Consent (and their history), Address,
           PointsEntry (the ledger trigger refuses UPDATE, not DELETE), StaffAssignment,
           allauth's EmailAddress. Admin LogEntry rows about the member or their profile
           keep the action but the object's name becomes "#<id>".
catalog    WishlistItem deleted.
stores     Appointment kept for the store's figures, but member NULL, contact name, phone
           and email, the shopper's note and the reasons typed for it blanked;
           its outbox messages' recipient and payload blanked; "reason" dropped from its events' data; an
           AppointmentEvent "member_erased". Booked try-ons are cancelled first.
orders     Order kept for the accounts (amounts, lines, payments, events) with the person
           removed: member NULL, contact name, phone, email and delivery address blanked,
           the address of the emails sent ("to" in OrderEvent data) and the recipient and
           payload of its outbox messages blanked, an OrderEvent
           "member_erased". Orders awaiting payment are cancelled first.
           ServiceTicket (closed ones; open ones block): member NULL, contact name and
           phone and the shopper's description blanked. Cart and its lines deleted.
marketing  Coupons of the member still usable: void and unlinked; used ones unlinked.
           Redemption: member NULL (amounts kept for the accounts).
analytics  Event: user NULL and session key blanked.

Blocks: staff and superuser accounts (an administrator closes those); paid orders not yet
handed over or delivered; service tickets still open; a try-on in progress (checked in).
Rows that only name the member as the one who acted (``actor``, ``staff``,
``recorded_by``...) are set to NULL by their foreign keys.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from o2o.errors import ApplicationError, ConflictError, NotFoundError
from o2o.outbox import outbox_forget
from o2o.privacy import privacy_sections

from ..models import Address, Consent, MemberProfile, PointsEntry, User

logger = logging.getLogger(__name__)

EXPORT_FORMAT = 1


class EraseBlocked(ConflictError):
    """The account cannot be deleted now; the message says why and what to do."""

    code = "erase_blocked"


class MemberGone(NotFoundError):
    """The member no longer exists (already erased)."""

    code = "member_gone"


class EraseNotAllowed(ApplicationError):
    """Someone other than the member (or a superuser) asked to erase them."""

    code = "erase_not_allowed"
    status = 403


# --- Export ----------------------------------------------------------------------------


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _member_own(member: User) -> dict:
    profile = (MemberProfile.objects.select_related("tier", "home_store", "registered_store")
               .prefetch_related("preferred_categories").filter(user=member).first())
    data: dict[str, Any] = {
        "user": {
            "id": member.pk, "name": member.name, "email": member.email,
            "mobile": member.phone, "mobile_verified": member.phone_verified,
            "language": member.language, "joined": member.date_joined,
            "last_login": member.last_login, "has_password": member.has_usable_password(),
        },
        "profile": None,
        "consents": [
            {"channel": c.channel, "granted_at": c.granted_at, "withdrawn_at": c.withdrawn_at,
             "given": c.source, "store": c.store.code if c.store else None}
            for c in Consent.objects.filter(member=member).select_related("store")
            .order_by("granted_at", "id")
        ],
        "addresses": [
            {**address.as_dict(), "is_default": address.is_default,
             "created_at": address.created_at}
            for address in Address.objects.filter(member=member).order_by("created_at", "id")
        ],
        "points": {
            "balance": profile.points_balance if profile else 0,
            "ledger": list(PointsEntry.objects.filter(member=member).order_by("created_at", "id")
                           .values("created_at", "kind", "points", "spend", "reference",
                                   "channel", "note")),
        },
    }
    if profile is not None:
        data["profile"] = {
            "gender": profile.gender, "birthday": _day(profile.birthday),
            "anniversary": _day(profile.anniversary), "ring_size": profile.ring_size,
            "home_store": profile.home_store.code if profile.home_store else None,
            "preferred_categories": sorted(c.name for c in profile.preferred_categories.all()),
            "registered": profile.registered_channel,
            "registered_store": (profile.registered_store.code if profile.registered_store
                                 else None),
            "registered_at": profile.created_at,
            "tier": ({"code": profile.tier.code, "name": profile.tier.name,
                      "name_en": profile.tier.name_en} if profile.tier else None),
            "spend_12m": profile.spend_12m,
        }
    return data


def member_data_export(*, member: User) -> dict:
    """Everything the shop keeps about ``member``, as JSON-serialisable data (strings,
    numbers, lists, dicts: dates ISO 8601, amounts as decimal strings). A fixed number of
    queries, whatever the member's history."""
    data: dict[str, Any] = {"format": EXPORT_FORMAT, "generated_at": timezone.now()}
    data.update(_member_own(member))
    for section in privacy_sections():
        data[section.name] = section.export(member)
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


# --- Erasure ---------------------------------------------------------------------------


def _staff_reason(member: User) -> str | None:
    if member.is_staff or member.is_superuser:
        return _("This is a staff account. An administrator closes staff accounts.")
    if PointsEntry.objects.filter(actor=member).exclude(member=member).exists():
        return _("This account changed other members' points. An administrator closes it.")
    return None


def member_erase_blocker(*, member: User) -> str | None:
    """Why ``member`` cannot be deleted now (the first reason), or None."""
    reason = _staff_reason(member)
    if reason:
        return reason
    for section in privacy_sections():
        if section.blocks is not None:
            reason = section.blocks(member)
            if reason:
                return str(reason)
    return None


def _log_entries_anonymise(member: User) -> None:
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    types = ContentType.objects.get_for_models(User, MemberProfile)
    LogEntry.objects.filter(content_type=types[User], object_id=str(member.pk)).update(
        object_repr=f"#{member.pk}")
    profile_id = MemberProfile.objects.filter(user=member).values_list("pk", flat=True).first()
    if profile_id is not None:
        LogEntry.objects.filter(content_type=types[MemberProfile],
                                object_id=str(profile_id)).update(object_repr=f"#{profile_id}")


@transaction.atomic
def member_erase(*, member: User, actor: User) -> None:
    """Delete ``member``'s account and personal data (see the module docstring).

    ``actor`` is the member themself or a superuser. Raises EraseNotAllowed (403) for
    anyone else, MemberGone (404) when the member no longer exists, EraseBlocked (409)
    with the reason while something keeps the account (nothing is changed then), and
    whatever a section's wind-up refuses (e.g. an order paid meanwhile). Locks the User
    row first, then what the sections lock (orders, appointments, coupons by pk).
    """
    if actor is None or not (actor.pk == member.pk or actor.is_superuser):
        raise EraseNotAllowed(_("Only the member or an administrator can delete an account."))
    locked = User.objects.select_for_update().filter(pk=member.pk).first()
    if locked is None:
        raise MemberGone(_("This account no longer exists."))
    reason = member_erase_blocker(member=locked)
    if reason:
        raise EraseBlocked(reason)
    sections = privacy_sections()
    for section in sections:
        if section.prepare is not None:
            section.prepare(locked)
    for section in sections:
        section.erase(locked)
    _log_entries_anonymise(locked)
    # Whatever the outbox holds for their address or number (allauth's emails, notices).
    outbox_forget(recipients=[locked.email or "", locked.phone or ""])
    # The ledger first: its rows go by DELETE (allowed) before the foreign keys that set
    # NULL would try an UPDATE (refused by the append-only trigger).
    PointsEntry.objects.filter(member=locked).delete()
    member_id = locked.pk
    locked.delete()
    logger.info("member #%s erased (by %s)", member_id,
                "the member" if actor.pk == member_id else f"user #{actor.pk}")


def privacy_export_filename(*, at: datetime | None = None) -> str:
    return f"my-data-{(at or timezone.now()).strftime('%Y%m%d')}.json"
