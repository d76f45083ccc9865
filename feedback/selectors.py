"""Shared reads of surveys, invitations, answers and cases: who sees which store, the
survey a moment gets, and the figures of the report (each in a fixed number of queries).

Scope: store staff and managers see their own stores (stores.selectors.staff_store_ids);
``stores.view_all_stores`` (head office, marketing, analysts) and superusers see every
store. Every figure and export reads through ``store_ids`` from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Avg, Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from members import roles
from o2o.auth import User
from stores.models import StaffAssignment, StaffRole, Store
from stores.selectors import staff_store_ids

from .errors import LinkInvalid
from .models import (
    Answer,
    CaseStatus,
    Choice,
    FeedbackCase,
    Question,
    SurveyInvitation,
    SurveyResponse,
    SurveyVersion,
)

TOKEN_SALT = "feedback.invitation"
# A backstop for the signature itself; the invitation's own expires_at is what counts.
TOKEN_MAX_AGE = timedelta(days=400)


# --- Who sees what ---------------------------------------------------------------------


def feedback_store_ids(*, user: User) -> set[int] | None:
    """The stores whose feedback ``user`` sees; None: every store (and the answers about
    no store: deliveries)."""
    ids = staff_store_ids(user=user)  # None: every store (stores.view_all_stores)
    return None if ids is None else ids


def scoped(queryset: QuerySet, store_ids: Iterable[int] | None, path: str = "store"):
    return queryset if store_ids is None else queryset.filter(**{f"{path}__in": store_ids})


def stores_in_scope(store_ids: Iterable[int] | None) -> QuerySet[Store]:
    return scoped(Store.objects.shops(), store_ids, "pk").order_by("code")


def case_alert_recipients(*, store: Store | None) -> list:
    """Who hears of a new case: the store's managers with an email address; head office
    when the store has none (or the moment had no store: a delivery)."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True,
                                            email__isnull=False).exclude(email="")
    if store is not None:
        managers = list(users.filter(
            Exists(StaffAssignment.objects.filter(user=OuterRef("pk"), store=store,
                                                  role=StaffRole.MANAGER))).order_by("pk"))
        if managers:
            return managers
    return head_office_users()


def head_office_users() -> list:
    return list(get_user_model().objects.filter(
        is_active=True, is_staff=True, email__isnull=False, groups__name=roles.HEAD_OFFICE)
        .exclude(email="").distinct().order_by("pk"))


# --- Surveys and links ------------------------------------------------------------------


def survey_version_current(*, trigger: str) -> SurveyVersion | None:
    """The version a new invitation after ``trigger`` gets: the newest published version of
    the trigger's active survey (one query), or None (no survey: nobody is asked)."""
    return (SurveyVersion.objects.select_related("survey")
            .filter(survey__trigger=trigger, survey__is_active=True, published_at__isnull=False)
            .order_by("-number").first())


def version_questions(version: SurveyVersion) -> list[Question]:
    """The version's questions in order, with their choices (two queries)."""
    return list(version.questions.order_by("position", "pk").prefetch_related(
        Prefetch("choices", queryset=Choice.objects.order_by("position", "pk"))))


def invitation_token(invitation: SurveyInvitation) -> str:
    """The signed, unforgeable token of the invitation's link (its id, signed)."""
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(str(invitation.pk))


