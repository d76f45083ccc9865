"""Marketers' screens: coupon definitions and their issuing tools, issued coupons,
redemptions and printed batches.

Thin: the definition is a plain record edited here; everything issued goes through
members.services (issue to members or a list of numbers, public code, printed batch,
void). Coupons, redemptions and batches are read-only. Every refused input answers 400
with the reason on the page, never a 500. Lists show members' mobile numbers masked, for
every role; a full number typed in the coupon search finds its member's coupons.
"""

from __future__ import annotations

import time

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from members.models import Coupon, CouponBatch, CouponDefinition, Redemption, User
from members.selectors import coupon_definitions_with_counts, coupon_describe
from members.services.coupon_issuing import (
    coupon_batch_create,
    coupon_batch_csv,
    coupon_code_clean,
    coupon_public_create,
    coupon_void,
    coupons_issue_to_members,
    coupons_issue_to_phones,
)
from o2o.admin_kit import ReadOnlyAdminMixin, ReadOnlyInline, money_column
from o2o.errors import ApplicationError, error_response, reported
from o2o.parsing import whole_number
from o2o.phone import phone_mask, phone_normalize
from o2o.quiet_hours import quiet_hours

from .exports import attribution_csv, attribution_rows
from .forms import (
    LANGUAGES,
    TEXTS,
    BatchForm,
    CampaignForm,
    CouponDefinitionForm,
    IssueForm,
    PublicCodeForm,
    SegmentForm,
    text_field_name,
)
from .models import Campaign, CampaignEvent, CampaignStatus, Segment, SkipReason
from .selectors import attribution
from .services.campaigns import (
    CAMPAIGNS,
    campaign_cancel,
    campaign_create,
    campaign_pause,
    campaign_problems,
    campaign_resume,
    campaign_schedule,
    campaign_test_send,
    campaign_unschedule,
    campaign_update,
)
from .services.segment_writes import segment_save
from .services.segments import (
    SegmentInvalid,
    segment_count,
    segment_describe,
    segment_queryset,
    segment_rules_clean,
)

UNKNOWN_SHOWN = 500  # unknown numbers listed on the result page


def _member_label(user: User | None) -> str:
    """Name and masked mobile: lists never show a member's full number."""
    if user is None:
        return "—"
    return " ".join(part for part in (user.name, phone_mask(user.phone)) if part) or f"#{user.pk}"


