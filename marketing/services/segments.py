"""Segments: rules stored as data, compiled to one SQL query over members.

The rules are a tree of JSON::

    {"all": [rule_or_group, ...]}     every one holds (AND)
    {"any": [rule_or_group, ...]}     at least one holds (OR)
    {"not": rule_or_group}            it does not hold

and a rule is ``{"rule": <name>, ...its parameters}``:

    tier            {"tiers": [tier ids]}
    gender          {"genders": ["f", "m"]}
    age             {"min": 25, "max": 40}                       (either may be left out)
    birthday        {"days": 30}   birthday within the next N days (0: today), year
                                   ignored, shop time zone
    anniversary     {"days": 30}   the same for the wedding anniversary
    home_store      {"stores": [store ids]}
    bought_at       {"stores": [store ids]}   a paid order at one of these stores
    near_store      {"store": id, "km": 10}   the home store within that distance (its
                                   own coordinates), or the store's city in the
                                   member's default address
    channel         {"channel": "online" | "store" | "both"}   where they bought (paid
                                   orders): online only, in store only, or both
    rfm             {"recency": [1, 5], "frequency": [1, 5], "monetary": [1, 5]}
                                   (each optional: min and max score, computed nightly)
    spend           {"min": "1000", "max": "", "days": 365}   paid in the last N days
    bought          {"categories": [ids], "collections": [ids], "materials": ["gold"]}
                                   bought any piece of them (a category includes its
                                   sub-categories)
    viewed          {"categories": [ids], "collections": [ids], "materials": ["gold"],
                     "days": 30}   viewed (signed in) a piece of them in the last N days
                                   (1 to MARKETING_VIEWS_DAYS, 30 if left out; a category
                                   includes its sub-categories; the roll-up
                                   marketing.MemberView, folded from the page views)
    wishlist        {"products": [ids], "categories": [ids]}   has one in the wishlist
                                   (no ids: anything)
    has_coupon      {"definition": id}   holds an unused, unexpired coupon of it
    consent         {"channel": "email" | "sms"}   an open marketing consent
    not_messaged    {"days": 14}   no marketing message sent in the last N days

``segment_rules_clean`` checks a tree (SegmentInvalid with the reason in words);
``segment_queryset`` compiles it: Q objects, Exists subqueries and expressions on the
member's row, never a loop over members in Python. Only active accounts are members of
a segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import (
    CharField,
    DecimalField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import ACos, Coalesce, Cos, Least, Radians, Sin
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Category, Material, WishlistItem
from members.models import Consent, ConsentChannel, Coupon, CouponStatus, Gender, User
from o2o.errors import ApplicationError
from orders.models import Order, OrderLine
from stores.models import Store

from ..models import MemberView, Segment, Touch, TouchOutcome
from .views import views_kept_days

MAX_DEPTH = 6
MAX_RULES = 40
EARTH_KM = 6371.0


class SegmentInvalid(ApplicationError):
    code = "segment_invalid"


RULES = ("tier", "gender", "age", "birthday", "anniversary", "home_store", "bought_at",
         "near_store", "channel", "rfm", "spend", "bought", "viewed", "wishlist",
         "has_coupon", "consent", "not_messaged")
VIEWED_DAYS = 30  # the "viewed" rule's window when none is given


def _ids(value: Any, what: str) -> list[int]:
    if not isinstance(value, list) or not value or not all(isinstance(v, int) and not isinstance(v, bool)
                                              for v in value):
        raise SegmentInvalid(_("Choose at least one %(what)s.") % {"what": what},
                             code="segment_ids")
    return value


def _whole(value: Any, *, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SegmentInvalid(_("%(what)s must be a whole number from %(low)s to %(high)s.")
                             % {"what": what, "low": low, "high": high}, code="segment_number")
    return value


def _money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise SegmentInvalid(_("An amount must be a number of yuan."),
                             code="segment_amount") from None
    if not amount.is_finite() or amount < 0:
        raise SegmentInvalid(_("An amount must be a number of yuan."), code="segment_amount")
    return amount


def _check_rule(node: dict) -> None:
    name = node.get("rule")
    if name not in RULES:
        raise SegmentInvalid(_("Unknown rule: %(name)s.") % {"name": name}, code="segment_rule")
    if name == "tier":
        _ids(node.get("tiers"), _("tier"))
    elif name == "gender":
        genders = node.get("genders")
        if not isinstance(genders, list) or not genders or not set(genders) <= set(Gender.values):
            raise SegmentInvalid(_("Choose at least one gender."), code="segment_gender")
    elif name == "age":
        if node.get("min") is None and node.get("max") is None:
            raise SegmentInvalid(_("Give a lowest or a highest age."), code="segment_age")
        low = _whole(node.get("min", 0) or 0, low=0, high=120, what=_("The lowest age"))
        high = _whole(node.get("max", 120) if node.get("max") is not None else 120,
                      low=0, high=120, what=_("The highest age"))
        if low > high:
            raise SegmentInvalid(_("The lowest age is above the highest."), code="segment_age")
    elif name in ("birthday", "anniversary"):
        _whole(node.get("days"), low=0, high=365, what=_("The number of days"))
    elif name in ("home_store", "bought_at"):
        _ids(node.get("stores"), _("store"))
    elif name == "near_store":
        _ids([node.get("store")], _("store"))
        _whole(node.get("km"), low=1, high=5000, what=_("The distance in km"))
    elif name == "channel":
        if node.get("channel") not in ("online", "store", "both"):
            raise SegmentInvalid(_("Choose online only, in store only or both."),
                                 code="segment_channel")
    elif name == "rfm":
        given = [key for key in ("recency", "frequency", "monetary") if node.get(key)]
        if not given:
            raise SegmentInvalid(_("Give at least one RFM score range."), code="segment_rfm")
        for key in given:
            pair = node[key]
            if not isinstance(pair, list) or len(pair) != 2:
                raise SegmentInvalid(_("An RFM score range is two scores from 1 to 5."),
                                     code="segment_rfm")
            low = _whole(pair[0], low=1, high=5, what=_("An RFM score"))
            high = _whole(pair[1], low=1, high=5, what=_("An RFM score"))
            if low > high:
                raise SegmentInvalid(_("An RFM score range is two scores from 1 to 5."),
                                     code="segment_rfm")
    elif name == "spend":
        least, most = _money(node.get("min")), _money(node.get("max"))
        if least is None and most is None:
            raise SegmentInvalid(_("Give a lowest or a highest spend."), code="segment_spend")
        if least is not None and most is not None and least > most:
            raise SegmentInvalid(_("The lowest spend is above the highest."),
                                 code="segment_spend")
        _whole(node.get("days", 365), low=1, high=3650, what=_("The number of days"))
    elif name in ("bought", "viewed"):
        _check_pieces(node, code=f"segment_{name}")
        if name == "viewed" and "days" in node:
            kept = views_kept_days()
            days = node["days"]
            if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= kept:
                raise SegmentInvalid(
                    _("Views are kept for %(kept)s days: the number of days must be a whole "
                      "number from 1 to %(kept)s.") % {"kept": kept}, code="segment_days")
    elif name == "wishlist":
        for key, what in (("products", _("product")), ("categories", _("category"))):
            if node.get(key):
                _ids(node[key], what)
    elif name == "has_coupon":
        _ids([node.get("definition")], _("coupon"))
    elif name == "consent":
        if node.get("channel") not in ConsentChannel.values:
            raise SegmentInvalid(_("Choose email or text messages."), code="segment_consent")
    elif name == "not_messaged":
        _whole(node.get("days"), low=1, high=3650, what=_("The number of days"))


def _check_pieces(node: dict, *, code: str) -> None:
    """The pieces of ``bought`` and ``viewed``: categories, collections, materials."""
    materials = node.get("materials") or []
    if not isinstance(materials, list) or not all(isinstance(m, str) for m in materials) \
            or not set(materials) <= set(Material.values):
        raise SegmentInvalid(_("Unknown material."), code="segment_material")
    if not (node.get("categories") or node.get("collections") or materials):
        raise SegmentInvalid(_("Choose a category, a collection or a material."), code=code)
    for key, what in (("categories", _("category")), ("collections", _("collection"))):
        if node.get(key):
            _ids(node[key], what)


def segment_rules_clean(rules: Any) -> dict:
    """``rules`` checked: a group or rule tree as described above. Raises SegmentInvalid
    with the reason in words. An empty tree ({}) is allowed: every active member."""
    if rules in (None, {}, ""):
        return {}
    count = 0

    def walk(node: Any, depth: int) -> None:
        nonlocal count
        if depth > MAX_DEPTH:
            raise SegmentInvalid(_("Groups are nested too deep."), code="segment_depth")
        if not isinstance(node, dict) or len(node) == 0:
            raise SegmentInvalid(_("A rule or group is malformed."), code="segment_malformed")
        if "all" in node or "any" in node:
            children = node.get("all", node.get("any"))
            if not isinstance(children, list) or not children:
                raise SegmentInvalid(_("A group needs at least one rule."),
                                     code="segment_empty_group")
            for child in children:
                walk(child, depth + 1)
        elif "not" in node:
            walk(node["not"], depth + 1)
        else:
            count += 1
            if count > MAX_RULES:
                raise SegmentInvalid(_("A segment has at most %(count)s rules.")
                                     % {"count": MAX_RULES}, code="segment_too_many")
            _check_rule(node)

    walk(rules, 0)
    return rules


# --- Compiling ---------------------------------------------------------------------------


def _to_mmdd(field: str) -> Func:
    """to_char(date, 'MMDD'): the month and day, comparable as text."""
    return Func(F(field), Value("MMDD"), function="to_char", output_field=CharField())


def _within_days(field: str, today: date, days: int) -> Q:
    """The date's month and day fall within ``today`` .. ``today + days`` (year ignored;
    a Feb 29 counts between Feb 28 and Mar 1)."""
    end = today + timedelta(days=days)
    start_s, end_s = today.strftime("%m%d"), end.strftime("%m%d")
    mmdd = _to_mmdd(field)
    not_null = Q(**{f"{field}__isnull": False})
    if days >= 365:
        return not_null
    if start_s <= end_s:
        return not_null & Q(GreaterThanOrEqual(mmdd, start_s)) & Q(LessThanOrEqual(mmdd, end_s))
    return not_null & (Q(GreaterThanOrEqual(mmdd, start_s)) | Q(LessThanOrEqual(mmdd, end_s)))


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # Feb 29
        return today.replace(year=today.year - years, day=28)


def _paid_orders():
    return Order.objects.paid().filter(member=OuterRef("pk"))


def _descendants(category_ids: list[int]) -> list[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found, todo = set(), list(category_ids)
    while todo:
        pk = todo.pop()
        if pk in found:
            continue
        found.add(pk)
        todo += children.get(pk, [])
    return sorted(found)


@dataclass(frozen=True)
class _Context:
    today: date
    now: datetime


def _rule_q(node: dict, ctx: _Context) -> Q:
    name = node["rule"]
    if name == "tier":
        return Q(profile__tier__in=node["tiers"])
    if name == "gender":
        return Q(profile__gender__in=node["genders"])
    if name == "age":
        q = Q(profile__birthday__isnull=False)
        if node.get("min"):
            q &= Q(profile__birthday__lte=_years_before(ctx.today, node["min"]))
        if node.get("max") is not None:
            q &= Q(profile__birthday__gt=_years_before(ctx.today, node["max"] + 1))
        return q
    if name == "birthday":
        return _within_days("profile__birthday", ctx.today, node["days"])
    if name == "anniversary":
        return _within_days("profile__anniversary", ctx.today, node["days"])
    if name == "home_store":
        return Q(profile__home_store__in=node["stores"])
    if name == "bought_at":
        return Q(Exists(_paid_orders().filter(store__in=node["stores"])))
    if name == "near_store":
        return _near_store(node["store"], node["km"])
    if name == "channel":
        online = Exists(_paid_orders().filter(channel="online"))
        store = Exists(_paid_orders().filter(channel="store"))
        return {"online": Q(online) & ~Q(store), "store": Q(store) & ~Q(online),
                "both": Q(online) & Q(store)}[node["channel"]]
    if name == "rfm":
        q = Q()
        for key in ("recency", "frequency", "monetary"):
            if node.get(key):
                low, high = node[key]
                q &= Q(**{f"rfm__{key}__gte": low, f"rfm__{key}__lte": high})
        return q
    if name == "spend":
        since = ctx.now - timedelta(days=node.get("days", 365))
        total = Coalesce(Subquery(
            _paid_orders().filter(placed_at__gte=since).order_by().values("member")
            .annotate(s=Sum("total")).values("s")[:1]),
            Value(Decimal("0")), output_field=DecimalField(max_digits=14, decimal_places=2))
        q = Q()
        if _money(node.get("min")) is not None:
            q &= Q(GreaterThanOrEqual(total, _money(node["min"])))
        if _money(node.get("max")) is not None:
            q &= Q(LessThanOrEqual(total, _money(node["max"])))
        return q
    if name == "bought":
        lines = OrderLine.objects.filter(_pieces_q(node, "variant__product"),
                                         order__member=OuterRef("pk")).exclude(
            order__status__in=["pending_payment", "cancelled"])
        return Q(Exists(lines))
    if name == "viewed":
        since = ctx.now - timedelta(days=node.get("days", VIEWED_DAYS))
        views = MemberView.objects.filter(_pieces_q(node, "product"), member=OuterRef("pk"),
                                          last_viewed_at__gte=since)
        return Q(Exists(views))
    if name == "wishlist":
        items = WishlistItem.objects.filter(user=OuterRef("pk"))
        piece = Q()
        if node.get("products"):
            piece |= Q(product__in=node["products"])
        if node.get("categories"):
            piece |= Q(product__category__in=_descendants(node["categories"]))
        return Q(Exists(items.filter(piece)))
    if name == "has_coupon":
        coupons = Coupon.objects.filter(member=OuterRef("pk"), definition=node["definition"],
                                        status=CouponStatus.ISSUED).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=ctx.now))
        return Q(Exists(coupons))
    if name == "consent":
        return Q(Exists(Consent.objects.filter(member=OuterRef("pk"), channel=node["channel"],
                                               withdrawn_at__isnull=True)))
    if name == "not_messaged":
        since = ctx.now - timedelta(days=node["days"])
        return ~Q(Exists(Touch.objects.filter(member=OuterRef("pk"), outcome=TouchOutcome.SENT,
                                              at__gt=since)))
    raise SegmentInvalid(_("Unknown rule: %(name)s.") % {"name": name}, code="segment_rule")


def _pieces_q(node: dict, product: str) -> Q:
    """A product (reached by the path ``product``) of the node's categories (with their
    sub-categories), collections or materials: any of them."""
    piece = Q()
    if node.get("categories"):
        piece |= Q(**{f"{product}__category__in": _descendants(node["categories"])})
    if node.get("collections"):
        piece |= Q(**{f"{product}__collections__in": node["collections"]})
    if node.get("materials"):
        piece |= Q(**{f"{product}__material__in": node["materials"]})
    return piece


def _near_store(store_id: int, km: int) -> Q:
    store = Store.objects.filter(pk=store_id).values("latitude", "longitude", "city").first()
    if store is None:
        return Q(pk__in=[])
    q = Q(profile__home_store=store_id) | Q(addresses__is_default=True,
                                            addresses__city=store["city"])
    if store["latitude"] is None or store["longitude"] is None:
        return q
    lat, lng = float(store["latitude"]), float(store["longitude"])
    home_lat = Radians(F("profile__home_store__latitude"), output_field=FloatField())
    home_lng = Radians(F("profile__home_store__longitude"), output_field=FloatField())
    cosine = (Sin(home_lat) * Value(math.sin(math.radians(lat)))
              + Cos(home_lat) * Value(math.cos(math.radians(lat)))
              * Cos(home_lng - Value(math.radians(lng))))
    distance = ACos(Least(Value(1.0), cosine, output_field=FloatField()),
                    output_field=FloatField()) * Value(EARTH_KM)
    return q | (Q(profile__home_store__latitude__isnull=False)
                & Q(LessThanOrEqual(distance, float(km))))


def _compile(node: dict, ctx: _Context) -> Q:
    if "all" in node:
        q = Q()
        for child in node["all"]:
            q &= _compile(child, ctx)
        return q
    if "any" in node:
        q = Q(pk__in=[])
        for child in node["any"]:
            q |= _compile(child, ctx)
        return q
    if "not" in node:
        return ~_compile(node["not"], ctx)
    return _rule_q(node, ctx)


def segment_queryset(rules: dict, *, now: datetime | None = None) -> QuerySet[User]:
    """The active members the rules pick: one query (subqueries inside). Raises
    SegmentInvalid for a malformed tree."""
    rules = segment_rules_clean(rules)
    now = now or timezone.now()
    ctx = _Context(today=timezone.localtime(now).date(), now=now)
    members = User.objects.filter(is_active=True, is_staff=False)
    if not rules:
        return members
    if _uses(rules, "near_store"):
        # Its join through addresses may repeat a member: pick the ids first.
        return members.filter(pk__in=User.objects.filter(_compile(rules, ctx)).values("pk"))
    return members.filter(_compile(rules, ctx))


def _uses(node: dict, rule: str) -> bool:
    if "all" in node or "any" in node:
        return any(_uses(child, rule) for child in node.get("all", node.get("any", [])))
    if "not" in node:
        return _uses(node["not"], rule)
    return node.get("rule") == rule


def _rules_of(segment: Segment | dict) -> dict:
    return segment.rules if isinstance(segment, Segment) else segment


def segment_member_ids(segment: Segment | dict, *, now: datetime | None = None) -> QuerySet:
    """The members' ids (a lazy queryset of ints, for ``INSERT ... SELECT`` or ``in``)."""
    return segment_queryset(_rules_of(segment), now=now).values_list("pk", flat=True)


