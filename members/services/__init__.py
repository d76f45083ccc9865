"""Every write to members. One module a subject; import from here."""

from .addresses import (
    AddressInvalid,
    address_clean,
    address_delete,
    address_make_default,
    address_save,
)
from .consents import consent_active, consent_set
from .points import (
    points_adjust,
    points_balance,
    points_balance_rebuild,
    points_earn,
    points_ledger_sum,
    points_max_for,
    points_redeem,
    points_return,
    points_reverse,
    points_value,
)
from .privacy import member_data_export, member_erase, privacy_section_register
from .profile import (
    ProfileInvalid,
    Standing,
    member_account_update,
    member_profile_ensure,
    member_profile_update,
    member_standing,
    tier_lowest,
)
from .register import member_register
from .tiers import member_tier_refresh, tiers_refresh_all

__all__ = [
    "AddressInvalid", "ProfileInvalid", "Standing", "address_clean", "address_delete",
    "address_make_default", "address_save", "member_account_update", "member_profile_update",
    "member_standing",
    "member_data_export", "member_erase", "member_register", "privacy_section_register",
    "consent_active", "consent_set",
    "member_profile_ensure", "member_tier_refresh", "points_adjust", "points_balance",
    "points_balance_rebuild",
    "points_earn", "points_ledger_sum", "points_max_for", "points_redeem", "points_return",
    "points_reverse", "points_value", "tier_lowest", "tiers_refresh_all",
]
