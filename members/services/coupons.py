"""The coupon engine: one function says whether a code applies and why not, online and at
the counter (``coupon_check``); one redeems it exactly once (``coupon_redeem``); one
gives it back when the order is cancelled or refunded (``coupon_redemption_reverse``).
orders calls these and nothing else of marketing.

Rules, in the order they are checked (the first that fails is the reason):
unknown code, void (or the definition withdrawn), not yet valid, expired, used up,
someone else's (or a public code without a signed-in member), wrong channel, not with points, limits (total, per member), then the
basket: nothing in scope, minimum spend of the pieces in scope. A coupon issued for an
occasion (a tier's birthday gift, ``birthday-2026``) counts towards the per-member limit
with that occasion's redemptions only, so last year's gift does not use up this year's.

Scope: when the definition names categories (with their sub-categories), collections or
products, only the lines matching any of them count; excluded products and categories
never count. The discount is computed on the pieces in scope: percent (rounded to the
cent, half up; capped), or a fixed amount (满减: once the minimum is reached); never more
than those pieces cost.

LOCKS (coupon_redeem): the CouponDefinition row when it has a total limit, then the
Coupon row unless it is a public code without a use limit, then the member's profile
row for the per-member limit. So a single-use code is redeemed once however many try at
once, and public codes without limits do not serialise their shoppers. Callers hold the
Order row first (orders' lock order: order -> coupon -> profile -> stock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from catalog.models import Category, Variant
from o2o.errors import ApplicationError, RateLimited
from o2o.money import money

from ..models import (
    Coupon,
    CouponChannel,
    CouponDefinition,
    CouponStatus,
    DiscountKind,
    MemberProfile,
    Redemption,
    User,
)
from ..selectors import coupon_expiry

# One reading of a typed code everywhere (issuing, the API, the cart, the counter): full-width
# characters made ASCII, every kind of space and dash and control characters (NUL) dropped.
from .coupon_issuing import coupon_code_clean
from .profile import member_profile_ensure

CENT = Decimal("0.01")
CODE_MAX = 24

Line = tuple[Variant, Decimal]  # a piece and its line total


class CouponNotApplicable(ApplicationError):
    """The code does not apply; ``code`` says why (stable), the message says it to people."""

    code = "coupon_not_applicable"


@dataclass(frozen=True)
class CouponQuote:
    coupon: Coupon
    discount: Decimal  # 0 when checked without a basket
    eligible: Decimal  # what the pieces in scope cost


def _money(amount: Decimal) -> str:
    return money(amount)  # the shop's one way to write money: ¥5,000


def _refuse(code: str, message: str, **extra) -> CouponNotApplicable:
    return CouponNotApplicable(message, code=code, extra=extra)


def _category_ancestry() -> dict[int, int | None]:
    return dict(Category.objects.values_list("id", "parent_id"))


def _with_ancestors(category_id: int, parents: dict[int, int | None]) -> set[int]:
    seen: set[int] = set()
    while category_id is not None and category_id not in seen:
        seen.add(category_id)
        category_id = parents.get(category_id)
    return seen


_SCOPES = ("categories", "collections", "products", "excluded_categories", "excluded_products")


def _scope_ids(definition: CouponDefinition) -> dict[str, set[int]]:
    """The ids of every scope relation of the definition, in one query (a UNION of the
    five many-to-many tables)."""
    parts = []
    for name in _SCOPES:
        field = CouponDefinition._meta.get_field(name)
        through = field.remote_field.through
        target = field.m2m_reverse_name()
        parts.append(through.objects.filter(**{field.m2m_column_name(): definition.pk})
                     .annotate(scope=Value(name)).values_list("scope", target))
    ids: dict[str, set[int]] = {name: set() for name in _SCOPES}
    for name, pk in parts[0].union(*parts[1:], all=True):
        ids[name].add(pk)
    return ids


def eligible_amount(definition: CouponDefinition, lines: Sequence[Line]) -> Decimal:
    """What the lines in the definition's scope cost. Four queries at most (the scope in
    one, the category tree, the products' categories and collections), whatever the
    number of lines; one when the definition has no scope."""
    ids = _scope_ids(definition)
    scope = {name: ids[name] for name in ("categories", "collections", "products")}
    excluded_products, excluded_categories = ids["excluded_products"], ids["excluded_categories"]
    needs_tree = scope["categories"] or excluded_categories
    parents = _category_ancestry() if needs_tree else {}
    product_ids = {variant.product_id for variant, _amount in lines}
    collections: dict[int, set[int]] = {}
    if scope["collections"]:
        through = Variant.product.field.related_model.collections.through
        for product_id, collection_id in through.objects.filter(
                product_id__in=product_ids).values_list("product_id", "collection_id"):
            collections.setdefault(product_id, set()).add(collection_id)
    categories = dict(Variant.product.field.related_model.objects.filter(
        pk__in=product_ids).values_list("id", "category_id")) if needs_tree else {}
    scoped = any(scope.values())
    total = Decimal("0.00")
    for variant, amount in lines:
        product_id = variant.product_id
        ancestry = _with_ancestors(categories.get(product_id), parents) if needs_tree else set()
        if product_id in excluded_products or ancestry & excluded_categories:
            continue
        if scoped and not (product_id in scope["products"] or ancestry & scope["categories"]
                           or collections.get(product_id, set()) & scope["collections"]):
            continue
        total += amount
    return total


def discount_for(definition: CouponDefinition, eligible: Decimal) -> Decimal:
    if eligible <= 0:
        return Decimal("0.00")
    if definition.kind == DiscountKind.PERCENT:
        discount = (eligible * definition.value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        discount = definition.value
    if definition.cap is not None:
        discount = min(discount, definition.cap)
    return min(discount, eligible).quantize(CENT)


def _active_redemptions():
    return Redemption.objects.filter(reversed_at__isnull=True)


def _check(coupon: Coupon, *, member: User | None, channel: str, lines: Sequence[Line] | None,
           with_points: bool, now: datetime) -> CouponQuote:
    definition = coupon.definition
    if coupon.status == CouponStatus.VOID or not definition.is_active:
        raise _refuse("coupon_void", _("This coupon is no longer valid."))
    if definition.valid_from and now < definition.valid_from:
        raise _refuse("coupon_not_yet_valid", _("This coupon can be used from %(date)s.") % {
            "date": formats.date_format(timezone.localtime(definition.valid_from),
                                        "SHORT_DATE_FORMAT")})
    ends = coupon_expiry(coupon)
    if ends and now >= ends:
        raise _refuse("coupon_expired", _("This coupon expired on %(date)s.") % {
            "date": formats.date_format(timezone.localtime(ends), "SHORT_DATE_FORMAT")})
    if coupon.status == CouponStatus.REDEEMED or (
            coupon.max_uses is not None and coupon.uses >= coupon.max_uses):
        raise _refuse("coupon_used", _("This coupon has already been used."))
    if coupon.member_id is not None and (member is None or member.pk != coupon.member_id):
        raise _refuse("coupon_not_yours",
                      _("This coupon belongs to a member: sign in with their account.")
                      if member is None else _("This coupon belongs to another member."))
    if coupon.max_uses is None and member is None:
        # A public code's per-member limit needs someone to count against.
        raise _refuse("coupon_needs_member", _("Sign in as a member to use this code."))
    if definition.channel != CouponChannel.BOTH and definition.channel != channel:
        raise _refuse("coupon_wrong_channel",
                      _("This coupon works in our stores only.")
                      if definition.channel == CouponChannel.STORE
                      else _("This coupon works in the web shop only."))
    if with_points and not definition.stacks_with_points:
        raise _refuse("coupon_no_points",
                      _("This coupon cannot be combined with points: use one or the other."))
    if definition.total_limit is not None and _active_redemptions().filter(
            definition=definition).count() >= definition.total_limit:
        raise _refuse("coupon_limit_reached", _("This offer has been fully claimed."))
    mine = _active_redemptions().filter(definition=definition, member=member)
    if coupon.occasion:  # a gift issued once per occasion (birthday-2026) is that year's own
        mine = mine.filter(coupon__occasion=coupon.occasion)
    if member is not None and mine.count() >= definition.per_member_limit:
        raise _refuse("coupon_limit_reached",
                      _("You have already used this offer as often as it allows."))
    if lines is None:
        return CouponQuote(coupon, Decimal("0.00"), Decimal("0.00"))
    eligible = eligible_amount(definition, lines)
    if eligible <= 0:
        raise _refuse("coupon_out_of_scope", _("None of these pieces is covered by this coupon."))
    if eligible < definition.min_spend:
        raise _refuse("coupon_min_spend",
                      _("This coupon needs %(minimum)s of covered pieces; add %(missing)s "
                        "more.") % {"minimum": _money(definition.min_spend),
                                     "missing": _money(definition.min_spend - eligible)},
                      minimum=str(definition.min_spend), missing=str(definition.min_spend - eligible))
    discount = discount_for(definition, eligible)
    if discount <= 0:  # a percent of a few cents rounds to nothing
        raise _refuse("coupon_out_of_scope", _("None of these pieces is covered by this coupon."))
    return CouponQuote(coupon, discount, eligible)


def _find(code: str) -> Coupon:
    cleaned = coupon_code_clean(code)
    coupon = (Coupon.objects.select_related("definition").filter(code=cleaned).first()
              if 0 < len(cleaned) <= CODE_MAX else None)
    if coupon is None:
        raise _refuse("coupon_unknown", _("We do not know this coupon code; check it and try "
                                          "again."))
    return coupon


def coupon_check(*, code: str, member: User | None, channel: str,
                 lines: Sequence[Line] | None = None, with_points: bool = False,
                 now: datetime | None = None) -> CouponQuote:
    """Whether ``code`` applies for ``member`` on ``channel`` ("online" or "store") to
    ``lines`` ((variant, line total) pairs; None: no basket, its rules are not checked),
    and the discount. Raises CouponNotApplicable with the reason. Reads only."""
    coupon = _find(code)
    return _check(coupon, member=member, channel=channel, lines=lines,
                  with_points=with_points, now=now or timezone.now())


@transaction.atomic
def coupon_redeem(*, code: str, member: User | None, channel: str, lines: Sequence[Line],
                  reference: str, store=None, actor: User | None = None,
                  with_points: bool = False, now: datetime | None = None) -> Redemption:
    """Redeem ``code`` on order ``reference``: checked again under the locks (module
    docstring), then a Redemption row and the coupon's use counted. Exactly once: a
    single-use code raced by many gives one redemption, the others CouponNotApplicable
    (coupon_used). An order carries at most one coupon."""
    now = now or timezone.now()
    found = _find(code)
    definition = found.definition
    if definition.total_limit is not None:
        definition = CouponDefinition.objects.select_for_update().get(pk=definition.pk)
    coupon = found
    if found.max_uses is not None:
        coupon = Coupon.objects.select_for_update().get(pk=found.pk)
    coupon.definition = definition
    if member is not None:
        member_profile_ensure(user=member)
        MemberProfile.objects.select_for_update().filter(user=member).first()
    quote = _check(coupon, member=member, channel=channel, lines=lines,
                   with_points=with_points, now=now)
    redemption = Redemption.objects.create(
        coupon=coupon, definition=definition, member=member, reference=reference,
        channel=channel, store=store, discount=quote.discount, actor=actor, redeemed_at=now)
    if coupon.max_uses is not None:
        coupon.uses += 1
        fields = ["uses"]
        if coupon.uses >= coupon.max_uses:
            coupon.status = CouponStatus.REDEEMED
            fields.append("status")
        coupon.save(update_fields=fields)
    return redemption


@transaction.atomic
def coupon_redemption_reverse(*, reference: str, actor: User | None = None,
                              now: datetime | None = None) -> Redemption | None:
    """Give back the coupon used on order ``reference`` (cancelled or refunded): the
    redemption is marked reversed and the coupon can be used again (while it is valid).
    None when the order used none, or it was already given back."""
    found = _active_redemptions().filter(reference=reference).select_related("coupon").first()
    if found is None:
        return None
    coupon = Coupon.objects.select_for_update().get(pk=found.coupon_id)
    redemption = Redemption.objects.select_for_update().get(pk=found.pk)
    if redemption.reversed_at is not None:
        return None
    redemption.reversed_at, redemption.reversed_by = now or timezone.now(), actor
    redemption.save(update_fields=["reversed_at", "reversed_by"])
    if coupon.max_uses is not None and coupon.uses > 0:
        coupon.uses -= 1
        fields = ["uses"]
        if coupon.status == CouponStatus.REDEEMED:
            coupon.status = CouponStatus.ISSUED
            fields.append("status")
        coupon.save(update_fields=fields)
    return redemption


def coupon_guess_ensure(*, request) -> None:
    """Count one code typed by this visitor (per member, and per IP address); raise
    RateLimited (429) past COUPON_CHECK_RATE, so codes cannot be guessed by trying."""
    rate = settings.COUPON_CHECK_RATE
    by_ip = is_ratelimited(request, group="marketing.coupon.ip", key="ip", rate=rate,
                           increment=True)
    by_user = request.user.is_authenticated and is_ratelimited(
        request, group="marketing.coupon.user", key="user", rate=rate, increment=True)
    if by_ip or by_user:
        raise RateLimited(_("Too many coupon codes tried in a short time. Wait a minute and "
                            "try again."))


def _active_count(**filters) -> Coalesce:
    counted = (_active_redemptions().filter(**filters).order_by()
               .values("definition").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(counted), 0)


def coupons_usable(*, member: User, channel: str, now: datetime | None = None) -> list[Coupon]:
    """The member's own coupons that could apply on ``channel`` now (basket rules aside):
    for the checkout's and the counter's pick lists. One query: the definition's limits
    (total, and the member's own, per occasion for gifts) are counted in it, so a coupon
    the engine would refuse for them is not offered."""
    now = now or timezone.now()
    definition = OuterRef("definition")
    candidates = (Coupon.objects.select_related("definition")
                  .filter(member=member, status=CouponStatus.ISSUED, definition__is_active=True)
                  .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
                  .filter(Q(definition__valid_until__isnull=True)
                          | Q(definition__valid_until__gt=now))
                  .filter(Q(definition__valid_from__isnull=True)
                          | Q(definition__valid_from__lte=now))
                  .filter(definition__channel__in=[channel, CouponChannel.BOTH])
                  .annotate(used_all=_active_count(definition=definition),
                            used_mine=_active_count(definition=definition, member=member),
                            used_occasion=_active_count(
                                definition=definition, member=member,
                                coupon__occasion=OuterRef("occasion")))
                  .order_by("expires_at", "pk"))
    usable = []
    for coupon in candidates:
        limits = coupon.definition
        mine = coupon.used_occasion if coupon.occasion else coupon.used_mine
        if limits.total_limit is not None and coupon.used_all >= limits.total_limit:
            continue
        if mine >= limits.per_member_limit:
            continue
        usable.append(coupon)
    return usable
