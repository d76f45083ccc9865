"""A feedback case's audit trail: one writer, called inside the service's transaction, and
the sentence staff read for each kind of event (in their language, never the JSON)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import CaseEventKind, CaseOutcome, FeedbackCase, FeedbackCaseEvent

K = CaseEventKind


def case_event_record(*, case: FeedbackCase, kind: CaseEventKind, actor=None,
                      at: datetime | None = None, **data) -> FeedbackCaseEvent:
    """One row of ``case``'s trail: ``kind`` from the vocabulary, ``data`` plain values."""
    return FeedbackCaseEvent.objects.create(case=case, kind=kind, actor=actor,
                                            at=at or timezone.now(), data=data)


def _names(data: dict, key: str = "to") -> str:
    return "、".join(data.get(key) or []) or _("nobody (no manager with an email address)")


def _outcome(value: str) -> str:
    try:
        return str(CaseOutcome(value).label)
    except ValueError:
        return value


def case_event_sentence(event: FeedbackCaseEvent) -> str:
    data = event.data or {}
    kind = event.kind
    if kind == K.OPENED:
        return _("Opened: %(reasons)s.") % {"reasons": "; ".join(data.get("reasons") or [])}
    if kind == K.ALERTED:
        return _("Alert emailed to %(names)s.") % {"names": _names(data)}
    if kind == K.ASSIGNED:
        return _("%(name)s looks after it.") % {"name": data.get("owner", "")}
    if kind == K.NOTE:
        return _("Note: %(text)s") % {"text": data.get("text", "")}
    if kind == K.ESCALATED:
        return _("Overdue: escalated to head office (%(names)s).") % {"names": _names(data)}
    if kind == K.COMPENSATED:
        return _("Coupon %(code)s given: %(offer)s.") % {"code": data.get("code", ""),
                                                         "offer": data.get("offer", "")}
    if kind == K.CLOSED:
        text = _("Closed: %(outcome)s.") % {"outcome": _outcome(data.get("outcome", ""))}
        if data.get("resolution"):
            text += " " + data["resolution"]
        return text
    if kind == K.MEMBER_ERASED:
        return _("The shopper's personal data was erased at their request.")
    return event.get_kind_display()