def segment_contains(segment: Segment | dict, member_id: int, *,
                     now: datetime | None = None) -> bool:
    return segment_queryset(_rules_of(segment), now=now).filter(pk=member_id).exists()


def segment_count(segment: Segment | dict, *, now: datetime | None = None) -> int:
    return segment_queryset(_rules_of(segment), now=now).count()


# --- In words (staff screens) -------------------------------------------------------------


def _names(model, ids) -> str:
    rows = model.objects.filter(pk__in=list(ids or []))
    return "、".join(str(row) for row in rows) or "—"


def _rule_words(node: dict) -> str:
    from catalog.models import Collection
    from members.models import CouponDefinition, Tier

    name = node.get("rule")
    if name == "tier":
        return _("tier is %(names)s") % {"names": _names(Tier, node["tiers"])}
    if name == "gender":
        labels = dict(Gender.choices)
        return _("gender is %(names)s") % {
            "names": "、".join(str(labels.get(g, g)) for g in node["genders"])}
    if name == "age":
        return _("aged %(low)s to %(high)s") % {"low": node.get("min") or 0,
                                               "high": node.get("max") or "∞"}
    if name == "birthday":
        return _("birthday within the next %(days)s days") % {"days": node["days"]}
    if name == "anniversary":
        return _("wedding anniversary within the next %(days)s days") % {"days": node["days"]}
    if name == "home_store":
        return _("home store is %(names)s") % {"names": _names(Store, node["stores"])}
    if name == "bought_at":
        return _("bought at %(names)s") % {"names": _names(Store, node["stores"])}
    if name == "near_store":
        return _("lives within %(km)s km of %(store)s") % {
            "km": node["km"], "store": _names(Store, [node["store"]])}
    if name == "channel":
        return {"online": _("bought online only"), "store": _("bought in store only"),
                "both": _("bought online and in store")}[node["channel"]]
    if name == "rfm":
        parts = [f"{label} {node[key][0]}–{node[key][1]}" for key, label in
                 (("recency", _("recency")), ("frequency", _("frequency")),
                  ("monetary", _("monetary value"))) if node.get(key)]
        return _("RFM scores: %(parts)s") % {"parts": ", ".join(parts)}
    if name == "spend":
        return _("spent %(low)s to %(high)s yuan in the last %(days)s days") % {
            "low": node.get("min") or 0, "high": node.get("max") or "∞",
            "days": node.get("days", 365)}
    if name in ("bought", "viewed"):
        labels = dict(Material.choices)
        things = "、".join(t for t in (
            _names(Category, node.get("categories")) if node.get("categories") else "",
            _names(Collection, node.get("collections")) if node.get("collections") else "",
            "、".join(str(labels.get(m, m)) for m in node.get("materials") or [])) if t)
        if name == "bought":
            return _("bought %(things)s") % {"things": things}
        return _("viewed %(things)s in the last %(days)s days") % {
            "things": things, "days": node.get("days", VIEWED_DAYS)}
    if name == "wishlist":
        if node.get("categories"):
            return _("has %(names)s in the wishlist") % {
                "names": _names(Category, node["categories"])}
        return _("has something in the wishlist")
    if name == "has_coupon":
        return _("holds an unused “%(name)s” coupon") % {
            "name": _names(CouponDefinition, [node["definition"]])}
    if name == "consent":
        return (_("agreed to marketing emails") if node["channel"] == "email"
                else _("agreed to marketing text messages"))
    if name == "not_messaged":
        return _("not messaged in the last %(days)s days") % {"days": node["days"]}
    return str(name)


def segment_describe(rules: dict) -> str:
    """The rules as a sentence for staff screens ("tier is 金卡 and birthday within...")."""
    if not rules:
        return _("every member")

    def words(node: dict) -> str:
        if "all" in node:
            return (" " + _("and") + " ").join(words(child) for child in node["all"])
        if "any" in node:
            inner = (" " + _("or") + " ").join(words(child) for child in node["any"])
            return f"({inner})" if len(node["any"]) > 1 else inner
        if "not" in node:
            return _("not %(rule)s") % {"rule": words(node["not"])}
        return _rule_words(node)

    return words(rules)
