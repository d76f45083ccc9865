"""Surveys after the moments of the O2O loop, the answers, and the cases a bad answer opens.

A ``Survey`` belongs to one trigger (a pickup collected, a delivery, a counter sale, a
try-on, a closed after-sales ticket) and has numbered ``SurveyVersion`` rows: a published
version never changes (a PostgreSQL trigger refuses it, feedback/migrations/0001), so an
answer always means what its question said; editing makes a new draft version.

A ``SurveyInvitation`` is written in the transaction of the moment itself (UNIQUE
``occasion``: never twice for one hand-over), with its outbox rows due after the
survey's delay. ``ContactCap`` holds when each member (or guest contact) was last
invited: the frequency cap is one conditional upsert on it. A ``SurveyResponse`` is
UNIQUE per invitation; a detractor's opens a ``FeedbackCase`` (UNIQUE per response).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from catalog.models import Bilingual
from o2o.audit import AuditEvent

TEXT_MAX = 2000  # characters of one free-text answer


def _in_english() -> bool:
    return (get_language() or "").startswith("en")


class Trigger(models.TextChoices):
    PICKUP = "pickup", _("order collected at a store")
    DELIVERY = "delivery", _("order delivered")
    COUNTER = "counter", _("sale at the counter")
    TRYON = "tryon", _("try-on completed")
    TICKET = "ticket", _("after-sales ticket closed")


class Channel(models.TextChoices):
    ONLINE = "online", _("online")
    STORE = "store", _("in store")


class Survey(Bilingual):
    """What shoppers are asked after one kind of moment (``trigger``), and when: ``delay``
    after it, never in the quiet hours. At most one active survey per trigger. Its
    questions live in versions; the newest published one is sent."""

    trigger = models.CharField(_("sent after"), max_length=10, choices=Trigger.choices)
    delay_minutes = models.PositiveIntegerField(
        _("delay (minutes)"), default=120,
        help_text=_("How long after the moment the invitation goes (moved past the quiet "
                    "hours)."))
    is_active = models.BooleanField(
        _("active"), default=True,
        help_text=_("Inactive: no new invitations, and open links say the survey is "
                    "closed."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["trigger", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["trigger"], condition=Q(is_active=True),
                                    name="survey_one_active_per_trigger",
                                    violation_error_message=_(
                                        "Another survey is already active for this moment; "
                                        "deactivate it first.")),
        ]


class SurveyVersion(models.Model):
    """The questions of a survey as they were at one time. ``published_at`` set: frozen
    (texts, questions and choices alike; the database refuses changes). At most one
    draft per survey."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="versions",
                               verbose_name=_("survey"))
    number = models.PositiveSmallIntegerField(_("version"))
    intro = models.TextField(_("introduction (Chinese)"), blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    thanks = models.TextField(_("thank-you text (Chinese)"), blank=True)
    thanks_en = models.TextField(_("thank-you text (English)"), blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+",
                                     verbose_name=_("published by"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey version")
        verbose_name_plural = _("survey versions")
        ordering = ["survey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="survey_version_number"),
            models.UniqueConstraint(fields=["survey"], condition=Q(published_at__isnull=True),
                                    name="survey_one_draft"),
            models.CheckConstraint(condition=Q(number__gte=1), name="survey_version_positive"),
        ]

    def __str__(self):
        return f"{self.survey} · v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def intro_text(self) -> str:
        return self.intro_en if _in_english() and self.intro_en else self.intro

    @property
    def thanks_text(self) -> str:
        return self.thanks_en if _in_english() and self.thanks_en else self.thanks


class QuestionKind(models.TextChoices):
    NPS = "nps", _("recommend, 0 to 10 (NPS)")
    RATING = "rating", _("rating, 1 to 5")
    SINGLE = "single", _("one choice")
    MULTIPLE = "multiple", _("several choices")
    TEXT = "text", _("free text")


SCORE_RANGE = {QuestionKind.NPS: (0, 10), QuestionKind.RATING: (1, 5)}
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class Question(models.Model):
    version = models.ForeignKey(SurveyVersion, on_delete=models.CASCADE,
                                related_name="questions", verbose_name=_("survey version"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    code = models.SlugField(
        _("key"), max_length=40,
        help_text=_("Stays the same across versions (for example recommend, staff, wait), so "
                    "the figures follow one question through its versions."))
    text = models.CharField(_("question (Chinese)"), max_length=300)
    text_en = models.CharField(_("question (English)"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=False)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="question_code_once"),
        ]

    def __str__(self):
        return self.title

    @property
    def title(self) -> str:
        return self.text_en if _in_english() and self.text_en else self.text

    @property
    def score_range(self) -> tuple[int, int] | None:
        return SCORE_RANGE.get(self.kind)

    @property
    def has_choices(self) -> bool:
        return self.kind in CHOICE_KINDS


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices",
                                 verbose_name=_("question"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    value = models.SlugField(_("key"), max_length=40,
                             help_text=_("Stays the same across versions; answers are "
                                         "filtered by it (a tag)."))
    label = models.CharField(_("answer (Chinese)"), max_length=200)
    label_en = models.CharField(_("answer (English)"), max_length=200, blank=True)
    alerts = models.BooleanField(
        _("alerts the store"), default=False,
        help_text=_("Choosing it opens a follow-up case, whatever the scores."))

    class Meta:
        verbose_name = _("answer choice")
        verbose_name_plural = _("answer choices")
        ordering = ["question", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "value"], name="choice_value_once"),
        ]

    def __str__(self):
        return self.title

    @property
    def title(self) -> str:
        return self.label_en if _in_english() and self.label_en else self.label


class ContactCap(models.Model):
    """When a member (``member:<id>``), or a guest's email or mobile, was last invited:
    the frequency cap is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` on this row
    (feedback.services.invitations), so two moments at once never both invite."""

    who = models.CharField(_("contact"), max_length=140, unique=True)
    last_invited_at = models.DateTimeField(_("last invited"))

    class Meta:
        verbose_name = _("survey frequency cap")
        verbose_name_plural = _("survey frequency caps")

    def __str__(self):
        return self.who


class SurveyInvitation(models.Model):
    """One shopper asked about one moment (``occasion``, UNIQUE: ``order:<id>``,
    ``appointment:<id>``, ``ticket:<id>``). Written in the moment's transaction; its
    messages are outbox rows due at ``due_at``. The link works until ``expires_at``."""

    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT,
                                related_name="invitations", verbose_name=_("survey version"))
    trigger = models.CharField(_("after"), max_length=10, choices=Trigger.choices)
    occasion = models.CharField(_("occasion"), max_length=60, unique=True)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="survey_invitations",
                               verbose_name=_("member"))
    contact_name = models.CharField(_("name"), max_length=100, blank=True)
    contact_email = models.EmailField(_("email"), blank=True)
    contact_phone = models.CharField(_("mobile number"), max_length=20, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    store = models.ForeignKey("stores.Store", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("store"))
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("served by"))
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("order"))
    appointment = models.ForeignKey("stores.Appointment", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("try-on"))
    ticket = models.ForeignKey("orders.ServiceTicket", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("service ticket"))
    reference = models.CharField(_("reference"), max_length=40, blank=True,
                                 help_text=_("The order, try-on or ticket number."))
    occurred_at = models.DateTimeField(_("moment"))
    due_at = models.DateTimeField(_("sent from"), db_index=True)
    expires_at = models.DateTimeField(_("link works until"))
    opened_at = models.DateTimeField(_("first opened"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-due_at", "-id"]
        indexes = [
            models.Index(fields=["store", "due_at"], name="invitation_store_due"),
            models.Index(fields=["member", "due_at"], name="invitation_member_due"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("due_at")),
                                   name="invitation_expires_after_due"),
            models.CheckConstraint(condition=Q(due_at__gte=F("occurred_at")),
                                   name="invitation_due_after_moment"),
        ]

    def __str__(self):
        return self.occasion

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at


class SurveyResponse(models.Model):
    """The answers to one invitation (UNIQUE: one response whatever is clicked). Saved
    as the shopper goes (``submitted_at`` empty), final when submitted (or, left half
    way, after FEEDBACK_PARTIAL_FINAL_MINUTES). The invitation's store, clerk, channel
    and moment are copied here with the scores, so every figure is one indexed query."""

    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.PROTECT,
                                      related_name="response", verbose_name=_("invitation"))
    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT,
                                related_name="responses", verbose_name=_("survey version"))
    trigger = models.CharField(_("after"), max_length=10, choices=Trigger.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    store = models.ForeignKey("stores.Store", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("store"))
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("served by"))
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="survey_responses",
                               verbose_name=_("member"))
    started_at = models.DateTimeField(_("started"))
    updated_at = models.DateTimeField(_("last saved"))
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True, db_index=True)
    nps = models.PositiveSmallIntegerField(_("NPS score"), null=True, blank=True)
    rating = models.DecimalField(_("rating"), max_digits=3, decimal_places=2, null=True,
                                 blank=True, help_text=_("The average of the 1-5 ratings."))
    detractor = models.BooleanField(_("unhappy"), default=False)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True,
                      verbose_name=_("tags"))
    comment = models.TextField(_("in their words"), blank=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["store", "started_at"], name="response_store_time"),
            models.Index(fields=["staff", "started_at"], name="response_staff_time"),
        ]
        permissions = [
            ("view_answers_export", _("Can download survey answers (CSV, Excel)")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__lte=10),
                                   name="response_nps_0_10"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | (Q(rating__gte=1) & Q(rating__lte=5)),
                name="response_rating_1_5"),
        ]

    def __str__(self):
        return str(self.invitation)

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def rating_text(self) -> str:
        """The rating as people write it: 2, 3.5 (never 2.00)."""
        if self.rating is None:
            return ""
        return f"{self.rating.normalize():f}"

    @property
    def nps_group(self) -> str:
        if self.nps is None:
            return ""
        return "promoter" if self.nps >= 9 else "passive" if self.nps >= 7 else "detractor"


