"""Marketers' screens for journeys. Thin: they call journeys.services and selectors.

- Journeys: the trigger, the steps (the draft: saving publishes them as a new version
  when they changed; members already in keep their version), the versions, the figures
  (entered, in progress, completed, left and why, messages, and what campaigns'
  attribution counts: coupons redeemed, revenue online and per store, lift). Actions:
  switch on or off, move members in progress to the current version, resume a paused
  journey.
- Members in journeys: who is where, and why they left; "remove from the journey".
- Gold price alerts: read-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from o2o.admin_kit import ReadOnlyAdminMixin, ReadOnlyInline
from o2o.errors import reported

from .models import (
    EnrolmentStatus,
    ExitReason,
    GoldPriceAlert,
    Journey,
    JourneyEnrolment,
    JourneyStep,
    JourneyVersion,
)
from .selectors import journey_figures
from .services.versions import (
    enrolments_move_to_current,
    journey_publish,
    journey_resume,
    journeys_switch,
)

CHANNEL_CHOICES = [("inbox", _("the member's message box")), ("email", _("email")),
                   ("sms", _("text message"))]


class JourneyStepForm(forms.ModelForm):
    """Channels as boxes to tick (stored as "inbox,email")."""

    channels = forms.MultipleChoiceField(label=_("channels"), choices=CHANNEL_CHOICES,
                                         required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = JourneyStep
        fields = ["position", "kind", "wait_days", "wait_until", "channels", "coupon_from",
                  "coupon_definition", "title_zh", "title_en", "body_zh", "body_en", "sms_zh",
                  "sms_en", "link", "condition", "condition_value"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["channels"] = [c.strip() for c in self.instance.channels.split(",")
                                        if c.strip()]

    def clean_channels(self):
        return ",".join(self.cleaned_data["channels"])


class JourneyStepInline(admin.StackedInline):
    model = JourneyStep
    form = JourneyStepForm
    extra = 0
    ordering = ["position"]
    autocomplete_fields = ["coupon_definition"]
    fieldsets = [
        (None, {"fields": [("position", "kind")]}),
        (_("Wait"), {"fields": [("wait_days", "wait_until")],
                     "description": _("Days to wait; or, with a date, days after (negative: "
                                      "before) the member's birthday or anniversary.")}),
        (_("Send"), {"fields": ["channels", ("coupon_from", "coupon_definition"),
                                ("title_zh", "title_en"), ("body_zh", "body_en"),
                                ("sms_zh", "sms_en"), "link"],
                     "description": _("Placeholders: {name}, {coupon_code}, {coupon_value}, "
                                      "{coupon_expires}, {link}; for alerts {metal}, "
                                      "{purity}, {rate}, {target}; {pieces} for the pieces "
                                      "bought, tried on or wished for.")}),
        (_("Continue only if"), {"fields": [("condition", "condition_value")]}),
    ]


class JourneyVersionInline(ReadOnlyInline):
    model = JourneyVersion
    fields = ["number", "created_at", "created_by", "steps_in_words"]
    readonly_fields = fields
    ordering = ["-number"]
    verbose_name_plural = _("versions (members stay on the one they entered)")

    @admin.display(description=_("steps"))
    def steps_in_words(self, version):
        return format_html_join(mark_safe("<br>"), "{}", (
            (step_sentence(step),) for step in version.steps))


def step_sentence(step: dict) -> str:
    """A frozen step in words (the versions' and figures' screens)."""
    from .models import Condition, StepKind, WaitUntil

    kind = step.get("kind")
    if kind == StepKind.WAIT:
        days = int(step.get("wait_days") or 0)
        until = step.get("wait_until") or ""
        if until:
            return gettext("Wait until %(days)s days from the %(date)s") % {
                "days": days, "date": WaitUntil(until).label}
        return ngettext("Wait %(days)s day", "Wait %(days)s days", days) % {"days": days}
    if kind == StepKind.BRANCH:
        return gettext("Continue only if the member %(condition)s %(value)s") % {
            "condition": Condition(step.get("condition")).label,
            "value": step.get("condition_value") or ""}
    title = (step.get("title") or {}).get("zh-hans") or (step.get("sms") or {}).get("zh-hans")
    coupon = gettext(", with a coupon") if step.get("coupon_from") else ""
    return gettext("Send “%(title)s” by %(channels)s%(coupon)s") % {
        "title": title or "", "channels": "、".join(str(dict(CHANNEL_CHOICES).get(c, c))
                                                       for c in step.get("channels") or []),
        "coupon": coupon}


@admin.register(Journey)
class JourneyAdmin(admin.ModelAdmin):
    list_display = ["name", "trigger", "state", "current_version_number", "in_progress",
                    "updated_at"]
    list_filter = ["trigger", "is_enabled"]
    search_fields = ["name", "key"]
    filter_horizontal = ["tiers"]
    readonly_fields = ["paused_reason", "current_version", "figures"]
    fields = ["name", "key", "trigger", "is_enabled", "lead_days", "tiers", "holdout_percent",
              "paused_reason", "current_version", "figures"]
    inlines = [JourneyStepInline, JourneyVersionInline]
    actions = ["switch_on", "switch_off", "move_to_current", "resume"]

    @admin.display(description=_("state"))
    def state(self, journey):
        if journey.paused_reason:
            return gettext("paused: %(reason)s") % {"reason": journey.paused_reason}
        if journey.current_version_id is None:
            return gettext("draft: no version yet")
        return gettext("running") if journey.is_enabled else gettext("off")

    @admin.display(description=_("version"))
    def current_version_number(self, journey):
        return journey.current_version.number if journey.current_version else "—"

    @admin.display(description=_("in progress"))
    def in_progress(self, journey):
        return journey.enrolments.filter(status=EnrolmentStatus.ACTIVE).count()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("current_version")

    @admin.display(description=_("figures"))
    def figures(self, journey):
        if journey.pk is None:
            return "—"
        figures = journey_figures(journey=journey)
        rows = [
            (gettext("Members entered"), figures.entered),
            (gettext("In progress"), figures.in_progress),
            (gettext("Completed"), figures.completed),
            (gettext("Left"), figures.exited),
        ]
        rows += [("· " + str(ExitReason(reason).label if reason in ExitReason.values
                             else reason), n)
                 for reason, n in sorted(figures.exited_by_reason.items())]
        rows += [(gettext("Kept as holdout"), figures.holdout),
                 (gettext("Messages sent"), figures.messages_sent)]
        rows += attribution_rows(figures.attribution)
        return format_html("<table>{}</table>", format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>", rows))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        journey = form.instance
        with reported(request):
            before = journey.current_version_id
            version = journey_publish(journey=journey, actor=request.user)
            if version.pk != before:
                self.message_user(request, gettext(
                    "Published as version %(n)s. Members already in the journey stay on "
                    "their version; “Move members to the current version” moves them.")
                    % {"n": version.number}, messages.SUCCESS)

    @admin.action(description=_("Switch on"))
    def switch_on(self, request, queryset):
        n = journeys_switch(journeys=queryset, enabled=True)
        if n < queryset.count():
            self.message_user(request, gettext(
                "A journey without a published version stays off: add its steps first."),
                messages.WARNING)
        self.message_user(request, ngettext("%(n)s journey switched on.",
                                            "%(n)s journeys switched on.", n) % {"n": n})

    @admin.action(description=_("Switch off"))
    def switch_off(self, request, queryset):
        n = journeys_switch(journeys=queryset, enabled=False)
        self.message_user(request, ngettext("%(n)s journey switched off.",
                                            "%(n)s journeys switched off.", n) % {"n": n})

    @admin.action(description=_("Move members in progress to the current version"))
    def move_to_current(self, request, queryset):
        moved = 0
        for journey in queryset.select_related("current_version"):
            with reported(request):
                moved += enrolments_move_to_current(journey=journey)
        self.message_user(request, ngettext("%(n)s member moved.", "%(n)s members moved.",
                                            moved) % {"n": moved})

    @admin.action(description=_("Resume (after fixing what paused it)"))
    def resume(self, request, queryset):
        for journey in queryset:
            with reported(request):
                journey_resume(journey=journey, actor=request.user)
        self.message_user(request, gettext("Resumed."))


def attribution_rows(attribution) -> list[tuple[str, object]]:
    """Campaigns' attribution (marketing.selectors.attribution) in words."""
    if attribution is None:
        return []
    from o2o.money import money as money_display

    treated = attribution.treated
    rows: list[tuple[str, object]] = [
        (pgettext("email", "Opened"), attribution.opened), (gettext("Clicked"), attribution.clicked),
        (gettext("Coupons given"), attribution.coupons),
        (gettext("Coupons redeemed online"), attribution.redeemed_online),
    ]
    rows += [(gettext("Coupons redeemed at %(store)s") % {"store": store}, n)
             for store, n in sorted(attribution.redeemed_by_store.items())]
    rows += [
        (gettext("Orders within %(days)s days") % {"days": attribution.window_days},
         treated.orders),
        (gettext("Revenue attributed"), money_display(treated.revenue)),
        (gettext("Revenue attributed online"), money_display(treated.revenue_online)),
    ]
    rows += [(gettext("Revenue attributed at %(store)s") % {"store": store},
              money_display(amount)) for store, (_n, amount) in sorted(treated.by_store.items())]
    if attribution.held_out:
        if attribution.lift is None:
            rows.append((gettext("Lift against the holdout"), gettext("not enough members yet")))
        else:
            rows.append((gettext("Lift against the holdout"), gettext(
                "%(lift).1f points (95%% interval %(low).1f to %(high).1f)") % {
                "lift": attribution.lift, "low": attribution.lift_low or 0,
                "high": attribution.lift_high or 0}))
    return rows


