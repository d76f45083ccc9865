"""The member's surveys under /api/v1/ (for a mini-program): the same services as the page.

    GET  surveys/                  the signed-in member's surveys waiting for answers
    GET  surveys/<id>/             one of them, with its questions and what is saved
    POST surveys/<id>/answers/     save answers ({"answers": {question id: answer},
                                   "submit": true to send them})

Session authentication; POST needs the CSRF token (X-CSRFToken). Errors: 400
``answers_invalid`` with ``fields`` ({question id: [problems]}), 403 not signed in, 404
``not_found`` (no such invitation of theirs), 409 ``already_answered``, 410
``survey_expired`` / ``survey_closed``; nothing is saved then.
"""

from __future__ import annotations

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from o2o.errors import NotFoundError

from .emails import survey_link
from .errors import AnswersInvalid
from .models import Question, SurveyInvitation
from .selectors import (
    answers_by_question,
    invitations_pending_for,
    response_of,
    version_questions,
)
from .services import invitation_check_open, response_save

TAGS = ["surveys"]


class SurveyChoiceSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="What to send as the answer")
    label = serializers.CharField(help_text="In the request's language")


class SurveyQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The key of its answer in POST .../answers/")
    code = serializers.CharField(help_text="The same across the survey's versions")
    kind = serializers.ChoiceField(choices=["nps", "rating", "single", "multiple", "text"])
    text = serializers.CharField(help_text="In the request's language")
    required = serializers.BooleanField()
    min = serializers.IntegerField(allow_null=True, help_text="Scores: 0 (NPS) or 1 (rating)")
    max = serializers.IntegerField(allow_null=True, help_text="Scores: 10 (NPS) or 5 (rating)")
    choices = SurveyChoiceSerializer(many=True, help_text="Single and multiple choice only")


class SurveyStoreSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class SurveySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The invitation")
    trigger = serializers.CharField(help_text="pickup, delivery, counter, tryon or ticket")
    about = serializers.CharField(help_text="What it asks about, in words")
    reference = serializers.CharField(help_text="The order, try-on or ticket number")
    store = SurveyStoreSerializer(allow_null=True)
    occurred_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="Answers are taken until then")
    intro = serializers.CharField()
    link = serializers.URLField(help_text="The same survey as a web page (no sign-in)")
    questions = SurveyQuestionSerializer(many=True)
    answers = serializers.DictField(help_text="What is saved so far: {question id: answer}")
    submitted = serializers.BooleanField()


class SurveyAnswersSerializer(serializers.Serializer):
    answers = serializers.DictField(
        help_text="{question id: answer}: a whole number for nps (0-10) and rating (1-5), "
                  "a choice's value for single, a list of values for multiple, text "
                  "(at most 2,000 characters) for text; null or empty clears a saved answer")
    submit = serializers.BooleanField(default=False, help_text="True sends the answers "
                                                               "(once); false saves them")


class SurveyErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField(help_text="For people, in the request's language")
    fields = serializers.DictField(required=False,
                                   help_text="answers_invalid: {question id: [problems]}")


def _answer_value(answer):
    if answer.score is not None:
        return answer.score
    if answer.choices:
        return list(answer.choices)
    return answer.text


def _question(question: Question) -> dict:
    low_high = question.score_range
    return {
        "id": question.pk, "code": question.code, "kind": question.kind,
        "text": question.title, "required": question.required,
        "min": low_high[0] if low_high else None, "max": low_high[1] if low_high else None,
        "choices": [{"value": c.value, "label": c.title} for c in question.choices.all()],
    }


def survey_payload(invitation: SurveyInvitation) -> dict:
    response = response_of(invitation)
    store = invitation.store
    return {
        "id": invitation.pk, "trigger": invitation.trigger,
        "about": str(invitation.get_trigger_display()), "reference": invitation.reference,
        "store": {"code": store.code, "name": store.title} if store else None,
        "occurred_at": invitation.occurred_at, "expires_at": invitation.expires_at,
        "intro": invitation.version.intro_text, "link": survey_link(invitation),
        "questions": [_question(q) for q in version_questions(invitation.version)],
        "answers": {str(k): _answer_value(a) for k, a in answers_by_question(response).items()},
        "submitted": bool(response and response.submitted_at),
    }


def _mine(request, pk: int) -> SurveyInvitation:
    invitation = (SurveyInvitation.objects.select_related("version__survey", "store")
                  .filter(pk=pk, member=request.user, due_at__lte=timezone.now()).first())
    if invitation is None:
        raise NotFoundError(_("There is no such survey for you."))
    return invitation


_ERRORS = {
    403: OpenApiResponse(description="Not signed in (or no CSRF token for POST)"),
    404: OpenApiResponse(SurveyErrorSerializer, description="not_found: no such survey of yours"),
}


class PendingSurveysView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="My surveys waiting for answers, newest first",
                   responses={200: SurveySerializer(many=True), **_ERRORS}, tags=TAGS)
    def get(self, request):
        invitations = invitations_pending_for(member=request.user)[:20]
        return Response(SurveySerializer([survey_payload(i) for i in invitations],
                                         many=True).data)


class SurveyView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="One of my surveys, with its questions and what is saved",
                   responses={200: SurveySerializer, **_ERRORS,
                              410: OpenApiResponse(SurveyErrorSerializer, description=(
                                  "survey_expired or survey_closed: no more answers"))},
                   tags=TAGS)
    def get(self, request, pk: int):
        invitation = _mine(request, pk)
        response = response_of(invitation)
        if response is None or response.submitted_at is None:  # sent ones stay readable
            invitation_check_open(invitation, now=timezone.now())
        return Response(SurveySerializer(survey_payload(invitation)).data)


class SurveyAnswersView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Save or send my answers",
        description="Answers are merged into what was saved; ``submit: true`` sends them, "
                    "once (an unhappy answer alerts the store). Bad input: 400 "
                    "answers_invalid naming each question's problem, nothing saved.",
        request=SurveyAnswersSerializer,
        examples=[OpenApiExample("Send", value={"answers": {"12": 9, "13": ["staff"],
                                                            "14": "很专业"}, "submit": True})],
        responses={200: SurveySerializer,
                   400: OpenApiResponse(SurveyErrorSerializer, description=(
                       "answers_invalid: a score out of range, an unknown question or "
                       "choice, text over 2,000 characters, a required answer missing")),
                   **_ERRORS,
                   409: OpenApiResponse(SurveyErrorSerializer, description=(
                       "already_answered: the answers were sent before")),
                   410: OpenApiResponse(SurveyErrorSerializer, description=(
                       "survey_expired or survey_closed: no more answers"))},
        tags=TAGS)
    def post(self, request, pk: int):
        invitation = _mine(request, pk)
        serializer = SurveyAnswersSerializer(data=request.data)
        if not serializer.is_valid():
            raise AnswersInvalid(_("Send the answers as {question id: answer}."),
                                 extra={"fields": serializer.errors})
        response_save(invitation=invitation, answers=serializer.validated_data["answers"],
                      submit=serializer.validated_data["submit"])
        return Response(SurveySerializer(survey_payload(invitation)).data)


urlpatterns = [
    path("surveys/", PendingSurveysView.as_view(), name="api-surveys"),
    path("surveys/<int:pk>/", SurveyView.as_view(), name="api-survey"),
    path("surveys/<int:pk>/answers/", SurveyAnswersView.as_view(), name="api-survey-answers"),
]
