"""Shared reads of members: people by phone, the shops and categories a profile offers,
the audience a campaign may reach; and of coupons: what a coupon is worth in words, where
it works, the member's wallet. The wallet page, the API, the admin, and the checkout and
counter pages use these.

Everything here reads only what the caller's queryset loaded: ``coupons_of_member`` and
``coupon_definitions_for_display`` prefetch the scope, so describing any number of coupons
costs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Category, Collection, Product
from o2o.money import money
from stores.models import Store

from .models import (
    Coupon,
    CouponChannel,
    CouponDefinition,
    CouponStatus,
    DiscountKind,
    Redemption,
    User,
)


def users_with_phone(*, phone: str) -> QuerySet[User]:
    return User.objects.filter(phone=phone)


def open_shops() -> QuerySet:
    """Open shops (no warehouses), by city: a member's home store, a counter registration."""
    return Store.objects.shops().order_by("city", "code")


def profile_categories() -> QuerySet:
    """The categories a member may prefer: active top-level ones."""
    return Category.objects.filter(parent__isnull=True, is_active=True).order_by("position", "pk")


def members_reachable(*, channel: str) -> QuerySet[User]:
    """Active members with an open marketing consent on ``channel``: the only people a
    campaign or journey may message there."""
    return User.objects.filter(is_active=True, consents__channel=channel,
                               consents__withdrawn_at__isnull=True).distinct()


# --- Coupons ---------------------------------------------------------------------------
# Scope names listed before "and N more".
SCOPE_NAMES_SHOWN = 6

# What a coupon is for its holder now.
USABLE = "usable"
NOT_YET_VALID = "not_yet_valid"
USED = "used"
EXPIRED = "expired"
VOID = "void"


def _number(value: Decimal) -> str:
    """``Decimal("10.00")`` -> ``10``; ``Decimal("8.50")`` -> ``8.5``."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def coupon_describe(definition: CouponDefinition) -> str:
    """The coupon's value in words, in the active language: "¥200 off orders over ¥2,000",
    "10% off, up to ¥500", "10% off orders over ¥2,000, up to ¥500", "¥50 off"."""
    spend = definition.min_spend or Decimal("0")
    if definition.kind == DiscountKind.PERCENT:
        percent = _number(definition.value)
        cap = definition.cap
        if spend > 0 and cap:
            return _("%(percent)s%% off orders over %(spend)s, up to %(cap)s") % {
                "percent": percent, "spend": money(spend), "cap": money(cap)}
        if spend > 0:
            return _("%(percent)s%% off orders over %(spend)s") % {
                "percent": percent, "spend": money(spend)}
        if cap:
            return _("%(percent)s%% off, up to %(cap)s") % {"percent": percent, "cap": money(cap)}
        return _("%(percent)s%% off") % {"percent": percent}
    # Amount off and spend threshold (满减) read the same way.
    amount = definition.value
    if definition.cap and definition.cap < amount:
        amount = definition.cap
    if spend > 0:
        return _("%(amount)s off orders over %(spend)s") % {
            "amount": money(amount), "spend": money(spend)}
    return _("%(amount)s off") % {"amount": money(amount)}


def coupon_channel_label(definition: CouponDefinition) -> str:
    return {
        CouponChannel.ONLINE: _("Online only"),
        CouponChannel.STORE: _("In store only"),
        CouponChannel.BOTH: _("Online and in store"),
    }.get(definition.channel, definition.get_channel_display())


def _names(items: list) -> str:
    names = [item.title for item in items]
    if len(names) > SCOPE_NAMES_SHOWN:
        return _("%(names)s and %(count)s more") % {
            "names": ", ".join(names[:SCOPE_NAMES_SHOWN]),
            "count": len(names) - SCOPE_NAMES_SHOWN}
    return ", ".join(names)


def coupon_scope_summary(definition: CouponDefinition) -> str:
    """Which pieces count: "All pieces", "On Rings, Necklaces", "All pieces except Gold
    bars"... Reads the scope relations through ``.all()``: prefetch them (see
    ``DEFINITION_PREFETCH``) when describing many."""
    included = (list(definition.categories.all()) + list(definition.collections.all())
                + list(definition.products.all()))
    excluded = list(definition.excluded_categories.all()) + list(definition.excluded_products.all())
    if included and excluded:
        return _("On %(items)s, except %(excluded)s") % {
            "items": _names(included), "excluded": _names(excluded)}
    if included:
        return _("On %(items)s") % {"items": _names(included)}
    if excluded:
        return _("All pieces except %(excluded)s") % {"excluded": _names(excluded)}
    return _("All pieces")


def _titled(model) -> QuerySet:
    return model.objects.only("id", "name", "name_en").order_by("name")


# The scope relations, each loaded once for all the definitions on a page.
DEFINITION_PREFETCH = (
    Prefetch("categories", queryset=_titled(Category)),
    Prefetch("collections", queryset=_titled(Collection)),
    Prefetch("products", queryset=_titled(Product)),
    Prefetch("excluded_categories", queryset=_titled(Category)),
    Prefetch("excluded_products", queryset=_titled(Product)),
)


def coupon_expiry(coupon: Coupon) -> datetime | None:
    """When the coupon stops working: its own expiry or its definition's end, the earlier."""
    ends = [d for d in (coupon.expires_at, coupon.definition.valid_until) if d is not None]
    return min(ends) if ends else None


