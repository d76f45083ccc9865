"""Reads: per-journey figures, a member's alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from members.models import User

from .models import EnrolmentStatus, GoldPriceAlert, Journey, JourneyEnrolment


@dataclass(frozen=True)
class JourneyFigures:
    entered: int
    in_progress: int
    completed: int
    exited: int
    exited_by_reason: dict[str, int]
    holdout: int
    messages_sent: int
    attribution: Any = None  # marketing.selectors.attribution's answer, when it is there
    by_version: dict[int, int] = field(default_factory=dict)


def journey_figures(*, journey: Journey, window_days: int | None = None) -> JourneyFigures:
    rows = JourneyEnrolment.objects.filter(journey=journey)
    totals = rows.aggregate(
        entered=Count("pk"),
        in_progress=Count("pk", filter=Q(status=EnrolmentStatus.ACTIVE)),
        completed=Count("pk", filter=Q(status=EnrolmentStatus.COMPLETED)),
        exited=Count("pk", filter=Q(status=EnrolmentStatus.EXITED)),
        holdout=Count("pk", filter=Q(holdout=True)),
        sent=Sum("messages_sent"))
    reasons = dict(rows.filter(status=EnrolmentStatus.EXITED).values("exit_reason")
                   .annotate(n=Count("pk")).values_list("exit_reason", "n"))
    by_version = dict(rows.values("version__number").annotate(n=Count("pk"))
                      .values_list("version__number", "n"))
    return JourneyFigures(
        entered=totals["entered"] or 0, in_progress=totals["in_progress"] or 0,
        completed=totals["completed"] or 0, exited=totals["exited"] or 0,
        exited_by_reason=reasons, holdout=totals["holdout"] or 0,
        messages_sent=totals["sent"] or 0,
        attribution=journey_attribution(journey=journey, window_days=window_days),
        by_version=by_version)


def journey_attribution(*, journey: Journey, window_days: int | None = None) -> Any:
    """Campaigns' attribution of the journey's touches (issue 15): audience, sent,
    opened, clicked, coupons redeemed online and per store, revenue, lift with its 95%
    interval. None before that pipeline is there."""
    from marketing import selectors as marketing_selectors

    attribution = getattr(marketing_selectors, "attribution", None)
    if attribution is None:
        return None
    from .services.engine import SOURCE

    return attribution(source=SOURCE, source_id=journey.pk, window_days=window_days)


def gold_alerts_of(*, member: User) -> QuerySet[GoldPriceAlert]:
    return GoldPriceAlert.objects.filter(member=member).order_by("fired_at", "-created_at")


@dataclass(frozen=True)
class Promises:
    """What the sign-up page may promise: only what a running journey does."""

    welcome_gift: bool
    birthday_gift: bool
    anniversary: bool


def shop_promises() -> Promises:
    from members.models import Tier
    from members.selectors import coupon_definitions_active

    running = {j.key: j for j in Journey.objects.filter(is_enabled=True, paused_reason="",
                                                         current_version__isnull=False)
               .select_related("current_version")}

    def gives_coupon(key: str) -> bool:
        journey = running.get(key)
        return journey is not None and any(
            step.get("kind") == "send" and step.get("coupon_definition_id")
            for step in journey.current_version.steps)  # type: ignore[union-attr]

    birthday = running.get("birthday")
    every_tier_gift = False
    if birthday is not None:
        tiers = set(Tier.objects.values_list("pk", flat=True))
        gifted = set(coupon_definitions_active().filter(birthday_tiers__isnull=False)
                     .values_list("birthday_tiers", flat=True))
        every_tier_gift = bool(tiers) and tiers <= gifted
    return Promises(welcome_gift=gives_coupon("welcome"), birthday_gift=every_tier_gift,
                    anniversary="anniversary" in running)


def care_booking_path(*, member: User) -> str:
    """/try-on/book/ with the store and pieces of the member's latest care reminder."""
    from urllib.parse import urlencode

    from stores.models import Store

    from .models import Trigger

    enrolment = (JourneyEnrolment.objects.filter(member=member,
                                                 journey__trigger=Trigger.HANDED_OVER)
                 .order_by("-entered_at").first())
    base = "/try-on/book/"
    if enrolment is None:
        return base
    context = enrolment.context or {}
    store_id = context.get("store_id")
    code = (Store.objects.filter(pk=store_id).values_list("code", flat=True).first()
            if store_id else None)
    query = ([("store", code)] if code else []) + [
        ("variant", str(v)) for v in context.get("variant_ids") or []]
    return f"{base}?{urlencode(query)}" if query else base
