"""Journeys: a trigger plus steps, versioned; members enrolled once per occasion.

A marketer edits a journey's steps (``JourneyStep`` rows, the draft); saving publishes
them as a new ``JourneyVersion`` (a frozen copy, ``steps`` as data). An enrolment keeps
the version it entered on, so an edit never changes the path of members already in it
(``enrolments_move_to_current`` moves them on purpose).

``JourneyEnrolment`` is UNIQUE per (journey, member, occasion): a birthday year, an order,
a try-on, an alert. The tick claims due enrolments with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.models import Metal


class Trigger(models.TextChoices):
    SIGNUP = "signup", _("a member joins (web, app or counter)")
    BIRTHDAY = "birthday", _("the member's birthday")
    ANNIVERSARY = "anniversary", _("the member's wedding anniversary")
    HANDED_OVER = "handed_over", _("a piece is handed over")
    TRYON_NOT_BOUGHT = "tryon_not_bought", _("a try-on ends without a purchase")
    WINBACK = "winback", _("no purchase in 12 months")
    GOLD_PRICE = "gold_price", _("the day's metal rate reaches a member's target")
    BACK_IN_STOCK = "back_in_stock", _("a wishlist piece arrives at the member's store")


class Journey(models.Model):
    key = models.SlugField(_("key"), max_length=40, unique=True,
                           help_text=_("A short name for the built-in journeys and links."))
    name = models.CharField(_("name"), max_length=120)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    is_enabled = models.BooleanField(_("enabled"), default=False)
    lead_days = models.PositiveSmallIntegerField(
        _("days ahead"), default=0,
        help_text=_("For birthdays and anniversaries: enter members this many days before "
                    "the date (0: on the day)."))
    tiers = models.ManyToManyField("members.Tier", blank=True, related_name="+",
                                   verbose_name=_("only members of these tiers"),
                                   help_text=_("Empty: every tier. Checked again at each step."))
    holdout_percent = models.PositiveSmallIntegerField(
        _("holdout (%)"), default=0,
        help_text=_("This share of the members entering is kept as a control group: they "
                    "receive nothing, and the lift is measured against them."))
    paused_reason = models.CharField(
        _("paused because"), max_length=200, blank=True,
        help_text=_("Set by the shop when a journey cannot go on (a deleted coupon); "
                    "members wait. Clear it to resume."))
    current_version = models.ForeignKey("JourneyVersion", null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+",
                                        verbose_name=_("current version"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("journey")
        verbose_name_plural = _("journeys")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(holdout_percent__lte=50),
                                   name="journey_holdout_at_most_half"),
        ]

    def __str__(self):
        return self.name

    def is_running(self) -> bool:
        return self.is_enabled and not self.paused_reason and self.current_version_id is not None


class StepKind(models.TextChoices):
    WAIT = "wait", _("wait")
    SEND = "send", _("send a message")
    BRANCH = "branch", _("continue only if")


class WaitUntil(models.TextChoices):
    DAYS = "", _("a number of days")
    BIRTHDAY = "birthday", _("days before/after the birthday")
    ANNIVERSARY = "anniversary", _("days before/after the anniversary")


class Condition(models.TextChoices):
    NOT_BOUGHT_SINCE = "not_bought_since", _("has not bought since entering")
    BOUGHT_SINCE = "bought_since", _("has bought since entering")
    OPENED_LAST = "opened_last", _("opened the last message")
    NOT_OPENED_LAST = "not_opened_last", _("did not open the last message")
    TIER = "tier", _("is in the tier")
    SEGMENT = "segment", _("is in the segment")


class CouponFrom(models.TextChoices):
    NONE = "", _("no coupon")
    DEFINITION = "definition", _("the chosen coupon")
    TIER_BIRTHDAY = "tier_birthday", _("the member's tier birthday gift")


class JourneyStep(models.Model):
    """One step of a journey's draft, in ``position`` order."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="steps",
                                verbose_name=_("journey"))
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("step"), max_length=10, choices=StepKind.choices)
    # wait
    wait_days = models.IntegerField(_("days"), default=0)
    wait_until = models.CharField(_("wait until"), max_length=12, choices=WaitUntil.choices,
                                  blank=True)
    # send
    channels = models.CharField(_("channels"), max_length=40, blank=True, default="inbox,email",
                                help_text=_("Any of inbox, email, sms, separated by commas."))
    coupon_from = models.CharField(_("coupon"), max_length=16, choices=CouponFrom.choices,
                                   blank=True)
    coupon_definition = models.ForeignKey("members.CouponDefinition", null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+",
                                          verbose_name=_("coupon definition"))
    title_zh = models.CharField(_("title (Chinese)"), max_length=120, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    body_zh = models.TextField(_("message (Chinese)"), blank=True)
    body_en = models.TextField(_("message (English)"), blank=True)
    sms_zh = models.CharField(_("text message (Chinese)"), max_length=200, blank=True)
    sms_en = models.CharField(_("text message (English)"), max_length=300, blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True,
                            help_text=_("A path on the shop, for example /account/coupons/."))
    # branch
    condition = models.CharField(_("condition"), max_length=20, choices=Condition.choices,
                                 blank=True)
    condition_value = models.CharField(_("tier code or segment id"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        ordering = ["journey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "position"], name="journey_step_position"),
        ]

    def __str__(self):
        return f"{self.position}. {self.get_kind_display()}"


class JourneyVersion(models.Model):
    """A published, frozen copy of a journey's steps."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="versions",
                                verbose_name=_("journey"))
    number = models.PositiveIntegerField(_("version"))
    steps = models.JSONField(_("steps"), default=list)
    created_at = models.DateTimeField(_("published"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("published by"))

    class Meta:
        verbose_name = _("journey version")
        verbose_name_plural = _("journey versions")
        ordering = ["journey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "number"], name="journey_version_once"),
        ]

    def __str__(self):
        return _("%(journey)s, version %(number)s") % {"journey": self.journey,
                                                       "number": self.number}


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("in progress")
    COMPLETED = "completed", _("completed")
    EXITED = "exited", _("left")


class ExitReason(models.TextChoices):
    NONE = "", _("none")
    CONDITION = "condition", _("no longer met the journey's condition")
    BOUGHT = "bought", _("bought meanwhile")
    TIER = "tier", _("no longer in the journey's tiers")
    INACTIVE = "inactive", _("account closed")
    NO_CONTACT = "no_contact", _("no way to reach them")
    NO_CONSENT = "no_consent", _("no consent to be contacted")
    CAPPED = "capped", _("too many messages lately")
    REMOVED = "removed", _("removed by staff")
    DATE_GONE = "date_gone", _("the date was removed from the profile")


class JourneyEnrolment(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="enrolments",
                                verbose_name=_("journey"))
    version = models.ForeignKey(JourneyVersion, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("version"))
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="journey_enrolments", verbose_name=_("member"))
    occasion = models.CharField(_("occasion"), max_length=60,
                                help_text=_("birthday-2026, order:12, alert:3..."))
    status = models.CharField(_("status"), max_length=10, choices=EnrolmentStatus.choices,
                              default=EnrolmentStatus.ACTIVE)
    exit_reason = models.CharField(_("left because"), max_length=12,
                                   choices=ExitReason.choices, blank=True)
    step_index = models.PositiveSmallIntegerField(_("next step"), default=0)
    due_at = models.DateTimeField(_("next step due"), null=True, blank=True)
    holdout = models.BooleanField(_("holdout"), default=False)
    context = models.JSONField(_("context"), default=dict, blank=True)
    messages_sent = models.PositiveSmallIntegerField(_("messages sent"), default=0)
    last_touch_id = models.BigIntegerField(_("last message"), null=True, blank=True)
    entered_at = models.DateTimeField(_("entered"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("member in a journey")
        verbose_name_plural = _("members in journeys")
        ordering = ["-entered_at"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "member", "occasion"],
                                    name="journey_enrolment_once_per_occasion"),
            models.CheckConstraint(
                condition=Q(status="active", due_at__isnull=False) | ~Q(status="active"),
                name="journey_enrolment_active_has_due"),
        ]
        indexes = [
            models.Index(fields=["due_at"], name="journey_enrolment_due",
                         condition=Q(status="active")),
            models.Index(fields=["journey", "status"], name="journey_enrolment_journey"),
        ]

    def __str__(self):
        return f"{self.journey} · {self.member} · {self.occasion}"


class GoldPriceAlert(models.Model):
    """A member's target price per gram for a metal and purity: told once when the
    day's rate falls to it (``fired_at``)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="gold_price_alerts", verbose_name=_("member"))
    metal = models.CharField(_("metal"), max_length=10, choices=Metal.choices[1:])
    purity = models.CharField(_("purity"), max_length=10)
    target_per_gram = models.DecimalField(_("target price per gram"), max_digits=10,
                                          decimal_places=2)
    created_at = models.DateTimeField(_("set"), auto_now_add=True)
    fired_at = models.DateTimeField(_("told"), null=True, blank=True)
    fired_rate = models.DecimalField(_("rate when told"), max_digits=10, decimal_places=2,
                                     null=True, blank=True)

    class Meta:
        verbose_name = _("gold price alert")
        verbose_name_plural = _("gold price alerts")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(target_per_gram__gt=0),
                                   name="gold_alert_target_positive"),
            models.UniqueConstraint(fields=["member", "metal", "purity"],
                                    condition=Q(fired_at__isnull=True),
                                    name="gold_alert_one_waiting_per_metal"),
        ]
        indexes = [
            models.Index(fields=["metal", "purity", "target_per_gram"],
                         name="gold_alert_waiting", condition=Q(fired_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.member} · {self.metal} {self.purity} ≤ {self.target_per_gram}"