class Answer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE,
                                 related_name="answers", verbose_name=_("response"))
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers",
                                 verbose_name=_("question"))
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    choices = ArrayField(models.CharField(max_length=40), default=list, blank=True,
                         verbose_name=_("chosen"))
    text = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["response", "question__position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once"),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=10),
                                   name="answer_score_0_10"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("text"), TEXT_MAX),
                                   name="answer_text_bounded"),
        ]

    def __str__(self):
        return f"{self.response_id}: {self.question_id}"


class CaseStatus(models.TextChoices):
    OPEN = "open", _("open")
    IN_PROGRESS = "in_progress", _("being handled")
    CLOSED = "closed", pgettext_lazy("case", "closed")


class CaseOutcome(models.TextChoices):
    NONE = "", _("not yet")
    CONTACTED = "contacted", _("contacted the shopper")
    RESOLVED = "resolved", _("resolved")
    COMPENSATED = "compensated", _("compensated with a coupon")
    UNREACHABLE = "unreachable", _("could not reach the shopper")


class FeedbackCase(models.Model):
    """A follow-up for the store: a shopper was unhappy. Owned by someone of the store,
    due ``FEEDBACK_CASE_DUE_HOURS`` after it opened; past that it is escalated to head
    office. ``status`` is written only by feedback.services.cases (CASE life cycle)."""

    response = models.OneToOneField(SurveyResponse, on_delete=models.PROTECT,
                                    related_name="case", verbose_name=_("answers"))
    store = models.ForeignKey("stores.Store", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("store"))
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("served by"))
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("member"))
    status = models.CharField(_("status"), max_length=12, choices=CaseStatus.choices,
                              default=CaseStatus.OPEN)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("owner"))
    opened_at = models.DateTimeField(_("opened"))
    due_at = models.DateTimeField(_("due"), db_index=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    closed_at = models.DateTimeField(pgettext_lazy("case", "closed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=CaseOutcome.choices,
                               blank=True)
    resolution = models.TextField(_("what was done"), blank=True)
    coupon = models.ForeignKey("members.Coupon", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("coupon given"))

    class Meta:
        verbose_name = _("feedback case")
        verbose_name_plural = _("feedback cases")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["store", "status"], name="case_store_status")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="closed") & Q(closed_at__isnull=False) & ~Q(outcome=""))
                | (~Q(status="closed") & Q(closed_at__isnull=True) & Q(outcome="")),
                name="case_outcome_when_closed"),
            models.CheckConstraint(condition=~Q(outcome="compensated") | Q(coupon__isnull=False),
                                   name="case_compensation_has_coupon"),
            models.CheckConstraint(condition=Q(due_at__gt=F("opened_at")),
                                   name="case_due_after_opened"),
        ]

    def __str__(self):
        return _("Case %(number)s") % {"number": self.pk}

    def is_overdue(self, now=None) -> bool:
        return self.status != CaseStatus.CLOSED and self.due_at <= (now or timezone.now())