class StatusFourHundredMixin:
    """The admin re-renders an invalid change form with 200; we answer 400, like every
    other refused input."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        if request.method == "POST" and response.status_code == 200:
            context = getattr(response, "context_data", None) or {}
            if context.get("errors"):
                response.status_code = 400
        return response


# --- Definitions and their tools ------------------------------------------------------------


@admin.register(CouponDefinition)
class CouponDefinitionAdmin(StatusFourHundredMixin, admin.ModelAdmin):
    form = CouponDefinitionForm
    list_display = ["name", "value_in_words", "channel", "valid_from", "valid_until",
                    "in_force", "issued", "redeemed"]
    list_filter = ["is_active", "kind", "channel", "birthday_tiers"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["categories", "collections", "products", "excluded_categories",
                           "excluded_products"]
    filter_horizontal = ["birthday_tiers"]
    readonly_fields = ["created_by", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "description", "is_active"]}),
        (_("Value"), {
            "fields": ["kind", "value", "cap", "min_spend"],
            "description": _("Percent off (value 10 = 10%, a cap limits it), an amount off, "
                             "or an amount off above a spend (满减: value and minimum "
                             "spend)."),
        }),
        (_("Where it works"), {
            "fields": ["channel", "categories", "collections", "products",
                       "excluded_categories", "excluded_products"],
            "description": _("No category, collection or product: every piece counts. "
                             "Exclusions always win."),
        }),
        (_("Validity"), {
            "fields": ["valid_from", "valid_until", "valid_days"],
            "description": _("A window, days from issue, or both (the earlier end wins)."),
        }),
        (_("Limits and stacking"), {
            "fields": ["total_limit", "per_member_limit", "stacks_with_points"],
        }),
        (_("Birthday gift"), {"fields": ["birthday_tiers"]}),
        (_("Record"), {"fields": ["created_by", "created_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return coupon_definitions_with_counts(super().get_queryset(request))

    @admin.display(description=_("value"))
    def value_in_words(self, definition):
        return coupon_describe(definition)

    @admin.display(description=_("active"), boolean=True, ordering="is_active")
    def in_force(self, definition):
        """The tick a marketer reads as "works now": switched on and not yet ended (an
        offer that ended keeps is_active, but no longer works)."""
        if not definition.is_active:
            return False
        return definition.valid_until is None or definition.valid_until > timezone.now()

    @admin.display(description=_("issued"), ordering="issued_count")
    def issued(self, definition):
        return definition.issued_count

    @admin.display(description=_("redeemed"), ordering="redeemed_count")
    def redeemed(self, definition):
        return definition.redeemed_count

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        # Issued coupons and redemptions keep their definition (PROTECT): deactivate it.
        return False

    # --- The tools: issue, public code, printed batch ---

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/issue/", wrap(self.issue_view),
                 name="members_coupondefinition_issue"),
            path("<int:pk>/public-code/", wrap(self.public_code_view),
                 name="members_coupondefinition_public_code"),
            path("<int:pk>/batch/", wrap(self.batch_view),
                 name="members_coupondefinition_batch"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_issue": request.user.has_perm("members.add_coupon"),
                 "can_batch": request.user.has_perm("members.add_couponbatch")}
        return super().change_view(request, object_id, form_url, {**extra,
                                                                  **(extra_context or {})})

    def _tool(self, request, pk, perm: str) -> CouponDefinition:
        definition = get_object_or_404(CouponDefinition, pk=pk)
        if not (self.has_view_permission(request, definition) and request.user.has_perm(perm)):
            raise PermissionDenied
        return definition

    def _render(self, request, definition, title, form, *, status=200, **extra):
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": title, "definition": definition, "form": form,
                   "description": coupon_describe(definition), **extra}
        return TemplateResponse(request, "admin/members/coupondefinition/tool.html", context,
                                status=status)

    def _back(self, definition):
        return HttpResponseRedirect(
            reverse("admin:members_coupondefinition_change", args=[definition.pk]))

    def _tool_view(self, request, pk, *, perm: str, title: str, tool: str, form_class, act):
        """GET: the tool's form. POST: the form checked (400 with its errors), then
        ``act(definition, cleaned_data, render)`` calls the service and answers; a refusal
        (ApplicationError) shows the form again with the reason and its status."""
        definition = self._tool(request, pk, perm)
        title = title % {"name": definition.name}

        def render(form, status=200, **extra):
            return self._render(request, definition, title, form, tool=tool, status=status,
                                **extra)

        if request.method != "POST":
            return render(form_class())
        form = form_class(request.POST)
        if not form.is_valid():
            return render(form, status=400)
        try:
            return act(definition, form.cleaned_data, render)
        except ApplicationError as exc:
            return render(form, status=exc.status, error=exc.message)

    def issue_view(self, request, pk):
        """Issue one coupon each to pasted mobile numbers or to every member of tiers."""

        def act(definition, data, render):
            if data["phones"].strip():
                issued, unknown = coupons_issue_to_phones(
                    definition=definition, phones_text=data["phones"], actor=request.user)
            else:
                members = User.objects.filter(profile__tier__in=data["tiers"])
                issued = coupons_issue_to_members(definition=definition, members=members,
                                                  actor=request.user)
                unknown = []
            messages.success(request, ngettext(
                "%(count)s coupon issued (members who already held an unused one were skipped).",
                "%(count)s coupons issued (members who already held an unused one were skipped).",
                issued) % {"count": issued})
            if not unknown:
                return self._back(definition)
            return render(IssueForm(), unknown=unknown[:UNKNOWN_SHOWN],
                          unknown_count=len(unknown), issued=issued)

        return self._tool_view(request, pk, perm="members.add_coupon",
                               title=gettext("Issue “%(name)s” to members"), tool="issue",
                               form_class=IssueForm, act=act)

    def public_code_view(self, request, pk):
        """A code of the marketer's choosing that any shopper may type."""

        def act(definition, data, render):
            coupon = coupon_public_create(definition=definition, code=data["code"],
                                          max_uses=data["max_uses"], actor=request.user)
            messages.success(request, gettext("Public code %(code)s created.") % {
                "code": coupon.code})
            return self._back(definition)

        return self._tool_view(request, pk, perm="members.add_coupon",
                               title=gettext("A public code for “%(name)s”"), tool="public",
                               form_class=PublicCodeForm, act=act)

    def batch_view(self, request, pk):
        """A batch of single-use codes for printing; then its page offers the CSV."""

        def act(definition, data, render):
            batch = coupon_batch_create(definition=definition, quantity=data["quantity"],
                                        note=data["note"], actor=request.user)
            messages.success(request, ngettext(
                "%(count)s code made. Download the CSV to print them.",
                "%(count)s codes made. Download the CSV to print them.",
                batch.quantity) % {"count": batch.quantity})
            return HttpResponseRedirect(
                reverse("admin:members_couponbatch_change", args=[batch.pk]))

        return self._tool_view(request, pk, perm="members.add_couponbatch",
                               title=gettext("Print a batch of “%(name)s” codes"), tool="batch",
                               form_class=BatchForm, act=act)


