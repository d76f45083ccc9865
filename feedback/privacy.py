"""The feedback part of a member's data: the surveys they were sent, their answers and
the cases those opened. Registered with o2o.privacy (members.services.privacy exports and
erases every section). On erasure the answers stay for the figures with the person
removed: no member, no contact, no words of theirs; the messages about them are forgotten.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from o2o.outbox import outbox_forget
from o2o.privacy import privacy_section_register

from .events import case_event_record
from .models import Answer, CaseEventKind, FeedbackCase, SurveyInvitation, SurveyResponse
from .services.invitations import about_invitation


def _answer_value(answer: Answer):
    if answer.score is not None:
        return answer.score
    return list(answer.choices) if answer.choices else answer.text


def feedback_export(member) -> list[dict]:
    invitations = (SurveyInvitation.objects.filter(member=member)
                   .select_related("version__survey", "store", "response")
                   .prefetch_related("response__answers__question")
                   .order_by("due_at", "pk"))
    rows = []
    for invitation in invitations:
        response = getattr(invitation, "response", None)
        rows.append({
            "survey": invitation.version.survey.name, "after": invitation.trigger,
            "reference": invitation.reference,
            "store": invitation.store.code if invitation.store else None,
            "contact": {"name": invitation.contact_name, "email": invitation.contact_email,
                        "mobile": invitation.contact_phone},
            "sent_from": invitation.due_at, "opened_at": invitation.opened_at,
            "answers": None if response is None else {
                "submitted_at": response.submitted_at,
                "given": [{"question": a.question.text, "answer": _answer_value(a)}
                          for a in response.answers.all()],
            },
        })
    return rows


def feedback_erase(member) -> None:
    invitation_ids = list(SurveyInvitation.objects.filter(member=member)
                          .values_list("pk", flat=True))
    responses = SurveyResponse.objects.filter(Q(member=member) | Q(invitation_id__in=invitation_ids))
    Answer.objects.filter(response__in=responses).exclude(text="").update(text="")
    responses.update(member=None, comment="")
    SurveyInvitation.objects.filter(pk__in=invitation_ids).update(
        member=None, contact_name="", contact_email="", contact_phone="")
    now = timezone.now()
    for case in FeedbackCase.objects.filter(member=member).order_by("pk"):
        case_event_record(case=case, kind=CaseEventKind.MEMBER_ERASED, at=now)
    FeedbackCase.objects.filter(member=member).update(member=None)
    outbox_forget(about=[about_invitation(pk) for pk in invitation_ids])


privacy_section_register("feedback", export=feedback_export, erase=feedback_erase)
