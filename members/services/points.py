"""The points ledger: every change of a member's points is one PointsEntry, written here.

The balance is the sum of the member's entries; MemberProfile.points_balance caches it
and changes by the entry's points in the same transaction (F() updates), so the cache
and the ledger never disagree, whatever runs in parallel. A redemption is a
conditional UPDATE (balance >= points): two parallel redemptions of the last points
give one. A reversal (a return after the points were spent) may take the balance
below zero; the member earns it back.

Rules (settings): LOYALTY_POINTS_PER_YUAN earned per yuan paid, times the tier's
multiplier; one point is worth LOYALTY_POINT_VALUE yuan; points pay at most
LOYALTY_REDEEM_MAX_SHARE of an order after its coupon.

LOCKS: the member's MemberProfile row (an UPDATE, or select_for_update when the tier is
read). Callers in orders hold the Order row first.
"""

from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import NOT_ENOUGH_POINTS, PointsInsufficient, PointsInvalid
from ..models import Channel, MemberProfile, PointsEntry, PointsKind, User
from .profile import member_profile_ensure
from .tiers import member_tier_refresh

CENT = Decimal("0.01")


def points_value(points: int) -> Decimal:
    """What ``points`` pay, in yuan (rounded down to the cent)."""
    return (Decimal(points) * settings.LOYALTY_POINT_VALUE).quantize(CENT, rounding=ROUND_DOWN)


def points_max_for(*, amount: Decimal, balance: int) -> int:
    """The most points that may pay ``amount`` (an order after its coupon): at most
    LOYALTY_REDEEM_MAX_SHARE of it, and never more than the member has."""
    if amount <= 0 or balance <= 0:
        return 0
    share = (amount * settings.LOYALTY_REDEEM_MAX_SHARE).quantize(CENT, rounding=ROUND_DOWN)
    cap = int((share / settings.LOYALTY_POINT_VALUE).to_integral_value(rounding=ROUND_DOWN))
    return max(0, min(cap, balance))


def points_earned_for(*, spend: Decimal, multiplier: Decimal) -> int:
    return int((spend * settings.LOYALTY_POINTS_PER_YUAN * multiplier)
               .to_integral_value(rounding=ROUND_DOWN))


def points_balance(*, member: User) -> int:
    """The member's balance (the cached sum of the ledger: one indexed read)."""
    balance = (MemberProfile.objects.filter(user=member)
               .values_list("points_balance", flat=True).first())
    return balance or 0


def points_ledger_sum(*, member: User) -> int:
    """The sum of the ledger itself (what the cache must equal): for checks and tests."""
    return PointsEntry.objects.filter(member=member).aggregate(s=Sum("points"))["s"] or 0


@transaction.atomic
def points_balance_rebuild(*, member_ids: list[int] | None = None) -> int:
    """Set each profile's cached balance to the sum of its ledger (all profiles, or those of
    ``member_ids``): a repair and import tool, for entries written in bulk. One UPDATE ...
    FROM a per-member sum; returns how many balances changed.

    LOCKS: the profiles' rows first (by user id, like every writer), so no entry written
    in parallel is missed: a writer that inserted its entry before holding the profile
    waits, then adds its points to the rebuilt balance."""
    profile, entry = MemberProfile._meta.db_table, PointsEntry._meta.db_table
    only = "" if member_ids is None else "WHERE {alias}.user_id = ANY(%s)"
    params = [] if member_ids is None else [list(member_ids)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {profile} p {only.format(alias='p')} "
                       "ORDER BY p.user_id FOR UPDATE", params)
        cursor.execute(f"""
            UPDATE {profile} AS p SET points_balance = s.total
            FROM (SELECT q.user_id, COALESCE(SUM(e.points), 0) AS total
                  FROM {profile} q LEFT JOIN {entry} e ON e.member_id = q.user_id
                  {only.format(alias='q')} GROUP BY q.user_id) AS s
            WHERE p.user_id = s.user_id AND p.points_balance <> s.total""", params)
        return cursor.rowcount


def _write(entry: PointsEntry) -> PointsEntry | None:
    """Insert ``entry`` and move the cached balance by its points, both or neither;
    None when an entry of this kind for this order already exists (idempotent)."""
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
            if entry.points:
                MemberProfile.objects.filter(user_id=entry.member_id).update(
                    points_balance=F("points_balance") + entry.points)
    except IntegrityError:
        if entry.reference and PointsEntry.objects.filter(
                kind=entry.kind, reference=entry.reference).exists():
            return None
        raise
    return entry


