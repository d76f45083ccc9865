"""Marketing's records: the reach ledger (Touch) and the members' inbox, segments and
campaigns with their frozen audience. The coupon engine's records are members'; marketing
reads orders and members and writes through their services."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SkipReason(models.TextChoices):
    """Why a reach wrote no message (Touch.reason; the attribution report's rows)."""

    HOLDOUT = "holdout", _("held out (control group)")
    NO_CONSENT = "no_consent", _("no marketing consent on any of the channels")
    NO_CONTACT = "no_contact", _("no email address or mobile number")
    CAPPED = "capped", _("frequency cap reached")
    INACTIVE = "inactive", _("account closed")
    COUPON_ENDED = "coupon_ended", _("the coupon could no longer be issued")
    # Never stored: the reach wrote nothing and says when to try again.
    QUIET_HOURS = "quiet_hours", _("quiet hours")


class TouchOutcome(models.TextChoices):
    SENT = "sent", _("sent")
    SKIPPED = "skipped", _("skipped")
    HOLDOUT = "holdout", _("held out")


class Touch(models.Model):
    """One reach of one member by one source (a campaign, a journey step, a test send):
    the ledger the frequency cap counts and attribution reads. Written once (UNIQUE
    source + source_id + occasion + member) by marketing.services.reach, in the
    transaction that issues the coupon and writes the messages."""

    source = models.CharField(_("source"), max_length=20)
    source_id = models.BigIntegerField(_("source number"))
    occasion = models.CharField(_("occasion"), max_length=60, blank=True)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="touches", verbose_name=_("member"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=TouchOutcome.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=SkipReason.choices,
                              blank=True)
    channels = models.CharField(_("channels"), max_length=40, blank=True,
                                help_text=_("The channels written to, comma separated."))
    capped = models.BooleanField(_("counts towards the cap"), default=True)
    coupon = models.ForeignKey("members.Coupon", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("coupon"))
    at = models.DateTimeField(_("at"))
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)

    class Meta:
        verbose_name = _("reach")
        verbose_name_plural = _("reaches")
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id", "occasion", "member"],
                                    name="touch_once_per_occasion"),
            models.CheckConstraint(condition=Q(outcome="sent", reason="")
                                   | (~Q(outcome="sent") & ~Q(reason="")),
                                   name="touch_reason_iff_not_sent"),
        ]
        indexes = [
            models.Index(fields=["member", "at"], name="touch_member_at",
                         condition=Q(outcome="sent", capped=True)),
            models.Index(fields=["source", "source_id"], name="touch_source"),
        ]

    def __str__(self):
        return f"{self.source}:{self.source_id} {self.member_id} {self.outcome}"

    @property
    def sent(self) -> bool:
        return self.outcome == TouchOutcome.SENT


class InboxItem(models.Model):
    """A message in the member's in-site inbox (the account's 消息 page), written in the
    member's language at the time of the reach."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="inbox_items", verbose_name=_("member"))
    touch = models.OneToOneField(Touch, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="inbox_item", verbose_name=_("reach"))
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbox message")
        verbose_name_plural = _("inbox messages")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "-created_at"], name="inbox_member_recent")]

    def __str__(self):
        return self.title


class Segment(models.Model):
    """Members picked by rules stored as data (marketing.services.segments compiles them
    to one SQL query). Reused by campaigns and journeys."""

    name = models.CharField(pgettext_lazy("segment", "name"), max_length=120, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self):
        return self.name


class MemberScore(models.Model):
    """A member's RFM scores (1-5 each, 5 best), computed nightly from paid orders."""

    member = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  primary_key=True, related_name="rfm",
                                  verbose_name=_("member"))
    recency = models.PositiveSmallIntegerField(_("recency score"), default=1)
    frequency = models.PositiveSmallIntegerField(_("frequency score"), default=1)
    monetary = models.PositiveSmallIntegerField(_("monetary score"), default=1)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("RFM score")
        verbose_name_plural = _("RFM scores")

    def __str__(self):
        return f"R{self.recency}F{self.frequency}M{self.monetary}"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SCHEDULED = "scheduled", _("scheduled")
    SENDING = "sending", _("sending")
    PAUSED = "paused", _("paused")
    SENT = "sent", _("sent")
    CANCELLED = "cancelled", _("cancelled")