@admin.register(JourneyEnrolment)
class JourneyEnrolmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    fields = ["member", "journey", "version", "occasion", "status", "exit_reason",
              "step_index", "due_at", "holdout", "messages_sent", "entered_at", "finished_at"]
    list_display = ["member", "journey", "occasion", "status", "exit_reason", "due_at",
                    "version", "messages_sent", "entered_at"]
    list_filter = ["journey", "status", "exit_reason", "holdout"]
    search_fields = ["member__phone", "member__email", "member__name", "occasion"]
    list_select_related = ["member", "journey", "version", "version__journey"]
    date_hierarchy = "entered_at"
    actions = ["remove"]

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Remove from the journey"),
                  permissions=["remove"])
    def remove(self, request, queryset):
        n = queryset.filter(status=EnrolmentStatus.ACTIVE).update(
            status=EnrolmentStatus.EXITED, exit_reason=ExitReason.REMOVED, due_at=None,
            finished_at=timezone.now())
        self.message_user(request, ngettext("%(n)s member removed.", "%(n)s members removed.",
                                            n) % {"n": n})

    def has_remove_permission(self, request):
        return request.user.has_perm("journeys.change_journey")


@admin.register(GoldPriceAlert)
class GoldPriceAlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["member", "metal", "purity", "target_per_gram", "created_at", "fired_at",
                    "fired_rate"]
    list_filter = ["metal", "purity"]
    search_fields = ["member__phone", "member__email"]
    list_select_related = ["member"]
