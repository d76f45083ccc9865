"""Issuing coupons: to a member, to many members or a pasted list of mobile numbers, as a
public code, or as a batch of single-use codes for printing; voiding one; the birthday
gifts of the tiers.

Codes: 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L), drawn with
``secrets``: 31**12 (about 8e17) codes, so guessing one is hopeless, and the check API is
rate limited anyway. ``Coupon.code`` is UNIQUE: a collision (practically never) is caught
from the constraint and the insert retried with fresh codes. Whatever a person types
(at a counter, in the API) goes through ``coupon_code_clean`` first.

Every function owns its transaction and records the staff member who acted
(``Coupon.issued_by``, ``CouponBatch.created_by``; a void is written to the admin's
history). Errors are ``CouponIssueRefused`` (an ApplicationError, 400) with a stable code.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from o2o.bulk import int_array, json_rows
from o2o.errors import ApplicationError
from o2o.phone import phone_normalize

from ..models import Coupon, CouponBatch, CouponDefinition, CouponStatus, User
from ..selectors import coupon_describe, coupon_expiry

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0 O 1 I L
CODE_LENGTH = 12
PUBLIC_CODE_RE = re.compile(r"[A-Z0-9]{4,24}")
BATCH_MAX = 10_000
PHONES_MAX = 10_000
INSERT_CHUNK = 1_000
# Fresh codes tried before giving up (a collision is a 1 in 1e17 event per code).
CODE_ATTEMPTS = 5
# Typed separators a code may carry: spaces of any kind, underscores, every sort of dash.
_DASHES = "-_\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d"


class CouponIssueRefused(ApplicationError):
    code = "coupon_issue_refused"


# Random bytes to code characters in one C call: a byte below 248 (8 x 31) is one of the
# 31 characters, each equally likely; the bytes above are dropped.
_UNIFORM_BELOW = 256 - 256 % len(CODE_ALPHABET)
_TO_ALPHABET = bytes(ord(CODE_ALPHABET[b % len(CODE_ALPHABET)]) if b < _UNIFORM_BELOW else 0
                     for b in range(256))
_DROPPED = bytes(range(_UNIFORM_BELOW, 256))


def coupon_codes_new(count: int) -> list[str]:
    """``count`` distinct fresh codes (not checked against the table: inserts retry on a
    clash), from one read of the system's randomness for them all: a campaign draws
    100,000, and one ``secrets.choice`` per character cost seconds."""
    codes: set[str] = set()
    while len(codes) < count:
        missing = count - len(codes)
        raw = secrets.token_bytes(missing * CODE_LENGTH * 9 // 8 + CODE_LENGTH)
        chars = raw.translate(_TO_ALPHABET, _DROPPED).decode("ascii")
        codes.update(chars[i:i + CODE_LENGTH]
                     for i in range(0, len(chars) - CODE_LENGTH + 1, CODE_LENGTH))
    return list(codes)[:count]


def coupon_code_new() -> str:
    """A fresh random code (not yet checked against the table: inserts retry on a clash)."""
    return coupon_codes_new(1)[0]


def coupon_code_clean(raw: str | None) -> str:
    """A code as typed or scanned, the way every lookup reads it: full-width characters
    made ASCII (NFKC), spaces, dashes, underscores and control characters (NUL) removed,
    upper case.
    ``" gold-520 "`` -> ``"GOLD520"``. Never raises; an empty result matches nothing."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if ch not in _DASHES
                   and unicodedata.category(ch)[0] not in "CZ").upper()


# --- Validity ------------------------------------------------------------------------------


def coupon_expiry_for(*, definition: CouponDefinition, issued_at: datetime) -> datetime | None:
    """The earlier of the definition's end and ``valid_days`` after the coupon starts to
    work: its issue, or the window's start when that is later (a coupon issued before the
    window opens still gets its full number of days)."""
    ends = []
    if definition.valid_until is not None:
        ends.append(definition.valid_until)
    if definition.valid_days:
        start = issued_at
        if definition.valid_from is not None and definition.valid_from > start:
            start = definition.valid_from
        ends.append(start + timedelta(days=definition.valid_days))
    return min(ends) if ends else None