def coupon_state(coupon: Coupon, *, now: datetime | None = None) -> str:
    """usable / not_yet_valid / used / expired / void, for its holder, now. (Whether it
    applies to a given basket is for members.services.coupons.coupon_check to say.)"""
    now = now or timezone.now()
    definition = coupon.definition
    if coupon.status == CouponStatus.VOID or not definition.is_active:
        return VOID
    if coupon.status == CouponStatus.REDEEMED or (
            coupon.max_uses is not None and coupon.uses >= coupon.max_uses):
        return USED
    expiry = coupon_expiry(coupon)
    if expiry is not None and expiry <= now:
        return EXPIRED
    if definition.valid_from is not None and definition.valid_from > now:
        return NOT_YET_VALID
    return USABLE


def coupons_of_member(*, member) -> QuerySet[Coupon]:
    """The member's coupons with their definitions and scopes: a fixed number of queries
    whatever their number (1 + the scope prefetches)."""
    return (Coupon.objects.filter(member=member)
            .select_related("definition")
            .prefetch_related(*(Prefetch(f"definition__{p.prefetch_through}",
                                         queryset=p.queryset) for p in DEFINITION_PREFETCH))
            .order_by("expires_at", "-issued_at", "-id"))


@dataclass(frozen=True)
class WalletCoupon:
    coupon: Coupon
    state: str
    description: str
    channel: str
    scope: str
    expires_at: datetime | None
    valid_from: datetime | None

    @property
    def code(self) -> str:
        return self.coupon.code

    @property
    def usable(self) -> bool:
        return self.state == USABLE


def wallet_coupon(coupon: Coupon, *, now: datetime | None = None) -> WalletCoupon:
    definition = coupon.definition
    return WalletCoupon(
        coupon=coupon, state=coupon_state(coupon, now=now),
        description=coupon_describe(definition), channel=coupon_channel_label(definition),
        scope=coupon_scope_summary(definition), expires_at=coupon_expiry(coupon),
        valid_from=definition.valid_from)


@dataclass(frozen=True)
class Wallet:
    usable: list[WalletCoupon]  # usable now, or from a later date (not_yet_valid)
    used: list[WalletCoupon]
    ended: list[WalletCoupon]  # expired or void

    def __len__(self) -> int:
        return len(self.usable) + len(self.used) + len(self.ended)


def wallet_for_member(*, member, now: datetime | None = None) -> Wallet:
    """The member's coupons grouped for the wallet page: usable (usable now first, then
    those valid from a later date; soonest expiry first), used, and expired or void."""
    now = now or timezone.now()
    usable, used, ended = [], [], []
    for coupon in coupons_of_member(member=member):
        entry = wallet_coupon(coupon, now=now)
        if entry.state in (USABLE, NOT_YET_VALID):
            usable.append(entry)
        elif entry.state == USED:
            used.append(entry)
        else:
            ended.append(entry)
    usable.sort(key=lambda entry: entry.state != USABLE)  # usable now, then later ones
    return Wallet(usable=usable, used=used, ended=ended)


def coupon_definitions_with_counts(queryset: QuerySet[CouponDefinition] | None = None
                                   ) -> QuerySet[CouponDefinition]:
    """Definitions with ``issued_count`` (coupons made) and ``redeemed_count``
    (redemptions not reversed), as subqueries: one query for the whole list."""
    queryset = CouponDefinition.objects.all() if queryset is None else queryset

    def counted(model, **filters):
        return Coalesce(Subquery(
            model.objects.filter(definition=OuterRef("pk"), **filters).order_by()
            .values("definition").annotate(n=Count("pk")).values("n"),
            output_field=IntegerField()), 0)

    return queryset.annotate(
        issued_count=counted(Coupon),
        redeemed_count=counted(Redemption, reversed_at__isnull=True),
    )


def coupon_definitions_active(*, now: datetime | None = None) -> QuerySet[CouponDefinition]:
    """Definitions that can still be issued: active and not ended."""
    now = now or timezone.now()
    return CouponDefinition.objects.filter(is_active=True).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now))
