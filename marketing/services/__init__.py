"""Every write to marketing. One module a subject; import from here.

coupons.py: the engine (check, redeem, reverse), online and at the counter.
issuing.py: coupons issued to members, lists, public codes, printed batches, birthdays.
"""

from .coupons import (
    CouponNotApplicable,
    CouponQuote,
    coupon_check,
    coupon_redeem,
    coupon_redemption_reverse,
)
from .issuing import (
    CouponIssueRefused,
    coupon_batch_create,
    coupon_batch_csv,
    coupon_batch_rows,
    coupon_code_clean,
    coupon_code_new,
    coupon_issue,
    coupon_public_create,
    coupon_void,
    coupons_birthday_issue,
    coupons_issue_to_members,
    coupons_issue_to_phones,
)

__all__ = [
    "CouponNotApplicable", "CouponQuote", "coupon_check", "coupon_redeem",
    "coupon_redemption_reverse",
    "CouponIssueRefused", "coupon_batch_create", "coupon_batch_csv", "coupon_batch_rows",
    "coupon_code_clean", "coupon_code_new", "coupon_issue", "coupon_public_create",
    "coupon_void", "coupons_birthday_issue", "coupons_issue_to_members",
    "coupons_issue_to_phones",
]