def _ensure_issuable(definition: CouponDefinition, now: datetime) -> None:
    if not definition.is_active:
        raise CouponIssueRefused(
            _("“%(name)s” is not active: activate it before issuing coupons.")
            % {"name": definition.name}, code="definition_inactive")
    if definition.valid_until is not None and definition.valid_until <= now:
        raise CouponIssueRefused(
            _("“%(name)s” ended on %(date)s: no more coupons can be issued.")
            % {"name": definition.name,
               "date": timezone.localtime(definition.valid_until).date().isoformat()},
            code="definition_ended")


def _locked_definition(definition: CouponDefinition) -> CouponDefinition:
    """Issuing to many members takes the definition's row lock, so two marketers issuing
    the same definition at once do not both give a member one."""
    return CouponDefinition.objects.select_for_update(of=("self",)).get(pk=definition.pk)


def _bulk_insert(rows: list[Coupon]) -> None:
    """Insert ``rows`` (new Coupon objects), drawing fresh codes for the whole chunk when
    the UNIQUE code constraint says no (inside a savepoint, so the caller's transaction
    goes on)."""
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start:start + INSERT_CHUNK]
        for attempt in range(CODE_ATTEMPTS):
            try:
                with transaction.atomic():
                    Coupon.objects.bulk_create(chunk)
                break
            except IntegrityError:
                if attempt == CODE_ATTEMPTS - 1:
                    raise
                for coupon in chunk:
                    coupon.pk = None
                    coupon.code = coupon_code_new()


# --- To members ----------------------------------------------------------------------------


@transaction.atomic
def coupon_issue(*, definition: CouponDefinition, member: User, actor: User | None = None,
                 occasion: str = "", now: datetime | None = None) -> Coupon:
    """Give ``member`` one coupon of ``definition`` (single use, code of their own).

    With an ``occasion`` (``"birthday-2026"``) it is issued once: a second call returns
    the coupon already issued (UNIQUE definition + member + occasion, also under races).
    Raises CouponIssueRefused (definition_inactive, definition_ended)."""
    now = now or timezone.now()
    occasion = occasion.strip()[:40]
    if occasion:
        existing = Coupon.objects.filter(definition=definition, member=member,
                                         occasion=occasion).first()
        if existing is not None:
            return existing
    _ensure_issuable(definition, now)
    expires_at = coupon_expiry_for(definition=definition, issued_at=now)
    for attempt in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                return Coupon.objects.create(
                    definition=definition, member=member, code=coupon_code_new(),
                    max_uses=1, expires_at=expires_at, occasion=occasion, issued_by=actor)
        except IntegrityError:
            if occasion:
                existing = Coupon.objects.filter(definition=definition, member=member,
                                                 occasion=occasion).first()
                if existing is not None:  # a parallel call issued it first
                    return existing
            if attempt == CODE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def coupon_issue_ensure(*, definition: CouponDefinition, now: datetime) -> None:
    """Raise CouponIssueRefused (definition_inactive, definition_ended) unless
    ``definition`` can be issued at ``now``: the check every issuer makes first."""
    _ensure_issuable(definition, now)


@dataclass(frozen=True)
class IssuedCoupon:
    """A coupon issued for an occasion, as the bulk issue hands it back (a campaign
    issues 100,000: no model instances)."""

    pk: int
    member_id: int
    code: str
    expires_at: datetime | None


def _issued_before(definition: CouponDefinition, occasion: str,
                   member_ids: list[int]) -> dict[int, IssuedCoupon]:
    """The coupons of ``definition`` the members hold for ``occasion``: one index probe
    per member (a lateral join whose LIMIT keeps the planner from turning it into a hash
    join over the whole occasion when the table's statistics are stale), whatever the
    table's size."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT c.id, c.member_id, c.code, c.expires_at
                FROM unnest(%s::bigint[]) AS m(id)
                CROSS JOIN LATERAL (
                    SELECT id, member_id, code, expires_at FROM {Coupon._meta.db_table}
                    WHERE definition_id = %s AND member_id = m.id AND occasion = %s
                    LIMIT 1) AS c""",
            [int_array(member_ids), definition.pk, occasion])
        return {member_id: IssuedCoupon(pk, member_id, code, expires_at)
                for pk, member_id, code, expires_at in cursor.fetchall()}