class CaseEventKind(models.TextChoices):
    OPENED = "opened", _("opened")
    ALERTED = "alerted", _("store alerted")
    ASSIGNED = "assigned", _("owner set")
    NOTE = "note", _("note")
    ESCALATED = "escalated", _("escalated")
    COMPENSATED = "compensated", _("coupon given")
    CLOSED = "closed", pgettext_lazy("case", "closed")
    MEMBER_ERASED = "member_erased", _("shopper's data erased")


class FeedbackCaseEvent(AuditEvent):
    """The case's trail: opened, who was alerted, owner, notes, escalation, outcome."""

    case = models.ForeignKey(FeedbackCase, on_delete=models.CASCADE, related_name="events",
                             verbose_name=_("feedback case"))
    kind = models.CharField(_("event"), max_length=40, choices=CaseEventKind.choices)

    class Meta(AuditEvent.Meta):
        verbose_name = _("feedback case event")
        verbose_name_plural = _("feedback case events")

    def __str__(self):
        return f"{self.case_id} {self.kind}"

    def describe(self) -> str:
        from .events import case_event_sentence

        return case_event_sentence(self)


class FeedbackReport(SurveyResponse):
    """No table of its own: the admin index's entry for the feedback report."""

    class Meta:
        proxy = True
        verbose_name = _("feedback report")
        verbose_name_plural = _("feedback report")