class Campaign(models.Model):
    """A coupon (or message-only) campaign to a segment. Its status moves only through
    marketing.services.campaigns (CAMPAIGN_TRANSITIONS)."""

    name = models.CharField(pgettext_lazy("campaign", "name"), max_length=120)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="campaigns",
                                verbose_name=_("segment"))
    coupon_definition = models.ForeignKey(
        "members.CouponDefinition", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("coupon"),
        help_text=_("Empty: a message without a coupon."))
    send_email = models.BooleanField(_("by email"), default=True)
    send_sms = models.BooleanField(_("by text message"), default=False)
    send_inbox = models.BooleanField(_("to the member's inbox"), default=True)
    email_subject = models.JSONField(_("email subject"), default=dict, blank=True)
    email_body = models.JSONField(_("email text"), default=dict, blank=True)
    sms_text = models.JSONField(_("text message"), default=dict, blank=True)
    inbox_title = models.JSONField(_("inbox title"), default=dict, blank=True)
    inbox_body = models.JSONField(_("inbox text"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True,
                            help_text=_("A page of the shop, for example /products/."))
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    capped = models.BooleanField(_("respect the frequency cap"), default=True)
    quiet_from = models.TimeField(
        _("quiet from"), null=True, blank=True,
        help_text=_("Shop time. Nothing is sent between “quiet from” and “quiet until”; "
                    "sending waits and goes on after. Both empty: the shop's quiet hours."))
    quiet_until = models.TimeField(_("quiet until"), null=True, blank=True)
    holdout_percent = models.PositiveSmallIntegerField(
        _("holdout (%)"), default=0,
        help_text=_("This share of the segment, drawn at launch, gets nothing: the control "
                    "group that measures the lift."))
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices,
                              default=CampaignStatus.DRAFT)
    audience_size = models.PositiveIntegerField(_("audience"), default=0)
    holdout_size = models.PositiveIntegerField(_("held out"), default=0)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    not_before = models.DateTimeField(_("waiting for the end of quiet hours until"),
                                      null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True,
                            help_text=_("Why the campaign stopped, when it did by itself."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(holdout_percent__lte=50),
                                   name="campaign_holdout_at_most_half"),
            models.CheckConstraint(
                condition=Q(quiet_from__isnull=True, quiet_until__isnull=True)
                | (Q(quiet_from__isnull=False, quiet_until__isnull=False)
                   & ~Q(quiet_from=F("quiet_until"))),
                name="campaign_quiet_window"),
        ]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="campaign_due")]

    def __str__(self):
        return self.name

    @property
    def quiet_window(self) -> tuple[time, time] | None:
        """Its own quiet hours (start, end), or None for the shop's."""
        if self.quiet_from is None or self.quiet_until is None:
            return None
        return self.quiet_from, self.quiet_until

    @property
    def channels(self) -> list[str]:
        return [name for name, on in (("email", self.send_email), ("sms", self.send_sms),
                                      ("inbox", self.send_inbox)) if on]


class CampaignRecipient(models.Model):
    """One member of a campaign's audience, frozen at launch. Claimed by a sender with
    SELECT ... FOR UPDATE SKIP LOCKED and marked done in the transaction of its reach."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients",
                                 verbose_name=_("campaign"))
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="+", verbose_name=_("member"))
    holdout = models.BooleanField(_("held out"), default=False)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    touch = models.ForeignKey(Touch, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("reach"))

    class Meta:
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "member"],
                                    name="campaign_recipient_once"),
        ]
        indexes = [models.Index(fields=["campaign", "id"], name="campaign_recipient_pending",
                                condition=Q(done_at__isnull=True))]

    def __str__(self):
        return f"{self.campaign_id}:{self.member_id}"


class CampaignEventKind(models.TextChoices):
    CREATED = "created", _("created")
    EDITED = "edited", _("edited")
    SCHEDULED = "scheduled", _("scheduled")
    UNSCHEDULED = "unscheduled", _("back to draft")
    LAUNCHED = "launched", _("audience frozen, sending started")
    PAUSED = "paused", _("paused")
    RESUMED = "resumed", _("resumed")
    SENT = "sent", _("sent to everyone")
    CANCELLED = "cancelled", _("cancelled")
    TEST_SENT = "test_sent", _("test email sent")


class CampaignEvent(models.Model):
    """The campaign's history: who did what when (marketing.events writes it)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events",
                                 verbose_name=_("campaign"))
    kind = models.CharField(_("event"), max_length=20, choices=CampaignEventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("campaign event")
        verbose_name_plural = _("campaign events")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.campaign_id} {self.kind}"


class MemberView(models.Model):
    """What a signed-in member looked at, one row per member and product: when first and
    last in the kept window, and how many times. Written only by the fold of the views
    buffer (marketing.services.views: Redis, then INSERT ... ON CONFLICT by beat), pruned
    nightly to MARKETING_VIEWS_DAYS; read by the segments' ``viewed`` rule."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="product_views", verbose_name=_("member"))
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("product"))
    first_viewed_at = models.DateTimeField(_("first viewed"))
    last_viewed_at = models.DateTimeField(_("last viewed"))
    views = models.PositiveIntegerField(_("views"), default=1)

    class Meta:
        verbose_name = _("product viewed by a member")
        verbose_name_plural = _("products viewed by members")
        constraints = [
            models.UniqueConstraint(fields=["member", "product"], name="memberview_once"),
            models.CheckConstraint(condition=Q(views__gte=1)
                                   & Q(last_viewed_at__gte=models.F("first_viewed_at")),
                                   name="memberview_counted"),
        ]
        indexes = [models.Index(fields=["last_viewed_at"], name="memberview_last")]

    def __str__(self):
        return f"{self.member_id} {self.product_id} ×{self.views}"
