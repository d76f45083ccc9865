"""Every write of the feedback app. One module a subject; import from here.

invitations.py: an invitation (and its messages) in the moment's transaction, with the
frequency cap. responses.py: answers saved and submitted, once per invitation.
cases.py: the follow-up of an unhappy shopper (alert, owner, notes, outcome, coupon,
escalation). surveys.py: versions drafted and published.
"""

from .cases import (
    CASE,
    case_assign,
    case_close,
    case_may_act,
    case_note,
    case_open,
    cases_escalate_overdue,
)
from .invitations import Moment, about_invitation, invitation_schedule
from .responses import (
    answers_clean,
    invitation_check_open,
    invitation_opened,
    response_save,
    responses_finalize_stale,
)
from .surveys import survey_version_draft, survey_version_problems, survey_version_publish

__all__ = [
    "CASE", "Moment", "about_invitation", "answers_clean", "case_assign", "case_close",
    "case_may_act", "case_note", "case_open", "cases_escalate_overdue",
    "invitation_check_open", "invitation_opened", "invitation_schedule", "response_save",
    "responses_finalize_stale", "survey_version_draft", "survey_version_problems",
    "survey_version_publish",
]
