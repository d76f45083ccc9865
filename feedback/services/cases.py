"""Follow-up cases: an unhappy shopper reaches the store, and the store closes the loop.

``case_open`` runs in the transaction that submits the answers: the case (UNIQUE per
response) and an alert email to each manager of the store (stores.StaffAssignment role
manager; head office when the store has none), outbox rows due now, so the alert leaves
within seconds of the commit (the outbox's nudge; beat's sweep within 5 s otherwise).

Every other step goes through the CASE life cycle (o2o.transitions): lock, check the
table, save, audit (feedback.events), in one transaction:

    open -> being handled -> closed        (an owner, notes, then an outcome)
    open -> closed

Closing "compensated" issues a coupon of the chosen offer to the shopper through
members.services.coupon_issue, once per case (its occasion), in the same transaction: the
coupon is in their wallet when the case says so. ``cases_escalate_overdue`` (beat) tells
head office of cases past their due time, once each.

Who may act: staff of the case's store with ``feedback.change_feedbackcase``, and those who
see every store (head office); a case about no store (a delivery) is head office's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import CouponDefinition, User
from members.selectors import coupon_describe
from members.services import coupon_issue
from o2o.models import OutboxMessage
from o2o.outbox import OutboxItem, outbox_enqueue_many
from o2o.transitions import Lifecycle

from ..errors import CaseInvalid, CaseTransitionNotAllowed, NotYourCase
from ..events import case_event_record
from ..models import (
    CHOICE_KINDS,
    Answer,
    CaseEventKind,
    CaseOutcome,
    CaseStatus,
    FeedbackCase,
    SurveyResponse,
)
from ..selectors import case_alert_recipients, feedback_store_ids, head_office_users

S = CaseStatus
K = CaseEventKind
KIND_ALERT = "feedback.case.alert"
KIND_ESCALATED = "feedback.case.escalated"
NOTE_MAX = 2000

TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.OPEN: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}


def _refused(case: FeedbackCase, to) -> CaseTransitionNotAllowed:
    return CaseTransitionNotAllowed(
        _("This case is %(status)s; it cannot become %(to)s.") % {
            "status": case.get_status_display(), "to": S(to).label},
        extra={"status": case.status, "to": str(to)})


CASE = Lifecycle(model=FeedbackCase, table=TRANSITIONS, refused=_refused,
                 select_related=("store", "response__invitation"))


def about_case(case_id: int) -> str:
    return f"feedback.case:{case_id}"


def case_reasons(response: SurveyResponse) -> list[str]:
    """Why the answers count as unhappy, in words (for the trail and the alert)."""
    reasons = []
    if response.nps is not None and response.nps <= 6:
        reasons.append(_("would recommend us %(score)s out of 10") % {"score": response.nps})
    if response.rating is not None and response.rating <= 2:
        reasons.append(_("rated %(rating)s out of 5") % {"rating": response.rating_text})
    chosen = (Answer.objects.filter(response=response, question__kind__in=CHOICE_KINDS)
              .select_related("question").prefetch_related("question__choices"))
    alerting = [c.title for a in chosen for c in a.question.choices.all()
                if c.alerts and c.value in a.choices]
    if alerting:
        reasons.append(_("chose “%(answers)s”") % {"answers": "”, “".join(alerting)})
    return reasons or [_("unhappy answers")]


def _notify(case: FeedbackCase, kind: str, users: list[User], label: str) -> list[str]:
    about = about_case(case.pk)
    outbox_enqueue_many([
        OutboxItem(channel=OutboxMessage.Channel.EMAIL, kind=kind, recipient=user.email,
                   dedupe_key=f"{about}:{label}:{user.pk}",
                   payload={"case_id": case.pk, "user_id": user.pk}, about=about)
        for user in users if user.email])
    return [user.name or user.email for user in users if user.email]


def case_open(*, response: SurveyResponse, now: datetime | None = None) -> FeedbackCase:
    """Open the follow-up case of an unhappy ``response`` and alert the store, inside the
    caller's transaction (the submit's). Idempotent: the case of a response is returned
    when it exists (UNIQUE response)."""
    existing = FeedbackCase.objects.filter(response=response).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    case = FeedbackCase.objects.create(
        response=response, store_id=response.store_id, staff_id=response.staff_id,
        member_id=response.member_id, opened_at=now,
        due_at=now + timedelta(hours=max(1, settings.FEEDBACK_CASE_DUE_HOURS)))
    case_event_record(case=case, kind=K.OPENED, at=now, reasons=case_reasons(response))
    names = _notify(case, KIND_ALERT, case_alert_recipients(store=case.store), "alert")
    case_event_record(case=case, kind=K.ALERTED, at=now, to=names)
    return case


def case_may_act(*, actor: User | None, case: FeedbackCase) -> bool:
    if actor is None:
        return True  # the system (beat, the demo)
    if not (actor.is_active and actor.is_staff and actor.has_perm("feedback.change_feedbackcase")):
        return False
    ids = feedback_store_ids(user=actor)
    return ids is None or (case.store_id is not None and case.store_id in ids)


def _ensure_may_act(actor: User | None, case: FeedbackCase) -> None:
    if not case_may_act(actor=actor, case=case):
        raise NotYourCase(_("You can act only on the cases of the stores you work at."))


@transaction.atomic
def case_assign(*, case: FeedbackCase, owner: User, actor: User | None,
                now: datetime | None = None) -> FeedbackCase:
    """``owner`` looks after the case from now on (it is being handled). The owner must
    be able to act on it too. Refused on a closed case."""
    now = now or timezone.now()
    locked = CASE.lock(case)
    _ensure_may_act(actor, locked)
    if not case_may_act(actor=owner, case=locked):
        raise CaseInvalid(_("%(name)s cannot work on this store's cases.") % {
            "name": owner.name or owner.email}, code="owner_not_of_store")
    if locked.status == S.CLOSED:
        raise _refused(locked, S.IN_PROGRESS)
    if locked.owner_id == owner.pk and locked.status == S.IN_PROGRESS:
        return locked
    audit = lambda _previous: case_event_record(  # noqa: E731
        case=locked, kind=K.ASSIGNED, actor=actor, at=now, owner=owner.name or owner.email)
    if locked.status == S.OPEN:
        CASE.move(locked, S.IN_PROGRESS, fields={"owner": owner}, audit=audit)
    else:
        locked.owner = owner
        locked.save(update_fields=["owner"])
        audit(locked.status)
    return locked


@transaction.atomic
def case_note(*, case: FeedbackCase, actor: User, text: str,
              now: datetime | None = None) -> FeedbackCase:
    """Add a note (a call made, what the shopper said). A note on an open case makes the
    writer its owner: someone is on it."""
    now = now or timezone.now()
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise CaseInvalid(_("Write the note first."), code="note_empty")
    if len(text) > NOTE_MAX:
        raise CaseInvalid(_("Keep the note under %(max)s characters.") % {"max": NOTE_MAX},
                          code="note_too_long")
    locked = CASE.lock(case)
    _ensure_may_act(actor, locked)
    if locked.status == S.OPEN:
        CASE.move(locked, S.IN_PROGRESS, fields={"owner": locked.owner or actor},
                  audit=lambda _previous: case_event_record(
                      case=locked, kind=K.ASSIGNED, actor=actor, at=now,
                      owner=actor.name or actor.email))
    case_event_record(case=locked, kind=K.NOTE, actor=actor, at=now, text=text)
    return locked


@transaction.atomic
def case_close(*, case: FeedbackCase, actor: User | None, outcome: str, resolution: str = "",
               coupon_definition: CouponDefinition | None = None,
               now: datetime | None = None) -> FeedbackCase:
    """Close the case with its outcome. ``compensated`` needs ``coupon_definition``: one
    coupon of it goes to the shopper's wallet (members.services.coupon_issue, once per
    case); a guest has no wallet, so it is refused for them. A second close changes
    nothing (a double click). Raises CaseInvalid, NotYourCase (403), the coupon issuer's
    CouponIssueRefused, CaseTransitionNotAllowed."""
    now = now or timezone.now()
    if outcome not in {o.value for o in CaseOutcome if o.value}:
        raise CaseInvalid(_("Say how the case ended."), code="outcome_required")
    resolution = (resolution or "").replace("\x00", "").strip()
    if len(resolution) > NOTE_MAX:
        raise CaseInvalid(_("Keep the note under %(max)s characters.") % {"max": NOTE_MAX},
                          code="note_too_long")
    locked = CASE.lock(case)
    _ensure_may_act(actor, locked)
    if locked.status == S.CLOSED:
        return locked
    CASE.check(locked, S.CLOSED)
    coupon = None
    if outcome == CaseOutcome.COMPENSATED:
        if coupon_definition is None:
            raise CaseInvalid(_("Choose the coupon to give."), code="coupon_required")
        if locked.member_id is None:
            raise CaseInvalid(_("The shopper has no account, so a coupon cannot reach a "
                                "wallet: choose another outcome, and make it good in "
                                "store."), code="guest_no_wallet")
        coupon = coupon_issue(definition=coupon_definition, member=locked.member,
                              actor=actor, occasion=f"feedback-case-{locked.pk}", now=now)
        case_event_record(case=locked, kind=K.COMPENSATED, actor=actor, at=now,
                          code=coupon.code, offer=f"{coupon_definition.name}: "
                          f"{coupon_describe(coupon_definition)}")
    CASE.move(locked, S.CLOSED, fields={
        "outcome": outcome, "resolution": resolution, "closed_at": now, "coupon": coupon,
        "owner": locked.owner or actor,
    }, audit=lambda _previous: case_event_record(
        case=locked, kind=K.CLOSED, actor=actor, at=now, outcome=outcome,
        resolution=resolution))
    return locked


def cases_escalate_overdue(*, now: datetime | None = None, batch_size: int = 100) -> int:
    """Beat: open cases past their due time are escalated to head office: once each
    (``escalated_at``), audited, an email to each head-office user. Locked rows are
    skipped until the next run; safe to run twice. Returns how many."""
    now = now or timezone.now()
    done = 0
    recipients = None
    while True:
        with transaction.atomic():
            due = list(FeedbackCase.objects.select_for_update(skip_locked=True, of=("self",))
                       .filter(escalated_at__isnull=True, due_at__lte=now)
                       .exclude(status=S.CLOSED).order_by("due_at", "pk")[:batch_size])
            if due and recipients is None:
                recipients = head_office_users()
            for case in due:
                case.escalated_at = now
                case.save(update_fields=["escalated_at"])
                names = _notify(case, KIND_ESCALATED, recipients or [], "escalated")
                case_event_record(case=case, kind=K.ESCALATED, at=now, to=names)
        done += len(due)
        if len(due) < batch_size:
            return done
