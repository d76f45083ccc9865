"""Survey definitions: versions are drafted, edited, then published and frozen.

A published version never changes (the database refuses it: feedback/migrations/0001's
triggers), so an answer always means what its question said. To change a survey, make a
new draft (a copy of the newest version, questions and choices included), edit it, and
publish it: new invitations get it, invitations already sent keep theirs.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import User

from ..errors import SurveyEditRefused
from ..models import CHOICE_KINDS, Choice, Question, Survey, SurveyVersion


@transaction.atomic
def survey_version_draft(*, survey: Survey, actor: User | None) -> SurveyVersion:
    """The survey's draft: the one in progress, or a new one copied from the newest
    version (texts, questions, choices). Locks the survey row, so two clicks make one."""
    locked = Survey.objects.select_for_update().get(pk=survey.pk)
    draft = locked.versions.filter(published_at__isnull=True).first()
    if draft is not None:
        return draft
    latest = locked.versions.order_by("-number").first()
    number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = SurveyVersion.objects.create(
        survey=locked, number=number, created_by=actor,
        intro=latest.intro if latest else "", intro_en=latest.intro_en if latest else "",
        thanks=latest.thanks if latest else "", thanks_en=latest.thanks_en if latest else "")
    if latest is not None:
        for question in latest.questions.order_by("position", "pk").prefetch_related("choices"):
            copy = Question.objects.create(
                version=draft, position=question.position, kind=question.kind,
                code=question.code, text=question.text, text_en=question.text_en,
                required=question.required)
            Choice.objects.bulk_create([
                Choice(question=copy, position=c.position, value=c.value, label=c.label,
                       label_en=c.label_en, alerts=c.alerts) for c in question.choices.all()])
    return draft


def survey_version_problems(version: SurveyVersion) -> list[str]:
    """What keeps a draft from being published, in words (empty: ready)."""
    problems = []
    questions = list(version.questions.prefetch_related("choices"))
    if not questions:
        problems.append(_("Add at least one question."))
    for question in questions:
        if question.kind in CHOICE_KINDS and len(question.choices.all()) < 2:
            problems.append(_("“%(question)s” needs at least two answers to choose from.")
                            % {"question": question.text})
    return problems


@transaction.atomic
def survey_version_publish(*, version: SurveyVersion, actor: User | None,
                           now: datetime | None = None) -> SurveyVersion:
    """Publish a draft: from now on new invitations get it, and it is frozen. Raises
    SurveyEditRefused when it is published already or not ready (the reasons named)."""
    locked = SurveyVersion.objects.select_for_update().get(pk=version.pk)
    if locked.published_at is not None:
        raise SurveyEditRefused(_("Version %(number)s is published already.") % {
            "number": locked.number}, code="survey_version_published")
    problems = survey_version_problems(locked)
    if problems:
        raise SurveyEditRefused(" ".join(problems), code="survey_version_incomplete")
    locked.published_at = now or timezone.now()
    locked.published_by = actor
    locked.save(update_fields=["published_at", "published_by"])
    return locked
