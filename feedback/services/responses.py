"""Answers: saved as the shopper goes, final once submitted, one response per invitation.

``response_save`` locks the invitation's row first, so two submits at once (a double
click, two tabs, the page and the API) take turns: the first writes, the second finds the
response submitted and is told so (AlreadyAnswered, 409). The response's UNIQUE
invitation is the last word even without the lock. Bad answers (a score out of range,
an unknown question or choice, text too long, a required answer missing at submit) are
refused whole: AnswersInvalid with the problem of each question, nothing written.

A submitted response that is unhappy (NPS 0-6, a rating of 1 or 2, or a choice marked
"alerts the store") opens a follow-up case in the same transaction
(feedback.services.cases.case_open), whose alert emails are outbox rows due now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import AlreadyAnswered, AnswersInvalid, SurveyClosed, SurveyExpired
from ..models import (
    TEXT_MAX,
    Answer,
    Question,
    QuestionKind,
    SurveyInvitation,
    SurveyResponse,
)
from ..selectors import version_questions
from .cases import case_open

Q = QuestionKind
DETRACTOR_NPS = 6  # 0-6
DETRACTOR_RATING = 2  # 1-2


@dataclass(frozen=True)
class Given:
    """One cleaned answer; ``empty`` clears a saved one."""

    question: Question
    score: int | None = None
    choices: tuple[str, ...] = ()
    text: str = ""

    @property
    def empty(self) -> bool:
        return self.score is None and not self.choices and not self.text


@dataclass
class _Problems:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, message: str) -> None:
        self.fields.setdefault(key, []).append(message)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _score(question: Question, value: Any, problems: _Problems) -> int | None:
    low, high = question.score_range
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not low <= value <= high:
        problems.add(str(question.pk), _("Choose a whole number from %(low)s to %(high)s.")
                     % {"low": low, "high": high})
        return None
    return value


def _choices(question: Question, value: Any, problems: _Problems) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        problems.add(str(question.pk), _("Choose from the answers offered."))
        return ()
    known = {c.value for c in question.choices.all()}
    chosen = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    if any(v not in known for v in chosen):
        problems.add(str(question.pk), _("Choose from the answers offered."))
        return ()
    if question.kind == Q.SINGLE and len(chosen) > 1:
        problems.add(str(question.pk), _("Choose one answer."))
        return ()
    return chosen


def _text(question: Question, value: Any, problems: _Problems) -> str:
    if not isinstance(value, str):
        problems.add(str(question.pk), _("Write your answer as text."))
        return ""
    text = value.replace("\x00", "").strip()
    if len(text) > TEXT_MAX:
        problems.add(str(question.pk), _("Please keep it under %(max)s characters (this is "
                                         "%(length)s).") % {"max": TEXT_MAX,
                                                            "length": len(text)})
        return ""
    return text


def answers_clean(*, questions: list[Question], answers: Mapping[Any, Any]) -> list[Given]:
    """Check ``answers`` ({question id: value}; ints or strings for scores, a value or a
    list of values for choices, a string for text) against the version's questions.
    Raises AnswersInvalid naming each problem; a blank value means "no answer"."""
    if not isinstance(answers, Mapping):
        raise AnswersInvalid(_("Send the answers as {question id: answer}."),
                             extra={"fields": {}})
    by_id = {str(q.pk): q for q in questions}
    problems = _Problems()
    cleaned: list[Given] = []
    for key, value in answers.items():
        question = by_id.get(str(key))
        if question is None:
            problems.add(str(key), _("There is no such question in this survey."))
            continue
        if _blank(value):
            cleaned.append(Given(question=question))
        elif question.score_range:
            cleaned.append(Given(question=question, score=_score(question, value, problems)))
        elif question.has_choices:
            cleaned.append(Given(question=question, choices=_choices(question, value, problems)))
        else:
            cleaned.append(Given(question=question, text=_text(question, value, problems)))
    if problems.fields:
        raise AnswersInvalid(_("Please check the answers marked."),
                             extra={"fields": problems.fields})
    return cleaned


def invitation_check_open(invitation: SurveyInvitation, *, now: datetime) -> None:
    """Raise SurveyClosed (the survey was switched off) or SurveyExpired (too late)."""
    if not invitation.version.survey.is_active:
        raise SurveyClosed(_("This survey has closed. Thank you all the same."))
    if invitation.is_expired(now):
        raise SurveyExpired(_("The time to answer this survey is over. Thank you all the "
                              "same."))


def invitation_opened(*, invitation: SurveyInvitation, now: datetime | None = None) -> None:
    """The link was opened (first time only; one conditional UPDATE)."""
    SurveyInvitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
        opened_at=now or timezone.now())


def _summarise(response: SurveyResponse, answers: list[Answer],
               questions: dict[int, Question]) -> None:
    """The response's scores, tags, words and whether it is unhappy, from its answers."""
    nps = None
    ratings: list[int] = []
    tags: list[str] = []
    words: list[str] = []
    alerting = False
    for answer in sorted(answers, key=lambda a: (questions[a.question_id].position,
                                                 a.question_id)):
        question = questions[answer.question_id]
        if question.kind == Q.NPS and answer.score is not None and nps is None:
            nps = answer.score
        elif question.kind == Q.RATING and answer.score is not None:
            ratings.append(answer.score)
        elif question.has_choices:
            tags += [v for v in answer.choices if v not in tags]
            alerting |= any(c.alerts for c in question.choices.all() if c.value in answer.choices)
        elif question.kind == Q.TEXT and answer.text:
            words.append(answer.text)
    response.nps = nps
    response.rating = (Decimal(sum(ratings)) / len(ratings)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP) if ratings else None
    response.tags = tags
    response.comment = "\n\n".join(words)
    response.detractor = ((nps is not None and nps <= DETRACTOR_NPS)
                          or any(r <= DETRACTOR_RATING for r in ratings) or alerting)