def coupons_issue_for_occasion(*, definition: CouponDefinition, member_ids: Iterable[int],
                               occasion: str, now: datetime | None = None,
                               actor: User | None = None) -> dict[int, IssuedCoupon]:
    """One coupon of ``definition`` to each member of ``member_ids`` for ``occasion``
    (at most 40 characters: a campaign's or journey's reach), in the caller's
    transaction; returns {member id: coupon}, the coupons issued before for that
    occasion included (idempotent: UNIQUE definition + member + occasion). One bulk
    INSERT ... ON CONFLICT DO NOTHING a chunk; a code that collided is drawn again.
    Raises CouponIssueRefused (definition_inactive, definition_ended)."""
    now = now or timezone.now()
    occasion = occasion.strip()[:40]
    if not occasion:
        raise ValueError("an occasion is required")
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    _ensure_issuable(definition, now)
    expires_at = coupon_expiry_for(definition=definition, issued_at=now)
    found: dict[int, IssuedCoupon] = {}
    for start in range(0, len(ids), INSERT_CHUNK):
        chunk = ids[start:start + INSERT_CHUNK]
        found.update(_issued_before(definition, occasion, chunk))
        for _attempt in range(CODE_ATTEMPTS):
            missing = [m for m in chunk if m not in found]
            if not missing:
                break
            for member_id, pk, code in _insert_for_occasion(
                    definition=definition, member_ids=missing, occasion=occasion,
                    expires_at=expires_at, actor=actor, now=now):
                found[member_id] = IssuedCoupon(pk, member_id, code, expires_at)
            if any(m not in found for m in missing):
                # A parallel issue for the same occasion won (or a code collided): read
                # what is there before drawing codes again.
                found.update(_issued_before(definition, occasion, missing))
        else:
            raise IntegrityError("coupon codes kept colliding")
    return found