def invitation_from_token(token: str) -> SurveyInvitation:
    """The invitation a link opens; LinkInvalid (404) for an altered or made-up token or
    an invitation that is gone. Whether it still takes answers is the caller's check."""
    try:
        pk = signing.TimestampSigner(salt=TOKEN_SALT).unsign(
            token or "", max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise LinkInvalid(_("This survey link is not valid. Please use the link in your "
                            "message.")) from None
    invitation = (SurveyInvitation.objects.select_related("version__survey", "store")
                  .filter(pk=int(pk)).first())
    if invitation is None:
        raise LinkInvalid(_("This survey link is not valid. Please use the link in your "
                            "message."))
    return invitation


def invitations_pending_for(*, member, now: datetime | None = None) -> QuerySet[SurveyInvitation]:
    """The member's invitations they can answer now: due, not expired, survey active,
    not submitted; newest first."""
    now = now or timezone.now()
    submitted = SurveyResponse.objects.filter(invitation=OuterRef("pk"),
                                              submitted_at__isnull=False)
    return (SurveyInvitation.objects.filter(member=member, due_at__lte=now, expires_at__gt=now,
                                            version__survey__is_active=True)
            .exclude(Exists(submitted))
            .select_related("version__survey", "store").order_by("-due_at", "-pk"))


def answers_by_question(response: SurveyResponse | None) -> dict[int, Answer]:
    if response is None:
        return {}
    return {a.question_id: a for a in response.answers.all()}


def response_of(invitation: SurveyInvitation) -> SurveyResponse | None:
    return (SurveyResponse.objects.filter(invitation=invitation)
            .prefetch_related("answers").first())


# --- Cases ------------------------------------------------------------------------------


def cases_open(*, store_ids: Iterable[int] | None) -> QuerySet[FeedbackCase]:
    """Cases not closed, oldest due first, with what a list shows."""
    return (scoped(FeedbackCase.objects.exclude(status=CaseStatus.CLOSED), store_ids)
            .select_related("store", "owner", "staff", "response__invitation")
            .order_by("due_at", "pk"))


# --- Figures ----------------------------------------------------------------------------


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Shop-time days [start, end] as aware datetimes [from, until)."""
    zone = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))


def _nps(promoters: int, detractors: int, scored: int) -> int | None:
    if not scored:
        return None
    return round(100 * (promoters - detractors) / scored)


@dataclass
class Figures:
    """One row of the report: a store, a clerk, a week, or everything."""

    key: object = None
    label: str = ""
    invited: int = 0  # invitations due in the period
    answered_invited: int = 0  # of those, answered (whenever)
    answered: int = 0  # answers given in the period
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    rating: Decimal | None = None
    rated: int = 0  # answers with a rating
    cases_open: int = 0
    cases_overdue: int = 0

    @property
    def scored(self) -> int:
        """Answers with an NPS score."""
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> int | None:
        return _nps(self.promoters, self.detractors, self.scored)

    @property
    def response_rate(self) -> int | None:
        """Of the invitations due in the period, the share answered (percent)."""
        return round(100 * self.answered_invited / self.invited) if self.invited else None

    def share(self, part: int) -> int:
        return round(100 * part / self.scored) if self.scored else 0

    @property
    def promoters_pct(self) -> int:
        return self.share(self.promoters)

    @property
    def passives_pct(self) -> int:
        return self.share(self.passives)

    @property
    def detractors_pct(self) -> int:
        return self.share(self.detractors)


_SCORES = {
    "promoters": Count("pk", filter=Q(nps__gte=9)),
    "passives": Count("pk", filter=Q(nps__gte=7, nps__lte=8)),
    "detractors": Count("pk", filter=Q(nps__lte=6)),
    "rated": Count("rating"),
}


def responses_given(store_ids, start: datetime, end: datetime, channel: str = ""):
    """Answers submitted (or finalised) and begun in [start, end), in the stores."""
    queryset = scoped(SurveyResponse.objects.filter(submitted_at__isnull=False,
                                                    started_at__gte=start, started_at__lt=end),
                      store_ids)
    return queryset.filter(channel=channel) if channel else queryset


def _invited(store_ids, start: datetime, end: datetime, now: datetime, channel: str = ""):
    queryset = scoped(SurveyInvitation.objects.filter(due_at__gte=start, due_at__lt=end,
                                                      due_at__lte=now), store_ids)
    return queryset.filter(channel=channel) if channel else queryset


def figures_by(*, by: str, store_ids: Iterable[int] | None, start: date, end: date,
               channel: str = "", now: datetime | None = None) -> tuple[list[Figures], Figures]:
    """NPS (promoters, passives, detractors), rating average, response rate and open
    cases for each store (``by="store"``) or clerk (``by="staff"``) in the period, and the
    total. Three grouped queries and one for the names, whatever the number of rows."""
    if by not in ("store", "staff"):
        raise ValueError(by)
    now = now or timezone.now()
    since, until = period_bounds(start, end)
    rows: dict[object, Figures] = {}
    total = Figures(label=_("All"))

    def row(key) -> Figures:
        return rows.setdefault(key, Figures(key=key))

    for item in (responses_given(store_ids, since, until, channel).values(by)
                 .annotate(answered=Count("pk"), rating_avg=_avg_rating(), **_SCORES)):
        figures = row(item[by])
        figures.answered = item["answered"]
        figures.rating = item["rating_avg"]
        for name in _SCORES:
            setattr(figures, name, item[name])
    for item in _invited(store_ids, since, until, now, channel).values(by).annotate(
            n=Count("pk"), answered=Count("pk", filter=Q(response__submitted_at__isnull=False))):
        figures = row(item[by])
        figures.invited, figures.answered_invited = item["n"], item["answered"]
    cases = scoped(FeedbackCase.objects.exclude(status=CaseStatus.CLOSED), store_ids)
    for item in cases.values(by).annotate(
            n=Count("pk"), late=Count("pk", filter=Q(due_at__lte=now))):
        figures = row(item[by])
        figures.cases_open, figures.cases_overdue = item["n"], item["late"]
    _label(rows, by)
    ordered = sorted(rows.values(), key=lambda f: (f.key is None, f.label))
    for figures in ordered:
        for name in ("invited", "answered_invited", "answered", "cases_open", "cases_overdue",
                     *_SCORES):
            setattr(total, name, getattr(total, name) + getattr(figures, name))
    total.rating = _weighted_rating(ordered)
    return ordered, total


def _weighted_rating(rows: list[Figures]) -> Decimal | None:
    """The rating average of all rows (weighted by their answers that have a rating)."""
    rated = [(f.rating, f.rated) for f in rows if f.rating is not None and f.rated]
    count = sum(n for _r, n in rated)
    return (sum(r * n for r, n in rated) / count).quantize(Decimal("0.01")) if count else None


def _avg_rating():
    return Avg("rating")


def _label(rows: dict[object, Figures], by: str) -> None:
    keys = [k for k in rows if k is not None]
    if by == "store":
        names = {s.pk: s.title for s in Store.objects.filter(pk__in=keys)}
        empty = _("Online (no store)")
    else:
        names = {u.pk: (u.name or u.email or str(u.pk))
                 for u in get_user_model().objects.filter(pk__in=keys)}
        empty = _("No clerk (online)")
    for key, figures in rows.items():
        figures.label = names.get(key, empty) if key is not None else empty


def nps_weekly(*, store_ids: Iterable[int] | None, start: date, end: date,
               channel: str = "") -> list[Figures]:
    """NPS and answers per week (Monday, shop time) of the period: one query."""
    since, until = period_bounds(start, end)
    weeks = []
    for item in (responses_given(store_ids, since, until, channel)
                 .annotate(week=TruncWeek("started_at")).values("week")
                 .annotate(answered=Count("pk"), rating_avg=_avg_rating(), **_SCORES)
                 .order_by("week")):
        figures = Figures(key=item["week"].date(), answered=item["answered"],
                          rating=item["rating_avg"])
        figures.label = item["week"].date().isoformat()
        for name in _SCORES:
            setattr(figures, name, item[name])
        weeks.append(figures)
    return weeks


VERBATIM_GROUPS = {
    "detractor": Q(nps__lte=6) | Q(detractor=True),
    "passive": Q(nps__gte=7, nps__lte=8),
    "promoter": Q(nps__gte=9),
}


def verbatims(*, store_ids: Iterable[int] | None, start: date, end: date, group: str = "",
              tag: str = "", channel: str = "", limit: int = 20) -> list[SurveyResponse]:
    """The shoppers' own words, newest first: only answers with a comment; ``group``
    (detractor, passive, promoter) and ``tag`` (a choice's key) narrow them."""
    since, until = period_bounds(start, end)
    queryset = responses_given(store_ids, since, until, channel).exclude(comment="")
    if group in VERBATIM_GROUPS:
        queryset = queryset.filter(VERBATIM_GROUPS[group])
    if tag:
        queryset = queryset.filter(tags__contains=[tag])
    return list(queryset.select_related("store", "staff").order_by("-submitted_at", "-pk")
                [:limit])


def tags_in_use(*, store_ids: Iterable[int] | None, start: date, end: date) -> list[tuple[str, str]]:
    """(key, label) of the choices chosen in the period, for the verbatims' filter."""
    since, until = period_bounds(start, end)
    used = set()
    for tags in (responses_given(store_ids, since, until).exclude(tags=[])
                 .values_list("tags", flat=True).distinct()[:500]):
        used.update(tags)
    labels = {}
    for choice in (Choice.objects.filter(value__in=used).order_by("value", "-pk")):
        labels.setdefault(choice.value, choice.title)
    return sorted(((value, labels.get(value, value)) for value in used), key=lambda t: t[1])


def latest_answer_at(store_ids: Iterable[int] | None) -> datetime | None:
    return scoped(SurveyResponse.objects.filter(submitted_at__isnull=False), store_ids
                  ).aggregate(at=Max("submitted_at"))["at"]
