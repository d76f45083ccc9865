"""The feedback app's messages, rendered by the outbox when they are due (o2o.outbox):

    feedback.invitation.email   the survey link, in the shopper's language
    feedback.invitation.sms     the same as a text (members who consented to texts)
    feedback.case.alert         a new case, to each manager of the store (their language)
    feedback.case.escalated     an overdue case, to head office

An invitation's message is moot (cancelled, not sent) once its answers are in, its link
has expired or its survey was switched off; an alert about a case closed meanwhile is
moot too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from o2o.models import OutboxMessage
from o2o.outbox import outbox_renderer
from o2o.sms import Sms
from stores.tokens import absolute

from .models import (
    CaseStatus,
    FeedbackCase,
    Question,
    SurveyInvitation,
    SurveyResponse,
    Trigger,
)
from .selectors import invitation_token
from .services.cases import KIND_ALERT, KIND_ESCALATED, case_reasons
from .services.invitations import KIND_EMAIL, KIND_SMS


def survey_link(invitation: SurveyInvitation) -> str:
    """The absolute link to the survey page, in the invitation's language."""
    with translation.override(invitation.language):
        path = reverse("feedback:survey", kwargs={"token": invitation_token(invitation)})
    return absolute(path)


def _shop_name() -> str:
    return settings.SHOP_NAME or _("Jinyuan Jewellery")


def invitation_subject(invitation: SurveyInvitation) -> str:
    store = invitation.store.title if invitation.store else ""
    return {
        Trigger.PICKUP: _("How was collecting your order at %(store)s?"),
        Trigger.COUNTER: _("How was your visit to %(store)s?"),
        Trigger.DELIVERY: _("How was your delivery?"),
        Trigger.TRYON: _("How was your try-on at %(store)s?"),
        Trigger.TICKET: _("How was our after-sales service?"),
    }[invitation.trigger] % {"store": store}


@dataclass(frozen=True)
class FirstQuestion:
    """What the email shows of the survey: its first question, scores to click."""

    pk: int
    kind: str
    title: str
    low: int = 0
    high: int = 0


@lru_cache(maxsize=256)
def _first_question(version_id: int, language: str) -> FirstQuestion | None:
    """Per version and language, once per process: a published version never changes
    (the database refuses it), and only published versions are sent."""
    with translation.override(language):
        question = (Question.objects.filter(version_id=version_id)
                    .order_by("position", "pk").first())
        if question is None:
            return None
        low, high = question.score_range or (0, 0)
        return FirstQuestion(pk=question.pk, kind=question.kind, title=question.title,
                             low=low, high=high)


def _invitation(message: OutboxMessage) -> SurveyInvitation | None:
    """The invitation, or None when its message has become moot."""
    invitation = (SurveyInvitation.objects.select_related("version__survey", "store")
                  .filter(pk=message.payload.get("invitation_id")).first())
    if invitation is None or not invitation.version.survey.is_active:
        return None
    if invitation.is_expired(getattr(message, "sending_at", None) or timezone.now()):
        return None
    if SurveyResponse.objects.filter(invitation=invitation, submitted_at__isnull=False).exists():
        return None
    return invitation


@outbox_renderer(KIND_EMAIL, labels={KIND_EMAIL: gettext_lazy("survey invitation")})
def render_invitation_email(message: OutboxMessage) -> EmailMultiAlternatives | None:
    invitation = _invitation(message)
    if invitation is None:
        return None
    with translation.override(invitation.language):
        first = _first_question(invitation.version_id, invitation.language)
        context = {
            "invitation": invitation, "store": invitation.store, "link": survey_link(invitation),
            "intro": invitation.version.intro_text, "first": first,
            "scores": range(first.low, first.high + 1) if first and first.high else [],
            "expires_at": invitation.expires_at, "shop_name": _shop_name(),
            "name": invitation.contact_name,
        }
        subject = invitation_subject(invitation)
        text = render_to_string("feedback/email/invitation.txt", context)
        html = render_to_string("feedback/email/invitation.html", context)
    email = EmailMultiAlternatives(subject=subject, body=text,
                                   from_email=settings.DEFAULT_FROM_EMAIL,
                                   to=[message.recipient])
    email.attach_alternative(html, "text/html")
    return email


@outbox_renderer(KIND_SMS, labels={KIND_SMS: gettext_lazy("survey invitation by text")})
def render_invitation_sms(message: OutboxMessage) -> Sms | None:
    invitation = _invitation(message)
    if invitation is None:
        return None
    with translation.override(invitation.language):
        text = _("[%(shop)s] %(question)s Two minutes of your time: %(link)s") % {
            "shop": _shop_name(), "question": invitation_subject(invitation),
            "link": survey_link(invitation)}
    return Sms(phone=message.recipient, message=text, purpose="feedback.invitation")


def _admin_link(case: FeedbackCase, language: str) -> str:
    with translation.override(language):
        return absolute(reverse("admin:feedback_feedbackcase_change", args=[case.pk]))


def _case_message(message: OutboxMessage, template: str) -> EmailMultiAlternatives | None:
    case = (FeedbackCase.objects
            .select_related("store", "staff", "response__invitation", "response__version")
            .filter(pk=message.payload.get("case_id")).first())
    if case is None or case.status == CaseStatus.CLOSED:
        return None
    reader = get_user_model().objects.filter(pk=message.payload.get("user_id")).first()
    language = (reader.language if reader is not None else "") or settings.LANGUAGE_CODE
    response = case.response
    with translation.override(language):
        answers = list(response.answers.select_related("question")
                       .prefetch_related("question__choices")
                       .order_by("question__position", "question_id"))
        context = {
            "case": case, "response": response, "invitation": response.invitation,
            "store": case.store, "reasons": case_reasons(response), "answers": answers,
            "link": _admin_link(case, language), "shop_name": _shop_name(),
            "escalated": template == "escalated",
        }
        store = case.store.title if case.store else _("online")
        if template == "escalated":
            subject = _("Overdue: case %(number)s at %(store)s has had no outcome") % {
                "number": case.pk, "store": store}
        else:
            subject = _("An unhappy shopper at %(store)s: case %(number)s") % {
                "number": case.pk, "store": store}
        text = render_to_string("feedback/email/case.txt", context)
        html = render_to_string("feedback/email/case.html", context)
    email = EmailMultiAlternatives(subject=subject, body=text,
                                   from_email=settings.DEFAULT_FROM_EMAIL,
                                   to=[message.recipient])
    email.attach_alternative(html, "text/html")
    return email


@outbox_renderer(KIND_ALERT, labels={KIND_ALERT: gettext_lazy("alert to the store")})
def render_case_alert(message: OutboxMessage) -> EmailMultiAlternatives | None:
    return _case_message(message, "alert")


@outbox_renderer(KIND_ESCALATED,
                 labels={KIND_ESCALATED: gettext_lazy("escalation to head office")})
def render_case_escalated(message: OutboxMessage) -> EmailMultiAlternatives | None:
    return _case_message(message, "escalated")
