"""A member registered at a store's counter: by mobile number, with the name and the
marketing consents the shopper states, attributed to the store and the clerk.

The counter sale (orders) and the admin's "Register a member" screen call
``member_register``. Safe when two clerks register one number at once: the UNIQUE phone
lets one insert win; the other gets that member back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from o2o.errors import ApplicationError
from o2o.phone import phone_normalize
from stores.errors import NotYourStore  # one class: callers catch the stores' 403

from ..models import Channel, ConsentChannel, MemberProfile, User
from ..signals import member_joined
from .consents import consent_set
from .profile import member_profile_ensure, tier_lowest

if TYPE_CHECKING:
    from stores.models import Store


class RegistrationInvalid(ApplicationError):
    """Bad input: ``code`` bad_phone (not a mobile number) or bad_consent (no such channel)."""

    code = "registration_invalid"


def _ensure_works_at(*, actor: User, store: Store) -> None:
    """The stores' own rule (a superuser anywhere, staff at their stores), except that a
    registration always has a clerk to record: no actor is refused too."""
    from stores.services.permissions import ensure_may_act  # stores imports members

    if actor is None:
        raise NotYourStore(_("You can act only on the stores you work at."))
    ensure_may_act(actor=actor, store=store)


def member_register(*, phone: str, name: str = "", consents: dict[str, bool] | None = None,
                    store: Store, actor: User) -> tuple[User, bool]:
    """The member with this mobile number, registered now at ``store`` by ``actor`` if
    there is none. Returns (member, created).

    A new member has no usable password (they sign in with their phone later), a profile
    registered in store at ``store`` by ``actor``, in the lowest tier. ``consents`` maps a
    channel (email, sms) to what the shopper said (True: yes, False: no); channels left
    out are not touched, for new and existing members alike. Each is recorded with
    source "store", the store and the clerk. A name given for an existing member without
    one is kept; an existing name is never replaced.

    Raises NotYourStore (403) when ``actor`` does not work at ``store``,
    RegistrationInvalid code bad_phone / bad_consent (400). Nothing is written then.
    """
    _ensure_works_at(actor=actor, store=store)
    try:
        e164 = phone_normalize((phone or "").strip())
    except ValidationError:
        raise RegistrationInvalid(
            _("Enter a valid mobile number, for example 138 0013 8000."), code="bad_phone",
        ) from None
    stated = dict(consents or {})
    unknown = sorted(set(stated) - set(ConsentChannel.values))
    if unknown:
        raise RegistrationInvalid(_("Unknown consent channel: %(channel)s.") % {
            "channel": ", ".join(unknown)}, code="bad_consent")
    name = (name or "").strip()[:100]

    with transaction.atomic():
        user = User.objects.filter(phone=e164).first()
        created = False
        if user is None:
            try:
                with transaction.atomic():
                    user = User(phone=e164, name=name)
                    user.set_unusable_password()
                    user.save()
                    MemberProfile.objects.create(
                        user=user, registered_channel=Channel.STORE, registered_store=store,
                        registered_by=actor, tier=tier_lowest())
                    created = True
            except IntegrityError:
                # Registered at the same moment by someone else (the UNIQUE phone): theirs.
                user = User.objects.get(phone=e164)
        if not created:
            member_profile_ensure(user=user)
            if name and not user.name:
                User.objects.filter(pk=user.pk, name="").update(name=name)
                user.refresh_from_db(fields=["name"])
        for channel in ConsentChannel.values:
            if channel in stated:
                consent_set(member=user, channel=channel, granted=bool(stated[channel]),
                            source=Channel.STORE, store=store, actor=actor)
        if created:  # after the consents: the welcome reaches them as they just said
            member_joined.send(sender=User, member=user, channel=Channel.STORE,
                               at=timezone.now())
    return user, created