def _missing_required(questions: list[Question], answered: set[int]) -> dict[str, list[str]]:
    return {str(q.pk): [_("Please answer this question.")]
            for q in questions if q.required and q.pk not in answered}


@transaction.atomic
def response_save(*, invitation: SurveyInvitation, answers: Mapping[Any, Any],
                  submit: bool = False, now: datetime | None = None) -> SurveyResponse:
    """Save ``answers`` to ``invitation`` (merged into what was saved before); with
    ``submit`` the response becomes final, and an unhappy one opens a case.

    Locks the invitation row (then the response, then the case). Raises SurveyClosed /
    SurveyExpired (410), AlreadyAnswered (409) once submitted, AnswersInvalid (400):
    nothing is written then."""
    now = now or timezone.now()
    locked = (SurveyInvitation.objects.select_for_update(of=("self",))
              .select_related("version__survey").get(pk=invitation.pk))
    invitation_check_open(locked, now=now)
    response = SurveyResponse.objects.filter(invitation=locked).first()
    if response is not None and response.submitted_at is not None:
        raise AlreadyAnswered(_("We already have your answers. Thank you!"))
    questions = version_questions(locked.version)
    given = answers_clean(questions=questions, answers=answers)
    if response is None:
        response = SurveyResponse.objects.create(
            invitation=locked, version=locked.version, trigger=locked.trigger,
            channel=locked.channel, store=locked.store, staff_id=locked.staff_id,
            member=locked.member, started_at=now, updated_at=now)
    saved = {a.question_id: a for a in response.answers.all()}
    cleared = [g.question.pk for g in given if g.empty and g.question.pk in saved]
    if cleared:
        Answer.objects.filter(response=response, question_id__in=cleared).delete()
    new, changed = [], []
    for item in given:
        if item.empty:
            saved.pop(item.question.pk, None)
            continue
        answer = saved.get(item.question.pk)
        if answer is None:
            answer = saved[item.question.pk] = Answer(response=response, question=item.question)
            new.append(answer)
        else:
            changed.append(answer)
        answer.score, answer.choices, answer.text = item.score, list(item.choices), item.text
    if new:
        Answer.objects.bulk_create(new)
    if changed:
        Answer.objects.bulk_update(changed, ["score", "choices", "text"])
    if submit:
        if not saved:
            raise AnswersInvalid(_("Please answer at least one question."),
                                 extra={"fields": {}})
        missing = _missing_required(questions, set(saved))
        if missing:
            raise AnswersInvalid(_("Please answer the questions marked."),
                                 extra={"fields": missing})
    _summarise(response, list(saved.values()), {q.pk: q for q in questions})
    response.updated_at = now
    fields = ["nps", "rating", "tags", "comment", "detractor", "updated_at"]
    if submit:
        response.submitted_at = now
        fields.append("submitted_at")
    response.save(update_fields=fields)
    if submit and response.detractor:
        case_open(response=response, now=now)
    return response


def responses_finalize_stale(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Beat: answers left half way count as given once untouched for
    FEEDBACK_PARTIAL_FINAL_MINUTES (an unhappy one then opens its case); a page opened
    with nothing answered is not a response. One short transaction per batch; rows
    locked by a shopper saving right now are skipped until the next run. Idempotent.
    Returns how many."""
    now = now or timezone.now()
    idle = now - timedelta(minutes=settings.FEEDBACK_PARTIAL_FINAL_MINUTES)
    done = 0
    while True:
        with transaction.atomic():
            stale = list(
                SurveyResponse.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(submitted_at__isnull=True, updated_at__lte=idle)
                .filter(Exists(Answer.objects.filter(response=OuterRef("pk"))))
                .order_by("pk")[:batch_size])
            for response in stale:
                response.submitted_at = now
                response.save(update_fields=["submitted_at"])
                if response.detractor:
                    case_open(response=response, now=now)
                done += 1
        if len(stale) < batch_size:
            return done