# --- Issued coupons ------------------------------------------------------------------------


class BatchFilter(admin.SimpleListFilter):
    """The latest batches, with their definitions in the same query."""

    title = _("batch")
    parameter_name = "batch"
    shown = 50

    def lookups(self, request, model_admin):
        return [(batch.pk, str(batch)) for batch in CouponBatch.objects
                .select_related("definition").order_by("-created_at", "-pk")[:self.shown]]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        batch_id = whole_number(value)
        return queryset.filter(batch_id=batch_id) if batch_id is not None else queryset.none()


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    """Read-only: coupons are issued from their definition's page and voided by the action
    (members.services). Search by code (as typed) or by the member's full mobile
    number."""

    list_display = ["code", "definition", "holder", "batch", "status", "uses", "max_uses",
                    "expires_at", "issued_at"]
    list_filter = ["status", "definition", BatchFilter]
    search_fields = ["code"]
    search_help_text = _("A code, or a member's full mobile number.")
    readonly_fields = ["definition", "code", "holder", "batch", "max_uses", "uses", "status",
                       "expires_at", "occasion", "issued_by", "issued_at"]
    fields = readonly_fields
    actions = ["void_selected"]

    @admin.display(description=_("member"), ordering="member__name")
    def holder(self, coupon):
        return _member_label(coupon.member)

    def get_queryset(self, request):
        # The change list applies list_select_related only to a queryset without any.
        return super().get_queryset(request).select_related(
            "definition", "member", "batch__definition", "issued_by")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().replace("\x00", "")
        if not term:
            return queryset, False
        try:
            phone = phone_normalize(term[:32])
        except ValidationError:
            phone = None
        code = coupon_code_clean(term)[:24]
        if phone:
            return queryset.filter(member__phone=phone), False
        return queryset.filter(code__startswith=code) if code else queryset.none(), False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"show_save": False, "show_save_and_continue": False,
                 "show_save_and_add_another": False, "show_delete": False}
        return super().change_view(request, object_id, form_url,
                                   {**extra, **(extra_context or {})})

    def save_model(self, request, obj, form, change):
        raise PermissionDenied  # nothing is edited here; the fields are read-only anyway

    @admin.action(description=_("Void the selected unused coupons"), permissions=["change"])
    def void_selected(self, request, queryset):
        done = 0
        for coupon in queryset.order_by("pk"):
            try:
                coupon_void(coupon=coupon, actor=request.user)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                done += 1
        if done:
            messages.success(request, ngettext("%(count)s coupon voided.",
                                               "%(count)s coupons voided.", done)
                             % {"count": done})


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Redemptions are written by the coupon engine when an order uses a coupon."""

    list_display = ["coupon", "definition", "holder", "reference", "channel", "store",
                    money_column(Redemption, "discount"), "redeemed_at", "reversed_at"]
    list_filter = ["channel", "definition", ("store", admin.RelatedOnlyFieldListFilter),
                   ("reversed_at", admin.EmptyFieldListFilter)]
    search_fields = ["reference", "coupon__code"]
    date_hierarchy = "redeemed_at"
    readonly_fields = ["coupon", "definition", "holder", "reference", "channel", "store",
                       "discount", "actor", "redeemed_at", "reversed_at", "reversed_by"]
    fields = readonly_fields

    @admin.display(description=_("member"))
    def holder(self, redemption):
        return _member_label(redemption.member)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "coupon", "definition", "member", "store", "actor", "reversed_by")


@admin.register(CouponBatch)
class CouponBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Batches are made from their definition's page; here they are listed and downloaded."""

    list_display = ["__str__", "definition", "quantity", "note", "created_by", "created_at",
                    "download"]
    list_filter = ["definition"]
    search_fields = ["note", "definition__name"]
    list_select_related = ["definition", "created_by"]
    readonly_fields = ["definition", "quantity", "note", "created_by", "created_at", "download"]
    fields = readonly_fields

    @admin.display(description=_("codes for printing"))
    def download(self, batch):
        return format_html('<a class="button" href="{}" download>{}</a>',
                           reverse("admin:members_couponbatch_csv", args=[batch.pk]),
                           gettext("Download CSV"))

    def get_urls(self):
        return [
            path("<int:pk>/csv/", self.admin_site.admin_view(self.csv_view),
                 name="members_couponbatch_csv"),
            *super().get_urls(),
        ]

    def csv_view(self, request, pk):
        batch = get_object_or_404(CouponBatch.objects.select_related("definition"), pk=pk)
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        # A byte-order mark, so spreadsheet programs read the Chinese text as UTF-8.
        response = HttpResponse("\ufeff" + coupon_batch_csv(batch),
                                content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="coupons-batch-{batch.pk}.csv"'
        response["Cache-Control"] = "no-store"
        return response



# --- Segments ------------------------------------------------------------------------------

SAMPLE_SIZE = 10
VIEW_CONTACT = "members.view_contact"


def segment_sample(rules: dict, *, reveal: bool) -> list[dict]:
    """A few members of the segment for the builder: name, mobile (masked unless the
    user may see contacts), tier."""
    rows = (segment_queryset(rules).select_related("profile__tier").order_by("pk")
            [:SAMPLE_SIZE])
    sample = []
    for user in rows:
        profile = getattr(user, "profile", None)
        tier = profile.tier.title if profile is not None and profile.tier else ""
        sample.append({"name": user.name or "—",
                       "phone": (user.phone or "") if reveal else phone_mask(user.phone),
                       "tier": tier})
    return sample


@admin.register(Segment)
class SegmentAdmin(StatusFourHundredMixin, admin.ModelAdmin):
    """The segment builder with the live count and a sample of matching members."""

    form = SegmentForm
    list_display = ["name", "conditions", "members_now", "updated_at"]
    search_fields = ["name", "description"]
    change_form_template = "admin/marketing/segment/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "description", "match"]}),
        (_("Who they are"), {"fields": ["tiers", "genders", ("age_min", "age_max"),
                                        "born_within_days", "wedding_within_days"]}),
        (_("Where they are"), {"fields": ["home_stores", "bought_at",
                                          ("near_store", "near_km"), "channel"]}),
        (_("What they bought"), {"fields": [
            ("recency_min", "recency_max"), ("frequency_min", "frequency_max"),
            ("monetary_min", "monetary_max"), ("spend_min", "spend_max", "spend_days"),
            "bought_categories", "bought_collections", "bought_materials",
            "wishlist_categories", "has_coupon"]}),
        (_("What they looked at"), {"fields": [
            "viewed_categories", "viewed_collections", "viewed_materials", "viewed_days"]}),
        (_("How we may reach them"), {"fields": ["consent", "not_messaged_days"]}),
        (_("Leave out"), {"fields": ["except_tiers", "except_bought_categories"]}),
    ]

    @admin.display(description=_("conditions"))
    def conditions(self, segment):
        return segment_describe(segment.rules)

    @admin.display(description=_("members now"))
    def members_now(self, segment):
        return segment_count(segment)

    def get_urls(self):
        return [path("preview/", self.admin_site.admin_view(self.preview_view),
                     name="marketing_segment_preview"), *super().get_urls()]

    def save_model(self, request, obj, form, change):
        # Rules the builder cannot show are kept as they are (only the name and the
        # description change): the empty fields must not replace them.
        saved = Segment.objects.get(pk=obj.pk) if change else None
        kept = saved is not None and not SegmentForm(instance=saved).shows_rules_of_instance()
        segment_save(segment=obj, rules=saved.rules if kept else form.rules(),
                     actor=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = {"preview_url": reverse("admin:marketing_segment_preview")}
        if object_id:
            segment = Segment.objects.filter(pk=whole_number(object_id) or 0).first()
            if segment is not None:
                extra["words"] = segment_describe(segment.rules)
                if request.method == "GET" and \
                        not SegmentForm(instance=segment).shows_rules_of_instance():
                    messages.warning(request, gettext(
                        "These conditions were saved in a shape the builder cannot show: "
                        "they are above in words. Saving here keeps them as they are "
                        "(only the name and the description change); to change them, make "
                        "a new segment."))
        return super().changeform_view(request, object_id, form_url,
                                       {**extra, **(extra_context or {})})

    def preview_view(self, request):
        """The live count: the builder's fields (POST) -> the count, a sample and the
        rules in words, as JSON for the page's script."""
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        form = SegmentForm(request.POST)
        form.is_valid()
        problems = {name: errors for name, errors in form.errors.items()
                    if name not in ("name", "description", "__all__")}
        if problems:
            # The page's script shows ``detail`` only: it names each condition and why.
            detail = " ".join(gettext("%(condition)s: %(reason)s") % {
                "condition": form.fields[name].label, "reason": " ".join(str(e) for e in errors)}
                for name, errors in problems.items() if name in form.fields)
            return JsonResponse({"code": "invalid", "detail": detail or gettext(
                "Check the conditions marked on the page."),
                "fields": {k: [str(e) for e in v] for k, v in problems.items()}}, status=400)
        try:
            rules = segment_rules_clean(form.rules())
            started = time.monotonic()
            count = segment_count(rules)
            took = time.monotonic() - started
        except SegmentInvalid as exc:
            return error_response(exc)
        return JsonResponse({
            "count": count, "ms": round(took * 1000), "words": segment_describe(rules),
            "sample": segment_sample(rules, reveal=request.user.has_perm(VIEW_CONTACT)),
        })


# --- Campaigns -----------------------------------------------------------------------------


class CampaignEventInline(ReadOnlyInline):
    model = CampaignEvent
    fields = ["at", "kind", "actor", "note"]
    readonly_fields = fields
    verbose_name_plural = _("history")


ACTIONS = {
    "schedule": (campaign_schedule, _("Scheduled.")),
    "send_now": (campaign_schedule, _("Sending starts within a minute.")),
    "unschedule": (campaign_unschedule, _("Back to draft.")),
    "pause": (campaign_pause, _("Paused.")),
    "resume": (campaign_resume, _("Sending again.")),
    "cancel": (campaign_cancel, _("Cancelled.")),
}


@admin.register(Campaign)
class CampaignAdmin(StatusFourHundredMixin, admin.ModelAdmin):
    """Campaigns: a draft is edited here; its moves (schedule, send now, pause, resume,
    cancel, test) are buttons that call marketing.services.campaigns; once scheduled
    nothing is editable. The report shows what it earned."""

    form = CampaignForm
    list_display = ["name", "segment", "coupon_definition", "status", "send_time",
                    "audience_size", "report_link"]
    list_filter = ["status"]
    search_fields = ["name"]
    list_select_related = ["segment", "coupon_definition"]
    change_form_template = "admin/marketing/campaign/change_form.html"
    inlines = [CampaignEventInline]
    readonly_fields = ["status", "audience_size", "holdout_size", "launched_at",
                       "finished_at", "note"]

    def get_fieldsets(self, request, obj=None):
        texts = [tuple(text_field_name(field, code) for code, _l in LANGUAGES)
                 for field, _label, _n, _long in TEXTS]
        if obj is not None and obj.status != CampaignStatus.DRAFT:
            return [(None, {"fields": ["name", "segment", "coupon_definition", "channels_in_words",
                                       "scheduled_at", "quiet_hours_in_words",
                                       "holdout_percent", "capped",
                                       "status", "audience_size", "holdout_size",
                                       "launched_at", "finished_at", "note"]})]
        return [
            (None, {"fields": ["name", "segment", "coupon_definition"]}),
            (_("Channels"), {"fields": [("send_email", "send_sms", "send_inbox"), "link"]}),
            (_("What they are told"), {"fields": texts}),
            (_("When and to whom"), {"fields": ["scheduled_at", ("quiet_from", "quiet_until"),
                                                "capped", "holdout_percent"]}),
            (_("State"), {"fields": ["status", "note"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != CampaignStatus.DRAFT:
            return ["name", "segment", "coupon_definition", "channels_in_words",
                    "scheduled_at", "quiet_hours_in_words", "holdout_percent", "capped",
                    *self.readonly_fields]
        return self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and obj.status != CampaignStatus.DRAFT:
            kwargs["fields"] = []
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description=_("channels"))
    def channels_in_words(self, campaign):
        names = {"email": gettext("email"), "sms": gettext("text message"),
                 "inbox": gettext("inbox")}
        return "、".join(names[c] for c in campaign.channels) or "—"

    @admin.display(description=_("quiet hours"))
    def quiet_hours_in_words(self, campaign):
        window = campaign.quiet_window or quiet_hours()
        if window is None:
            return gettext("none")
        start, end = (time_format(moment, "H:i") for moment in window)
        if campaign.quiet_window is None:
            return gettext("%(start)s to %(end)s (the shop's)") % {"start": start, "end": end}
        return gettext("%(start)s to %(end)s") % {"start": start, "end": end}

    @admin.display(description=_("send at"), ordering="scheduled_at")
    def send_time(self, campaign):
        return date_format(timezone.localtime(campaign.scheduled_at), "DATETIME_FORMAT") \
            if campaign.scheduled_at else "—"

    @admin.display(description=_("report"))
    def report_link(self, campaign):
        if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            return "—"
        return format_html('<a href="{}">{}</a>',
                           reverse("admin:marketing_campaign_report", args=[campaign.pk]),
                           gettext("What it earned"))

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in CampaignForm.Meta.fields
                  if name in form.cleaned_data}
        fields.update(form.texts())
        if not change:
            created = campaign_create(actor=request.user, **fields)
            obj.pk = created.pk
            return
        campaign_update(campaign=obj, actor=request.user, **fields)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            # Edited while it moved on (sending): the reason, and nothing saved.
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:marketing_campaign_change",
                                                args=[object_id])) \
                if object_id else HttpResponseRedirect(
                    reverse("admin:marketing_campaign_changelist"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = Campaign.objects.select_related("segment").filter(
            pk=whole_number(object_id) or 0).first()
        extra: dict = {}
        if campaign is not None:
            allowed = set(CAMPAIGNS.next_statuses(campaign))
            extra = {
                "campaign": campaign,
                "can_act": self.has_change_permission(request, campaign),
                "can_schedule": CampaignStatus.SCHEDULED in allowed,
                "can_unschedule": campaign.status == CampaignStatus.SCHEDULED,
                "can_pause": CampaignStatus.PAUSED in allowed,
                "can_resume": campaign.status == CampaignStatus.PAUSED,
                "can_cancel": CampaignStatus.CANCELLED in allowed,
                "segment_words": segment_describe(campaign.segment.rules),
                "segment_count": segment_count(campaign.segment),
                "problems": campaign_problems(campaign, check_audience=False)
                if campaign.status == CampaignStatus.DRAFT else [],
                "report_url": reverse("admin:marketing_campaign_report", args=[campaign.pk]),
            }
        return super().change_view(request, object_id, form_url,
                                   {**extra, **(extra_context or {})})

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/act/<str:action>/", wrap(self.act_view),
                 name="marketing_campaign_act"),
            path("<int:pk>/test/", wrap(self.test_view), name="marketing_campaign_test"),
            path("<int:pk>/report/", wrap(self.report_view), name="marketing_campaign_report"),
            *super().get_urls(),
        ]

    def _campaign(self, request, pk, *, change: bool) -> Campaign:
        campaign = get_object_or_404(Campaign.objects.select_related("segment"), pk=pk)
        allowed = (self.has_change_permission(request, campaign) if change
                   else self.has_view_permission(request, campaign))
        if not allowed:
            raise PermissionDenied
        return campaign

    def act_view(self, request, pk, action):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        campaign = self._campaign(request, pk, change=True)
        if action not in ACTIONS:
            return HttpResponseBadRequest(gettext("Unknown action."))
        service, done = ACTIONS[action]
        back = HttpResponseRedirect(reverse("admin:marketing_campaign_change", args=[pk]))
        kwargs: dict = {"campaign": campaign, "actor": request.user}
        if action == "schedule":
            if campaign.scheduled_at is None:
                messages.error(request, gettext("Give a send time first (or press Send now)."))
                back.status_code = 302
                return back
            kwargs["send_at"] = campaign.scheduled_at
        elif action == "send_now" and campaign.status == CampaignStatus.DRAFT:
            Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.DRAFT).update(
                scheduled_at=None)
            campaign.scheduled_at = None
        with reported(request) as outcome:
            service(**kwargs)
        if outcome.ok:
            messages.success(request, done)
        return back

    def test_view(self, request, pk):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        campaign = self._campaign(request, pk, change=False)
        with reported(request):
            address = campaign_test_send(campaign=campaign, actor=request.user)
            messages.success(request, gettext("A test email is on its way to %(address)s.")
                             % {"address": address})
        return HttpResponseRedirect(reverse("admin:marketing_campaign_change", args=[pk]))

    def report_view(self, request, pk):
        campaign = self._campaign(request, pk, change=False)
        days = whole_number(request.GET.get("days", "")) or None
        if days is not None and not 1 <= days <= 90:
            days = None
        report = attribution(source="campaign", source_id=campaign.pk, window_days=days)
        if request.GET.get("export") == "csv":
            response = HttpResponse("\ufeff" + attribution_csv(report, title=campaign.name),
                                    content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="campaign-{campaign.pk}-report.csv"')
            return response
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": gettext("What “%(name)s” earned") % {"name": campaign.name},
                   "campaign": campaign, "report": report,
                   "skip_labels": dict(SkipReason.choices),
                   "rows": attribution_rows(report)}
        return TemplateResponse(request, "admin/marketing/campaign/report.html", context)
