"""Every write to members. One module a subject; import from here."""

from .consents import consent_active, consent_set
from .points import (
    points_adjust,
    points_balance,
    points_earn,
    points_ledger_sum,
    points_max_for,
    points_redeem,
    points_return,
    points_reverse,
    points_value,
)
from .profile import member_profile_ensure, tier_lowest
from .tiers import member_tier_refresh, tiers_refresh_all

__all__ = [
    "consent_active", "consent_set",
    "member_profile_ensure", "member_tier_refresh", "points_adjust", "points_balance",
    "points_earn", "points_ledger_sum", "points_max_for", "points_redeem", "points_return",
    "points_reverse", "points_value", "tier_lowest", "tiers_refresh_all",
]
