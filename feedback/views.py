"""The survey page: opened from the invitation's signed link, no sign-in, phone first.

GET shows the questions with what was saved before (a score chosen in the email is
preselected: ``?q<id>=<n>``). POST saves: "Send" submits (once; then the thank-you page),
"Save and finish later" keeps what is there; the page's script saves each change as it is
made (``X-Autosave: 1``, answered in JSON). Every write is feedback.services.response_save;
its refusals become a page that says what happened (or JSON for the script): an altered
link 404, a closed or expired survey 410, answers already in 409, bad answers 400 with
the form again. Never cached: the page is one shopper's.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from o2o.errors import ApplicationError

from .errors import AlreadyAnswered, AnswersInvalid, LinkInvalid, SurveyClosed, SurveyExpired
from .models import Question, QuestionKind, SurveyInvitation, SurveyResponse
from .selectors import answers_by_question, invitation_from_token, response_of, version_questions
from .services import answers_clean, invitation_check_open, invitation_opened, response_save


def _posted(request, questions: list[Question]) -> dict[str, object]:
    """The form's answers as {question id: value} (an absent field: no answer)."""
    answers: dict[str, object] = {}
    for question in questions:
        name = f"q{question.pk}"
        if question.kind == QuestionKind.MULTIPLE:
            answers[str(question.pk)] = request.POST.getlist(name)
        else:
            answers[str(question.pk)] = request.POST.get(name, "")
    return answers


def _saved_values(response: SurveyResponse | None) -> dict[int, object]:
    values: dict[int, object] = {}
    for question_id, answer in answers_by_question(response).items():
        if answer.score is not None:
            values[question_id] = answer.score
        elif answer.choices:
            values[question_id] = list(answer.choices)
        else:
            values[question_id] = answer.text
    return values


def _preselected(request, questions: list[Question]) -> dict[int, object]:
    """A score the shopper clicked in the email (``?q12=9``), when it is a valid one."""
    values: dict[int, object] = {}
    for question in questions:
        raw = request.GET.get(f"q{question.pk}")
        if raw is None or not question.score_range:
            continue
        try:
            (given,) = answers_clean(questions=[question], answers={question.pk: raw})
        except AnswersInvalid:
            continue
        values[question.pk] = given.score
    return values


def _rows(questions: list[Question], values: dict[int, object],
          errors: dict[str, list[str]] | None = None) -> list[dict]:
    rows = []
    for question in questions:
        value = values.get(question.pk)
        low_high = question.score_range
        rows.append({
            "question": question, "name": f"q{question.pk}", "value": value,
            "chosen": value if isinstance(value, list) else [value] if value else [],
            "scores": range(low_high[0], low_high[1] + 1) if low_high else [],
            "errors": (errors or {}).get(str(question.pk), []),
        })
    return rows


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, f"feedback/{template}.html", context, status=status)


def _closed(request, invitation: SurveyInvitation | None, error: ApplicationError):
    return _page(request, "closed", {"invitation": invitation, "message": error.message,
                                     "code": error.code}, status=error.status)


def _thanks(request, invitation: SurveyInvitation, response: SurveyResponse | None, *,
            again: bool = False, status: int = 200):
    review = (settings.FEEDBACK_REVIEW_URL if response is not None and response.nps is not None
              and response.nps >= 9 else "")
    return _page(request, "thanks", {"invitation": invitation, "response": response,
                                     "again": again, "review_url": review,
                                     "thanks": invitation.version.thanks_text}, status=status)


def _form(request, invitation, questions, values, *, errors=None, message="", status=200):
    return _page(request, "survey", {
        "invitation": invitation, "store": invitation.store,
        "intro": invitation.version.intro_text, "rows": _rows(questions, values, errors),
        "failed": errors is not None, "message": message,
        "review_url": settings.FEEDBACK_REVIEW_URL,
    }, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    autosave = request.headers.get("X-Autosave") == "1"
    try:
        invitation = invitation_from_token(token)
    except LinkInvalid as error:
        return JsonResponse(error.as_dict(), status=404) if autosave else _closed(request, None, error)
    now = timezone.now()
    response = response_of(invitation)
    if response is not None and response.submitted_at is not None and request.method == "GET":
        return _thanks(request, invitation, response)
    try:
        invitation_check_open(invitation, now=now)
    except (SurveyClosed, SurveyExpired) as error:
        return JsonResponse(error.as_dict(), status=error.status) if autosave else _closed(
            request, invitation, error)
    questions = version_questions(invitation.version)
    if request.method == "GET":
        invitation_opened(invitation=invitation, now=now)
        values = {**_preselected(request, questions), **_saved_values(response)}
        return _form(request, invitation, questions, values)

    submit = request.POST.get("action") == "submit" and not autosave
    answers = _posted(request, questions)
    try:
        response = response_save(invitation=invitation, answers=answers, submit=submit, now=now)
    except AlreadyAnswered as error:
        if autosave:
            return JsonResponse(error.as_dict(), status=error.status)
        return _thanks(request, invitation, response_of(invitation), again=True,
                       status=error.status)
    except (SurveyClosed, SurveyExpired) as error:
        return JsonResponse(error.as_dict(), status=error.status) if autosave else _closed(
            request, invitation, error)
    except AnswersInvalid as error:
        if autosave:
            return JsonResponse(error.as_dict(), status=error.status)
        values = {q.pk: answers.get(str(q.pk)) for q in questions}
        return _form(request, invitation, questions, values,
                     errors=error.extra.get("fields") or {},
                     message=error.message, status=error.status)
    if autosave:
        return JsonResponse({"saved": True, "submitted": False})
    if submit:
        return redirect(request.path)
    return _form(request, invitation, questions, _saved_values(response_of(invitation)),
                 message=_("Saved. You can come back with the same link and finish later."))
