"""Every write to members. One module a subject; import from here.

coupons.py: the coupon engine (check, redeem, reverse), online and at the counter; the
only door orders uses for coupons. coupon_issuing.py: coupons issued to members, lists,
public codes, printed batches, birthdays (marketing's screens and campaigns call it).
"""

from .addresses import (
    AddressInvalid,
    address_clean,
    address_delete,
    address_make_default,
    address_save,
)
from .consents import consent_active, consent_set
from .coupon_issuing import (
    CouponIssueRefused,
    IssuedCoupon,
    coupon_batch_create,
    coupon_batch_csv,
    coupon_batch_rows,
    coupon_code_clean,
    coupon_code_new,
    coupon_issue,
    coupon_issue_ensure,
    coupon_public_create,
    coupon_void,
    coupons_issue_for_occasion,
    coupons_issue_to_members,
    coupons_issue_to_phones,
)
from .coupons import (
    CouponNotApplicable,
    CouponQuote,
    coupon_check,
    coupon_redeem,
    coupon_redemption_reverse,
)
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
from .privacy import member_data_export, member_erase
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
    "member_data_export", "member_erase", "member_register",
    "CouponNotApplicable", "CouponQuote", "coupon_check", "coupon_redeem",
    "coupon_redemption_reverse",
    "CouponIssueRefused", "IssuedCoupon", "coupon_batch_create", "coupon_batch_csv", "coupon_batch_rows",
    "coupon_code_clean", "coupon_code_new", "coupon_issue", "coupon_issue_ensure",
    "coupon_public_create", "coupon_void",
    "coupons_issue_for_occasion", "coupons_issue_to_members",
    "coupons_issue_to_phones",
    "consent_active", "consent_set",
    "member_profile_ensure", "member_tier_refresh", "points_adjust", "points_balance",
    "points_balance_rebuild",
    "points_earn", "points_ledger_sum", "points_max_for", "points_redeem", "points_return",
    "points_reverse", "points_value", "tier_lowest", "tiers_refresh_all",
]
