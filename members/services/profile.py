from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from o2o.errors import ApplicationError

from ..models import Channel, Gender, MemberProfile, Tier, User
from .consents import consent_set


def tier_lowest() -> Tier | None:
    return Tier.objects.order_by("min_spend").first()


@transaction.atomic
def member_profile_ensure(*, user: User, channel: str = Channel.ONLINE) -> MemberProfile:
    """The member's profile, created on first need (idempotent), in the lowest tier."""
    profile = MemberProfile.objects.filter(user=user).first()
    if profile is None:
        profile, _ = MemberProfile.objects.get_or_create(
            user=user, defaults={"registered_channel": channel, "tier": tier_lowest()})
    return profile


# --- The member's own profile (account page and /api/v1/me/) ------------------------------

# Hong Kong ring sizes (港码), the ones our counters measure and the catalogue uses.
RING_SIZES: tuple[str, ...] = tuple(str(size) for size in range(4, 31))
PROFILE_FIELDS = frozenset({"name", "gender", "birthday", "anniversary", "ring_size",
                            "home_store", "preferred_categories"})
EARLIEST_DATE = date(1900, 1, 1)


class ProfileInvalid(ApplicationError):
    """Bad profile input; ``extra["fields"]`` maps each field to its problems."""

    code = "profile_invalid"


def _profile_errors(profile: MemberProfile, fields: dict[str, Any],
                    today: date) -> dict[str, list[str]]:
    from catalog.models import Category
    from stores.models import Store, StoreKind

    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(str(message))

    if "name" in fields and len(fields["name"] or "") > 100:
        refuse("name", _("A name is at most 100 characters."))
    if "gender" in fields and (fields["gender"] or "") not in Gender.values:
        refuse("gender", _("Choose one of the options."))
    for name in ("birthday", "anniversary"):
        day = fields.get(name)
        if day is None:
            continue
        if not isinstance(day, date):
            refuse(name, _("Enter a valid date."))
        elif day > today:
            refuse(name, _("This date is in the future."))
        elif day < EARLIEST_DATE:
            refuse(name, _("Enter a date after 1900."))
    birthday = fields.get("birthday", profile.birthday)
    anniversary = fields.get("anniversary", profile.anniversary)
    if (birthday and anniversary and "anniversary" not in errors and "birthday" not in errors
            and anniversary < birthday):
        refuse("anniversary", _("Your wedding anniversary cannot be before your birthday."))
    if "ring_size" in fields:
        size = fields["ring_size"] or ""
        if size and size not in RING_SIZES and size != profile.ring_size:
            refuse("ring_size", _("Choose a ring size from the list."))
    if fields.get("home_store") is not None:
        store = fields["home_store"]
        if not (isinstance(store, Store) and store.kind == StoreKind.STORE and store.is_active
                or getattr(store, "pk", None) == profile.home_store_id):
            refuse("home_store", _("Choose one of our open stores."))
    if "preferred_categories" in fields:
        categories = list(fields["preferred_categories"] or [])
        if any(not isinstance(c, Category) or not c.is_active or c.parent_id is not None
               for c in categories):
            refuse("preferred_categories", _("Choose among the categories shown."))
    return errors


@transaction.atomic
def member_profile_update(*, member: User, **fields: Any) -> MemberProfile:
    """Change the member's own details: any of PROFILE_FIELDS (``name`` lives on the
    user; ``home_store`` a Store or None; ``preferred_categories`` Category objects).

    Fields not given are left alone (the API's PATCH). Every rule is checked before
    anything is written: ProfileInvalid (400) names each field's problem and nothing
    changes. Dates: not in the future, not before 1900, the anniversary not before the
    birthday. The home store: an open shop. Categories: active top-level ones."""
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise TypeError(f"member_profile_update() got unknown fields {sorted(unknown)}")
    profile = member_profile_ensure(user=member)
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
    errors = _profile_errors(profile, fields, timezone.localdate())
    if errors:
        raise ProfileInvalid(_("Please check the details marked."), extra={"fields": errors})
    if "name" in fields and fields["name"] != member.name:
        member.name = fields["name"]
        member.save(update_fields=["name"])
    changed = []
    for name in ("gender", "birthday", "anniversary", "ring_size", "home_store"):
        if name in fields:
            value = fields[name]
            if name in ("gender", "ring_size"):
                value = value or ""
            setattr(profile, name, value)
            changed.append(name)
    if changed:
        profile.save(update_fields=changed)
    if "preferred_categories" in fields:
        profile.preferred_categories.set(list(fields["preferred_categories"] or []))
    return profile


@transaction.atomic
def member_account_update(*, member: User, consents: dict[str, bool] | None = None,
                          **fields: Any) -> MemberProfile | None:
    """The member's details (``fields``: member_profile_update's) and their own marketing
    consents (channel -> granted, recorded as given online by the member) in one
    transaction: all of it, or nothing (ProfileInvalid leaves both as they were). Returns
    the profile when ``fields`` were given."""
    profile = member_profile_update(member=member, **fields) if fields else None
    for channel, granted in (consents or {}).items():
        consent_set(member=member, channel=channel, granted=granted, actor=member)
    return profile


@dataclass(frozen=True)
class Standing:
    """Where the member stands: profile (tier and home store loaded), the next tier up
    and the spend over 12 months that still separates them from it."""

    profile: MemberProfile
    next_tier: Tier | None
    spend_to_next: Decimal | None


def member_standing(*, member: User) -> Standing:
    """A read for the account page and /api/v1/me/: two queries (three the first time,
    when the profile is created)."""
    profile = (MemberProfile.objects.select_related("tier", "home_store")
               .filter(user=member).first())
    if profile is None:
        member_profile_ensure(user=member)
        profile = MemberProfile.objects.select_related("tier", "home_store").get(user=member)
    floor = profile.spend_12m
    if profile.tier is not None:
        floor = max(floor, profile.tier.min_spend)
    next_tier = Tier.objects.filter(min_spend__gt=floor).order_by("min_spend").first()
    to_next = None
    if next_tier is not None:
        to_next = max(next_tier.min_spend - profile.spend_12m, Decimal("0.00"))
    return Standing(profile=profile, next_tier=next_tier, spend_to_next=to_next)