def _insert_for_occasion(*, definition: CouponDefinition, member_ids: list[int],
                         occasion: str, expires_at: datetime | None, actor: User | None,
                         now: datetime) -> list[tuple[int, int, str]]:
    """One INSERT ... SELECT ... ON CONFLICT DO NOTHING (a code or an occasion already
    taken): the (member id, coupon id, code) of the rows written."""
    table = Coupon._meta.db_table
    codes = coupon_codes_new(len(member_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (definition_id, code, member_id, max_uses, uses, status,
                                     expires_at, occasion, issued_by_id, issued_at)
                SELECT %s, c.code, c.member_id, 1, 0, %s, %s, %s, %s, %s
                FROM json_to_recordset(%s::json) AS c(code text, member_id bigint)
                ON CONFLICT DO NOTHING
                RETURNING member_id, id, code""",
            [definition.pk, CouponStatus.ISSUED.value, expires_at, occasion,
             actor.pk if actor is not None else None, now,
             json_rows({"code": code, "member_id": member_id}
                       for code, member_id in zip(codes, member_ids, strict=True))])
        return list(cursor.fetchall())


def _member_ids(members: QuerySet[User] | Iterable[User]) -> list[int]:
    if isinstance(members, QuerySet):
        return list(members.order_by().values_list("pk", flat=True).distinct())
    return sorted({member.pk for member in members})


@transaction.atomic
def coupons_issue_to_members(*, definition: CouponDefinition,
                             members: QuerySet[User] | Iterable[User],
                             actor: User | None, now: datetime | None = None) -> int:
    """One coupon of ``definition`` to each of ``members``; returns how many were issued.

    Skipped (so that issuing the same list twice, or a double click, gives nobody two):
    members who already hold an unused coupon of this definition that has not expired,
    and inactive (deleted) accounts. Runs in chunks of 1,000 members (one bulk insert
    each), under the definition's row lock. Raises CouponIssueRefused
    (definition_inactive, definition_ended)."""
    now = now or timezone.now()
    definition = _locked_definition(definition)
    _ensure_issuable(definition, now)
    expires_at = coupon_expiry_for(definition=definition, issued_at=now)
    ids = _member_ids(members)
    issued = 0
    for start in range(0, len(ids), INSERT_CHUNK):
        chunk = ids[start:start + INSERT_CHUNK]
        holding = set(
            Coupon.objects.filter(definition=definition, member_id__in=chunk,
                                  status=CouponStatus.ISSUED)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .values_list("member_id", flat=True))
        wanted = list(User.objects.filter(pk__in=chunk, is_active=True)
                      .exclude(pk__in=holding).order_by("pk").values_list("pk", flat=True))
        codes = coupon_codes_new(len(wanted))
        rows = [Coupon(definition=definition, member_id=member_id, code=code, max_uses=1,
                       expires_at=expires_at, issued_by=actor)
                for member_id, code in zip(wanted, codes, strict=True)]
        _bulk_insert(rows)
        issued += len(rows)
    return issued


_PHONE_SEPARATORS = re.compile(r"[\r\n,;，；、]+")


def phones_parse(phones_text: str) -> tuple[list[str], list[str]]:
    """Pasted mobile numbers (one a line; commas and semicolons also separate) ->
    (E.164 numbers, in order, without repeats; the lines that are not mobile numbers)."""
    numbers: list[str] = []
    bad: list[str] = []
    for raw in _PHONE_SEPARATORS.split(phones_text or ""):
        raw = raw.strip().replace("\x00", "")
        if not raw:
            continue
        try:
            number = phone_normalize(raw[:32])
        except ValidationError:
            bad.append(raw[:32])
            continue
        if number not in numbers:
            numbers.append(number)
    return numbers, bad


@transaction.atomic
def coupons_issue_to_phones(*, definition: CouponDefinition, phones_text: str,
                            actor: User | None) -> tuple[int, list[str]]:
    """Issue to the members with these mobile numbers (pasted, one a line, typed any way
    phone_normalize reads). Returns (coupons issued, the numbers that are no member's or
    no mobile number at all, as typed or normalised). Unknown numbers are reported, not
    fatal; members are skipped as in ``coupons_issue_to_members``. Raises
    CouponIssueRefused (no_phones, too_many_phones, definition_*)."""
    numbers, bad = phones_parse(phones_text)
    if not numbers and not bad:
        raise CouponIssueRefused(_("Paste at least one mobile number."), code="no_phones")
    if len(numbers) + len(bad) > PHONES_MAX:
        raise CouponIssueRefused(
            _("At most %(max)s numbers at a time.") % {"max": f"{PHONES_MAX:,}"},
            code="too_many_phones")
    found: dict[str, int] = {}
    for start in range(0, len(numbers), INSERT_CHUNK):
        found.update(User.objects.filter(phone__in=numbers[start:start + INSERT_CHUNK],
                                         is_active=True).values_list("phone", "pk"))
    unknown = bad + [number for number in numbers if number not in found]
    if not found:
        # Still refuse an inactive or ended definition, whatever the list.
        _ensure_issuable(definition, timezone.now())
        return 0, unknown
    members = User.objects.filter(pk__in=found.values())
    return coupons_issue_to_members(definition=definition, members=members, actor=actor), unknown


# --- Public codes and printed batches -------------------------------------------------------


@transaction.atomic
def coupon_public_create(*, definition: CouponDefinition, code: str, actor: User | None,
                         max_uses: int | None = None) -> Coupon:
    """A code of the marketer's choosing ("GOLD520") that any shopper may type, until
    ``max_uses`` redemptions (None: only the definition's total and per-member limits).
    Raises CouponIssueRefused: code_invalid (4-24 letters and digits after cleaning),
    code_taken, max_uses_invalid, definition_*."""
    now = timezone.now()
    cleaned = coupon_code_clean(code)
    if not PUBLIC_CODE_RE.fullmatch(cleaned):
        raise CouponIssueRefused(
            _("A code has 4 to 24 letters (A-Z) and digits; spaces and dashes are ignored."),
            code="code_invalid")
    if max_uses is not None and max_uses < 1:
        raise CouponIssueRefused(_("Uses allowed must be at least 1, or empty for no limit."),
                                 code="max_uses_invalid")
    _ensure_issuable(definition, now)
    taken = _("The code %(code)s is already in use. Choose another.") % {"code": cleaned}
    if Coupon.objects.filter(code=cleaned).exists():
        raise CouponIssueRefused(taken, code="code_taken")
    try:
        with transaction.atomic():
            return Coupon.objects.create(
                definition=definition, code=cleaned, member=None, max_uses=max_uses,
                expires_at=coupon_expiry_for(definition=definition, issued_at=now),
                issued_by=actor)
    except IntegrityError:  # taken between the check and the insert
        raise CouponIssueRefused(taken, code="code_taken") from None


@transaction.atomic
def coupon_batch_create(*, definition: CouponDefinition, quantity: int, note: str = "",
                        actor: User | None) -> CouponBatch:
    """``quantity`` (1..10,000) single-use anonymous codes, for printing in stores
    (``coupon_batch_csv``). Raises CouponIssueRefused (quantity_invalid, definition_*)."""
    now = timezone.now()
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not (
            1 <= quantity <= BATCH_MAX):
        raise CouponIssueRefused(
            _("A batch has from 1 to %(max)s codes.") % {"max": f"{BATCH_MAX:,}"},
            code="quantity_invalid")
    _ensure_issuable(definition, now)
    batch = CouponBatch.objects.create(definition=definition, quantity=quantity,
                                       note=(note or "").strip()[:200], created_by=actor)
    expires_at = coupon_expiry_for(definition=definition, issued_at=now)
    _bulk_insert([Coupon(definition=definition, batch=batch, code=code, max_uses=1,
                         expires_at=expires_at, issued_by=actor)
                  for code in coupon_codes_new(quantity)])
    return batch


def coupon_batch_rows(batch: CouponBatch) -> list[list[str]]:
    """The batch for printing: a header, then code, value in words, valid until (the
    local date, empty when it never ends), in the order the codes were made."""
    definition = batch.definition
    description = coupon_describe(definition)
    rows = [[_("Code"), _("Value"), _("Valid until")]]
    for coupon in batch.coupons.order_by("pk").only("code", "expires_at", "definition_id"):
        coupon.definition = definition  # the batch's own: no query per code
        ends = coupon_expiry(coupon)
        rows.append([coupon.code, description,
                     timezone.localtime(ends).date().isoformat() if ends else ""])
    return rows


def coupon_batch_csv(batch: CouponBatch) -> str:
    """``coupon_batch_rows`` as CSV text."""
    out = io.StringIO()
    csv.writer(out).writerows(coupon_batch_rows(batch))
    return out.getvalue()


# --- Void ----------------------------------------------------------------------------------


@transaction.atomic
def coupon_void(*, coupon: Coupon, actor: User | None) -> Coupon:
    """Stop a coupon that is still open (status issued: a member's or printed code not yet
    used, or a public code, which then takes no more uses). Locks the row; a used or
    already void coupon is refused (coupon_not_voidable). Written to the admin history."""
    locked = Coupon.objects.select_for_update(of=("self",)).get(pk=coupon.pk)
    if locked.status != CouponStatus.ISSUED:
        raise CouponIssueRefused(
            _("Coupon %(code)s is %(status)s and cannot be voided.")
            % {"code": locked.code, "status": locked.get_status_display()},
            code="coupon_not_voidable")
    locked.status = CouponStatus.VOID
    locked.save(update_fields=["status"])
    if actor is not None and actor.pk is not None:
        LogEntry.objects.log_actions(user_id=actor.pk, queryset=[locked], action_flag=CHANGE,
                                     change_message=[{"changed": {"fields": ["status"]}}],
                                     single_object=True)
    coupon.status = locked.status
    return locked


# --- Birthdays -----------------------------------------------------------------------------


def birthday_matches(today: date, *, prefix: str = "") -> Q:
    """Rows whose birthday is ``today`` (``prefix`` reaches the profile: "profile__");
    Feb 29 birthdays come on Feb 28 in years without a Feb 29."""
    field = f"{prefix}birthday"
    match = Q(**{f"{field}__month": today.month, f"{field}__day": today.day})
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        match |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
    return match