@transaction.atomic
def points_redeem(*, member: User, points: int, reference: str, channel: str = Channel.ONLINE,
                  actor: User | None = None, now: datetime | None = None) -> PointsEntry:
    """Spend ``points`` of the member's balance on order ``reference``, exactly once.

    PointsInvalid for a number that is not a positive whole number; PointsInsufficient
    (409) when the balance is short, nothing written. The check and the debit are one
    conditional UPDATE, so parallel redemptions never overdraw."""
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise PointsInvalid(_("Give the points to use as a whole number above zero."))
    member_profile_ensure(user=member)
    debited = MemberProfile.objects.filter(user=member, points_balance__gte=points).update(
        points_balance=F("points_balance") - points)
    if not debited:
        balance = points_balance(member=member)
        raise PointsInsufficient(NOT_ENOUGH_POINTS % {"balance": balance, "wanted": points},
                                 extra={"balance": balance})
    return PointsEntry.objects.create(
        member=member, kind=PointsKind.REDEEM, points=-points, reference=reference,
        channel=channel, actor=actor, created_at=now or timezone.now())


@transaction.atomic
def points_return(*, reference: str, actor: User | None = None,
                  now: datetime | None = None) -> PointsEntry | None:
    """Give back the points redeemed on order ``reference`` (cancelled or refunded before
    it reached the shopper). Once: None when nothing was redeemed or it was given back."""
    redeemed = PointsEntry.objects.filter(kind=PointsKind.REDEEM, reference=reference).first()
    if redeemed is None:
        return None
    return _write(PointsEntry(
        member_id=redeemed.member_id, kind=PointsKind.RETURN, points=-redeemed.points,
        reference=reference, channel=redeemed.channel, actor=actor,
        note=_("Order %(number)s did not go through") % {"number": reference},
        created_at=now or timezone.now()))


@transaction.atomic
def points_earn(*, member: User, reference: str, spend: Decimal, channel: str,
                actor: User | None = None, now: datetime | None = None) -> PointsEntry | None:
    """Points for order ``reference`` that reached the member (collected or delivered):
    ``spend`` (what they paid) x LOYALTY_POINTS_PER_YUAN x their tier's multiplier,
    rounded down. Once per order (None the second time). The spend counts towards the
    tier, which is refreshed at once."""
    if spend <= 0:
        return None
    now = now or timezone.now()
    member_profile_ensure(user=member)
    profile = (MemberProfile.objects.select_for_update(of=("self",)).select_related("tier")
               .get(user=member))
    multiplier = profile.tier.points_multiplier if profile.tier else Decimal("1")
    entry = _write(PointsEntry(
        member=member, kind=PointsKind.EARN, points=points_earned_for(
            spend=spend, multiplier=multiplier),
        spend=spend.quantize(CENT), reference=reference, channel=channel, actor=actor,
        created_at=now))
    if entry is not None:
        member_tier_refresh(member=member, now=now)
    return entry


@transaction.atomic
def points_reverse(*, reference: str, refunded: Decimal, paid: Decimal,
                   actor: User | None = None, now: datetime | None = None) -> PointsEntry | None:
    """Take back the share of order ``reference``'s earned points (and counted spend)
    that ``refunded`` of ``paid`` stands for, in all (what earlier partial refunds took
    back is counted). None when nothing was earned or nothing more is due. Refreshes the
    tier. The caller holds the order's lock, so reversals of one order do not overlap."""
    earned = PointsEntry.objects.filter(kind=PointsKind.EARN, reference=reference).first()
    if earned is None or paid <= 0:
        return None
    now = now or timezone.now()
    share = min(Decimal(refunded) / Decimal(paid), Decimal(1))
    target_points = int((earned.points * share).to_integral_value(rounding=ROUND_DOWN))
    target_spend = (earned.spend * share).quantize(CENT, rounding=ROUND_DOWN)
    done = PointsEntry.objects.filter(kind=PointsKind.REVERSE, reference=reference).aggregate(
        points=Sum("points"), spend=Sum("spend"))
    points = target_points + (done["points"] or 0)  # earlier reversals are negative
    spend = target_spend + (done["spend"] or Decimal(0))
    if points <= 0 and spend <= 0:
        return None
    entry = _write(PointsEntry(
        member_id=earned.member_id, kind=PointsKind.REVERSE, points=-max(points, 0),
        spend=-max(spend, Decimal(0)), reference=reference, channel=earned.channel,
        actor=actor, created_at=now,
        note=_("Order %(number)s was returned") % {"number": reference}))
    member_tier_refresh(member=User(pk=earned.member_id), now=now)
    return entry


@transaction.atomic
def points_adjust(*, member: User, points: int, note: str, actor: User) -> PointsEntry:
    """A staff correction (goodwill, a mistake), with the reason; audited by the entry."""
    if not isinstance(points, int) or isinstance(points, bool) or points == 0:
        raise PointsInvalid(_("Give the points to add or take away as a whole number."))
    if not (note or "").strip():
        raise PointsInvalid(_("Say why the points change."), code="note_required")
    if actor is not None and actor.pk == member.pk:
        raise PointsInvalid(_("Nobody adjusts their own points; ask a colleague."),
                            code="own_points")
    member_profile_ensure(user=member)
    entry = _write(PointsEntry(member=member, kind=PointsKind.ADJUST, points=points,
                               note=note.strip()[:200], actor=actor))
    assert entry is not None  # no reference: never a duplicate
    return entry
