"""The coupon part of a member's data: their coupons and redemptions.

Registered in o2o.privacy beside the other apps' sections (members.services.privacy
exports and erases the member's own rows itself). On erasure a coupon of the member that could
still be used is made void before it is unlinked (unlinked, a personal single-use code
would become a code anyone holding it could use); used ones are only unlinked;
redemptions keep their amounts for the accounts, without the member.
"""

from __future__ import annotations

from o2o.privacy import privacy_section_register

from .models import Coupon, CouponStatus, Redemption, User


def coupons_export(member: User) -> list[dict]:
    return [{
        "code": coupon.code, "coupon": coupon.definition.name,
        "description": coupon.definition.description, "status": coupon.status,
        "uses": coupon.uses, "uses_allowed": coupon.max_uses, "expires_at": coupon.expires_at,
        "occasion": coupon.occasion, "issued_at": coupon.issued_at,
    } for coupon in Coupon.objects.filter(member=member).select_related("definition")
        .order_by("issued_at", "id")]


def redemptions_export(member: User) -> list[dict]:
    return [{
        "code": r.coupon.code, "order": r.reference, "channel": r.channel,
        "store": r.store.code if r.store else None, "discount": r.discount,
        "redeemed_at": r.redeemed_at, "reversed_at": r.reversed_at,
    } for r in Redemption.objects.filter(member=member).select_related("coupon", "store")
        .order_by("redeemed_at", "id")]


def coupons_erase(member: User) -> None:
    # Under the coupons' row locks (by pk), as members.services.coupons takes them.
    ids = list(Coupon.objects.select_for_update().filter(member=member).order_by("pk")
               .values_list("pk", flat=True))
    Coupon.objects.filter(pk__in=ids, status=CouponStatus.ISSUED).update(
        status=CouponStatus.VOID)
    Coupon.objects.filter(pk__in=ids).update(member=None)


def redemptions_erase(member: User) -> None:
    Redemption.objects.filter(member=member).update(member=None)


privacy_section_register("coupons", export=coupons_export, erase=coupons_erase)
privacy_section_register("redemptions", export=redemptions_export, erase=redemptions_erase)
