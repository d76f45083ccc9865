"""Publishing a journey's steps as a frozen version, and moving members between versions."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import User
from o2o.errors import ApplicationError

from ..models import (
    CouponFrom,
    EnrolmentStatus,
    Journey,
    JourneyEnrolment,
    JourneyStep,
    JourneyVersion,
    StepKind,
    WaitUntil,
)


class JourneyInvalid(ApplicationError):
    code = "journey_invalid"


CHANNELS = ("inbox", "email", "sms")


def step_as_data(step: JourneyStep) -> dict[str, Any]:
    from ..builtins import _as_data

    return _as_data(step)


def steps_check(steps: list[JourneyStep]) -> None:
    """Raises JourneyInvalid with a sentence for a step that cannot run."""
    for step in steps:
        where = _("Step %(n)s: ") % {"n": step.position}
        if step.kind == StepKind.SEND:
            channels = [c.strip() for c in step.channels.split(",") if c.strip()]
            unknown = [c for c in channels if c not in CHANNELS]
            if not channels or unknown:
                raise JourneyInvalid(where + _("choose channels among inbox, email and sms."),
                                     code="bad_channels")
            if not (step.title_zh or step.body_zh or step.sms_zh):
                raise JourneyInvalid(where + _("write the message in Chinese."),
                                     code="no_message")
            if step.coupon_from == CouponFrom.DEFINITION and step.coupon_definition_id is None:
                raise JourneyInvalid(where + _("choose the coupon to give."), code="no_coupon")
            if step.link and not step.link.startswith("/"):
                raise JourneyInvalid(where + _("a link is a path on the shop, starting with /."),
                                     code="bad_link")
        elif step.kind == StepKind.WAIT:
            if step.wait_until == WaitUntil.DAYS and step.wait_days < 0:
                raise JourneyInvalid(where + _("a wait of days cannot be negative."),
                                     code="bad_wait")
        elif step.kind == StepKind.BRANCH and not step.condition:
            raise JourneyInvalid(where + _("choose a condition."), code="no_condition")


def journey_publish(*, journey: Journey, actor: User | None = None) -> JourneyVersion:
    """Freeze the journey's steps as its next version and make it current. Members
    already in the journey stay on the version they entered. Clears a pause (the
    marketer has fixed the steps). Raises JourneyInvalid."""
    with transaction.atomic():
        locked = Journey.objects.select_for_update().get(pk=journey.pk)
        steps = list(locked.steps.order_by("position"))
        steps_check(steps)
        data = [step_as_data(step) for step in steps]
        current = locked.current_version
        if current is not None and current.steps == data:
            return current
        number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = JourneyVersion.objects.create(journey=locked, number=number, steps=data,
                                                created_by=actor)
        locked.current_version = version
        locked.paused_reason = ""
        locked.save(update_fields=["current_version", "paused_reason", "updated_at"])
    journey.current_version = version
    journey.paused_reason = ""
    return version


def enrolments_move_to_current(*, journey: Journey) -> int:
    """The explicit action: members in progress move to the current version, at the
    same step number (capped at its last step). Returns how many moved."""
    version = journey.current_version
    if version is None:
        raise JourneyInvalid(_("The journey has no published version."), code="no_version")
    last = max(len(version.steps) - 1, 0)
    with transaction.atomic():
        moved = 0
        for enrolment in (JourneyEnrolment.objects.select_for_update(skip_locked=True)
                          .filter(journey=journey, status=EnrolmentStatus.ACTIVE)
                          .exclude(version=version).order_by("pk")):
            enrolment.version = version
            enrolment.step_index = min(enrolment.step_index, last)
            enrolment.save(update_fields=["version", "step_index"])
            moved += 1
    return moved


def journey_resume(*, journey: Journey, actor: User | None = None) -> JourneyVersion:
    """After the marketer fixed what paused it: publish the steps (checked again) and
    clear the pause, also when the steps did not change. Raises JourneyInvalid."""
    version = journey_publish(journey=journey, actor=actor)
    Journey.objects.filter(pk=journey.pk).update(paused_reason="")
    journey.paused_reason = ""
    return version


def journeys_switch(*, journeys: QuerySet[Journey], enabled: bool) -> int:
    """Switch journeys on or off; a journey without a published version stays off.
    Returns how many were switched."""
    if enabled:
        journeys = journeys.filter(current_version__isnull=False)
    return journeys.update(is_enabled=enabled, updated_at=timezone.now())


def journey_pause(*, journey: Journey, reason: str) -> None:
    Journey.objects.filter(pk=journey.pk).update(paused_reason=reason[:200])
    journey.paused_reason = reason[:200]
