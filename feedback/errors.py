"""The feedback app's error codes. Services raise these; o2o.errors turns them into 4xx
(the API) and the views into a page that says what happened."""

from o2o.errors import ApplicationError, ConflictError, NotFoundError
from o2o.transitions import TransitionNotAllowed


class LinkInvalid(NotFoundError):
    """A survey link that was altered, made up, or names no invitation."""

    code = "bad_link"


class SurveyExpired(ApplicationError):
    """The invitation's time to answer is over."""

    code = "survey_expired"
    status = 410


class SurveyClosed(ApplicationError):
    """The survey was switched off: its links take no more answers."""

    code = "survey_closed"
    status = 410


class AlreadyAnswered(ConflictError):
    """The invitation's answers were submitted already (a second click, another tab)."""

    code = "already_answered"


class AnswersInvalid(ApplicationError):
    """Answers out of range, unknown questions or choices, text too long, a required
    answer missing at submit. ``extra["fields"]`` maps question ids to the problems."""

    code = "answers_invalid"


class SurveyEditRefused(ConflictError):
    """A published version is frozen; a draft is needed (or another one exists)."""

    code = "survey_version_frozen"


class CaseTransitionNotAllowed(TransitionNotAllowed):
    code = "case_transition_not_allowed"


class CaseInvalid(ApplicationError):
    """A case step asked wrongly: no outcome, a coupon for a guest, an owner from
    elsewhere..."""

    code = "case_invalid"


class NotYourCase(ApplicationError):
    """The case belongs to a store the user does not work at."""

    code = "not_your_store"
    status = 403
