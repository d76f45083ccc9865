"""Staff screens of the feedback app. Thin: they call feedback.services and selectors.

- Surveys: a survey per moment, its versions; a published version is shown read-only
  (the database refuses changes anyway), "New version" drafts a copy to edit, "Publish"
  makes it the one sent.
- Feedback cases: the store's follow-ups, overdue first; the case page shows the shopper's
  words and how to reach them (the mobile number whole only with members.view_contact),
  the answers, the trail and the messages, and the steps: take it, add a note, close it
  with an outcome (a coupon from an active offer for "compensated").
- Survey answers and invitations: read-only lists.
- Feedback report: the feedback panels (o2o.dashboard) for a period and a store, and the
  answers as CSV or Excel.

Store staff and managers see their own stores only; ``stores.view_all_stores`` (head
office, marketing, analysts) and superusers see all (feedback.selectors.feedback_store_ids).
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from members.models import CouponDefinition
from members.selectors import coupon_definitions_active, coupon_describe
from o2o.admin_kit import (
    AuditEventInline,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ScreenEntryAdmin,
    outbox_summary,
)
from o2o.dashboard import DASHBOARD, HOME, Scope, panels_for
from o2o.errors import reported
from o2o.outbox import messages_about
from o2o.phone import phone_mask
from stores.models import Store

from .exports import FORMATS, export_response
from .models import (
    Answer,
    CaseOutcome,
    CaseStatus,
    Choice,
    FeedbackCase,
    FeedbackCaseEvent,
    FeedbackReport,
    Question,
    Survey,
    SurveyInvitation,
    SurveyResponse,
    SurveyVersion,
)
from .selectors import feedback_store_ids, stores_in_scope, version_questions
from .services import (
    case_assign,
    case_close,
    case_may_act,
    case_note,
    survey_version_draft,
    survey_version_problems,
    survey_version_publish,
)
from .services.cases import case_reasons
from .services.invitations import about_invitation

VIEW_CONTACT = "members.view_contact"


def store_ids(request) -> set[int] | None:
    """The stores whose feedback the user sees (None: all); cached on the request."""
    if not hasattr(request, "_feedback_store_ids"):
        request._feedback_store_ids = feedback_store_ids(user=request.user)
    return request._feedback_store_ids


def _act(request, label: str, call) -> bool:
    """Call a service; its refusal (ApplicationError) becomes an error message, not a 500."""
    with reported(request, prefix=label) as outcome:
        call()
    return outcome.ok


class FeedbackScopedMixin:
    """Rows of stores the user does not see are invisible (lists, pages, actions)."""

    store_path = "store"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        ids = store_ids(request)
        return queryset if ids is None else queryset.filter(**{f"{self.store_path}__in": ids})


class HiddenFromIndexMixin:
    """Reached from its parent's page, not listed on the admin index."""

    def get_model_perms(self, request):
        return {}


# --- Surveys ------------------------------------------------------------------------------


class VersionInline(ReadOnlyInline):
    model = SurveyVersion
    fields = ["number", "state", "published_at", "questions_count"]
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = _("versions")

    @admin.display(description=_("state"))
    def state(self, version):
        return gettext("published") if version.is_published else gettext("draft")

    @admin.display(description=_("questions"))
    def questions_count(self, version):
        return version.questions.count()


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "trigger", "delay_minutes", "is_active", "current_version"]
    list_filter = ["trigger", "is_active"]
    fields = ["name", "name_en", "trigger", "delay_minutes", "is_active"]
    inlines = [VersionInline]
    change_form_template = "admin/feedback/survey/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("versions")

    @admin.display(description=_("version sent"))
    def current_version(self, survey):
        published = [v.number for v in survey.versions.all() if v.is_published]
        return f"v{max(published)}" if published else gettext("none published yet")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [path("<int:pk>/draft/", self.admin_site.admin_view(self.draft_view),
                     name="feedback_survey_draft"), *super().get_urls()]

    def draft_view(self, request, pk):
        """POST: the survey's draft (a copy of the newest version), then its page."""
        if request.method != "POST" or not request.user.has_perm("feedback.add_surveyversion"):
            raise PermissionDenied
        survey = get_object_or_404(Survey, pk=pk)
        draft = survey_version_draft(survey=survey, actor=request.user)
        messages.success(request, gettext("Version %(number)s is a draft: change it, then "
                                          "publish it.") % {"number": draft.number})
        return redirect("admin:feedback_surveyversion_change", draft.pk)


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 2
    fields = ["position", "value", "label", "label_en", "alerts"]


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 1
    fields = ["position", "kind", "code", "text", "text_en", "required"]
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return obj is not None and not obj.is_published and super().has_add_permission(
            request, obj)

    def has_change_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_change_permission(
            request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_delete_permission(
            request, obj)


@admin.register(SurveyVersion)
class SurveyVersionAdmin(HiddenFromIndexMixin, admin.ModelAdmin):
    list_display = ["__str__", "published_at"]
    fields = ["survey", "number", "intro", "intro_en", "thanks", "thanks_en", "published_at",
              "published_by", "choices_to_edit"]
    readonly_fields = ["survey", "number", "published_at", "published_by", "choices_to_edit"]
    inlines = [QuestionInline]
    change_form_template = "admin/feedback/surveyversion/change_form.html"

    def has_add_permission(self, request):
        return False  # a version is drafted from its survey's page

    def has_change_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_change_permission(
            request, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and not obj.is_published and super().has_delete_permission(
            request, obj)

    @admin.display(description=_("answers to choose from"))
    def choices_to_edit(self, version):
        rows = []
        for question in version_questions(version):
            if not question.has_choices:
                continue
            labels = "、".join(c.title for c in question.choices.all()) or gettext("none yet")
            rows.append(format_html('<li><a href="{}">{}</a>: {}</li>', reverse(
                "admin:feedback_question_change", args=[question.pk]), question.title, labels))
        return format_html("<ul>{}</ul>", mark_safe("".join(rows))) if rows else "-"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        extra = {}
        if version is not None:
            extra = {"version": version, "problems": [] if version.is_published
                     else survey_version_problems(version),
                     "can_publish": not version.is_published and request.user.has_perm(
                         "feedback.change_surveyversion")}
        return super().change_view(request, object_id, form_url, {**extra,
                                                                   **(extra_context or {})})

    def response_change(self, request, obj):
        return redirect("admin:feedback_surveyversion_change", obj.pk)

    def get_urls(self):
        return [path("<int:pk>/publish/", self.admin_site.admin_view(self.publish_view),
                     name="feedback_surveyversion_publish"), *super().get_urls()]

    def publish_view(self, request, pk):
        if request.method != "POST" or not request.user.has_perm("feedback.change_surveyversion"):
            raise PermissionDenied
        version = get_object_or_404(SurveyVersion, pk=pk)
        if _act(request, gettext("Not published"),
                lambda: survey_version_publish(version=version, actor=request.user)):
            messages.success(request, gettext("Version %(number)s is published: new "
                                              "invitations get it.") % {"number": version.number})
            return redirect("admin:feedback_survey_change", version.survey_id)
        return redirect("admin:feedback_surveyversion_change", version.pk)


@admin.register(Question)
class QuestionAdmin(HiddenFromIndexMixin, admin.ModelAdmin):
    fields = ["version", "position", "kind", "code", "text", "text_en", "required"]
    readonly_fields = ["version"]
    inlines = [ChoiceInline]

    def has_add_permission(self, request):
        return False  # added on the version's page

    def has_change_permission(self, request, obj=None):
        return (obj is None or not obj.version.is_published) and super().has_change_permission(
            request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.version.is_published) and super().has_delete_permission(
            request, obj)

    def response_change(self, request, obj):
        return redirect("admin:feedback_surveyversion_change", obj.version_id)


# --- Invitations and answers -------------------------------------------------------------


class NpsGroupFilter(admin.SimpleListFilter):
    title = _("score")
    parameter_name = "nps"

    def lookups(self, request, model_admin):
        return [("detractor", _("unhappy (0-6)")), ("passive", _("passive (7-8)")),
                ("promoter", _("promoters (9-10)"))]

    def queryset(self, request, queryset):
        ranges = {"detractor": (0, 6), "passive": (7, 8), "promoter": (9, 10)}
        if self.value() in ranges:
            low, high = ranges[self.value()]
            return queryset.filter(nps__gte=low, nps__lte=high)
        return queryset


class AnswerInline(ReadOnlyInline):
    model = Answer
    select = ("question",)
    fields = ["question", "given"]
    verbose_name_plural = _("answers")

    @admin.display(description=_("answer"))
    def given(self, answer):
        if answer.score is not None:
            return answer.score
        if answer.choices:
            labels = {c.value: c.title for c in answer.question.choices.all()}
            return "、".join(labels.get(v, v) for v in answer.choices)
        return answer.text


@admin.register(SurveyResponse)
class SurveyResponseAdmin(FeedbackScopedMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["started_at", "store", "staff", "trigger", "nps", "rating", "detractor",
                    "words", "submitted_at"]
    list_filter = ["trigger", NpsGroupFilter, "detractor", ("store", RelatedOnlyFieldListFilter),
                   "channel"]
    search_fields = ["comment", "invitation__reference"]
    date_hierarchy = "started_at"
    list_select_related = ["store", "staff"]
    fields = ["invitation", "version", "trigger", "channel", "store", "staff", "started_at",
              "submitted_at", "nps", "rating", "detractor", "tags", "comment"]
    readonly_fields = fields
    inlines = [AnswerInline]

    @admin.display(description=_("in their words"))
    def words(self, response):
        return (response.comment[:60] + "…") if len(response.comment) > 60 else response.comment


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(FeedbackScopedMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["due_at", "trigger", "reference", "store", "staff", "opened_at", "answered"]
    list_filter = ["trigger", ("store", RelatedOnlyFieldListFilter), "channel"]
    search_fields = ["reference", "occasion"]
    list_select_related = ["store", "staff", "response"]
    date_hierarchy = "due_at"
    fields = ["occasion", "reference", "trigger", "version", "channel", "store", "staff",
              "occurred_at", "due_at", "expires_at", "opened_at", "language", "messages"]
    readonly_fields = fields

    @admin.display(description=_("answered"), boolean=True)
    def answered(self, invitation):
        response = getattr(invitation, "response", None)
        return bool(response and response.submitted_at)

    @admin.display(description=_("messages"))
    def messages(self, invitation):
        return outbox_summary(messages_about(about_invitation(invitation.pk)))


# --- Cases -------------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = _("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", _("overdue")), ("escalated", _("escalated to head office"))]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.exclude(status=CaseStatus.CLOSED).filter(due_at__lte=timezone.now())
        if self.value() == "escalated":
            return queryset.filter(escalated_at__isnull=False)
        return queryset


class CaseEventInline(AuditEventInline):
    model = FeedbackCaseEvent
    verbose_name_plural = _("what happened")


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(
        attrs={"rows": 3, "placeholder": _("A call made, what the shopper said…")}))


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect,
                                choices=[(o.value, o.label) for o in CaseOutcome if o.value])
    resolution = forms.CharField(label=_("What was done"), required=False, max_length=2000,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    coupon = forms.ModelChoiceField(label=_("Coupon to give"), required=False,
                                    queryset=CouponDefinition.objects.none(),
                                    help_text=_("For “compensated”: one coupon of this offer "
                                                "goes to the shopper's wallet."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coupon"].queryset = coupon_definitions_active().order_by("name")
        self.fields["coupon"].label_from_instance = (
            lambda d: f"{d.name} · {coupon_describe(d)}")


@admin.register(FeedbackCase)
class FeedbackCaseAdmin(FeedbackScopedMixin, admin.ModelAdmin):
    list_display = ["case_number", "status", "store", "staff", "why", "owner", "due_at",
                    "overdue"]
    list_filter = ["status", OverdueFilter, ("store", RelatedOnlyFieldListFilter), "outcome"]
    list_select_related = ["store", "staff", "owner", "response"]
    search_fields = ["response__comment", "response__invitation__reference"]
    # Cases still to handle first (soonest due first), then the closed ones, newest first.
    ordering = [Case(When(status=CaseStatus.CLOSED, then=Value(1)), default=Value(0)).asc(),
                "due_at"]
    change_form_template = "admin/feedback/feedbackcase/change_form.html"
    inlines = [CaseEventInline]
    fields: list[str] = []

    def has_add_permission(self, request):
        return False  # opened by unhappy answers only

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("case"), ordering="pk")
    def case_number(self, case):
        return str(case)

    @admin.display(description=_("why"))
    def why(self, case):
        response = case.response
        parts = []
        if response.nps is not None:
            parts.append(f"NPS {response.nps}")
        if response.rating is not None:
            parts.append(f"{response.rating_text}/5")
        words = response.comment[:36] + ("…" if len(response.comment) > 36 else "")
        return format_html("{}<br><span class=\"fb-quote\">{}</span>",
                           " · ".join(parts) or gettext("a chosen answer"),
                           f"“{words}”" if words else "")

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, case):
        return case.is_overdue()

    def _contact(self, request, invitation) -> dict:
        phone = invitation.contact_phone
        shown = phone if request.user.has_perm(VIEW_CONTACT) else phone_mask(phone)
        return {"name": invitation.contact_name, "phone": shown,
                "phone_link": phone if request.user.has_perm(VIEW_CONTACT) else "",
                "email": invitation.contact_email}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        if case is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        response = case.response
        invitation = response.invitation
        answers = list(response.answers.select_related("question")
                       .prefetch_related("question__choices")
                       .order_by("question__position", "question_id"))
        can_act = (case.status != CaseStatus.CLOSED and self.has_change_permission(request, case)
                   and case_may_act(actor=request.user, case=case))
        extra = {
            "title": str(case), "subtitle": None, "case": case, "response": response, "invitation": invitation,
            "answers": answers, "reasons": case_reasons(response),
            "contact": self._contact(request, invitation), "can_act": can_act,
            "note_form": NoteForm(), "close_form": CloseForm(),
            "overdue": case.is_overdue(),
            "messages_sent": outbox_summary(messages_about(f"feedback.case:{case.pk}")),
            "order_url": (reverse("admin:orders_order_change", args=[invitation.order_id])
                          if invitation.order_id else ""),
            "show_save": False, "show_save_and_continue": False,
            "show_save_and_add_another": False, "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, {**extra,
                                                                   **(extra_context or {})})

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/take/", view(self.take_view), name="feedback_feedbackcase_take"),
                path("<int:pk>/note/", view(self.note_view), name="feedback_feedbackcase_note"),
                path("<int:pk>/close/", view(self.close_view), name="feedback_feedbackcase_close"),
                *super().get_urls()]

    def _case_for_post(self, request, pk) -> FeedbackCase:
        if request.method != "POST":
            raise PermissionDenied
        case = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, case):
            raise PermissionDenied
        return case

    def take_view(self, request, pk):
        case = self._case_for_post(request, pk)
        if _act(request, str(case), lambda: case_assign(case=case, owner=request.user,
                                                        actor=request.user)):
            messages.success(request, gettext("%(case)s is yours now.") % {"case": case})
        return redirect("admin:feedback_feedbackcase_change", case.pk)

    def note_view(self, request, pk):
        case = self._case_for_post(request, pk)
        form = NoteForm(request.POST)
        if not form.is_valid():
            messages.error(request, gettext("Write the note first."))
        elif _act(request, str(case), lambda: case_note(case=case, actor=request.user,
                                                        text=form.cleaned_data["text"])):
            messages.success(request, gettext("Note added."))
        return redirect("admin:feedback_feedbackcase_change", case.pk)

    def close_view(self, request, pk):
        case = self._case_for_post(request, pk)
        form = CloseForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, f"{case}: {error}")
            return redirect("admin:feedback_feedbackcase_change", case.pk)
        data = form.cleaned_data
        closed = []
        if _act(request, str(case), lambda: closed.append(case_close(
                case=case, actor=request.user, outcome=data["outcome"],
                resolution=data["resolution"], coupon_definition=data["coupon"]))):
            done = closed[0]
            text = gettext("%(case)s is closed: %(outcome)s.") % {
                "case": done, "outcome": done.get_outcome_display()}
            if done.coupon_id:
                text += " " + gettext("Coupon %(code)s is in the shopper's wallet.") % {
                    "code": done.coupon.code}
            messages.success(request, text)
        return redirect("admin:feedback_feedbackcase_change", case.pk)


# --- The report ---------------------------------------------------------------------------

REPORT_WEEKS = 12


class ReportForm(forms.Form):
    start = forms.DateField(label=pgettext_lazy("period", "From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=pgettext_lazy("period", "To"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    store = forms.ModelChoiceField(label=_("Store"), required=False,
                                   queryset=Store.objects.none(), empty_label=_("all my stores"))

    def __init__(self, *args, stores=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores if stores is not None else Store.objects.none()
        self.fields["store"].label_from_instance = lambda s: s.title

    def period(self) -> tuple[date, date]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(weeks=REPORT_WEEKS) + timedelta(days=1)
        if start > end:
            start, end = end, start
        return start, min(end, start + timedelta(days=366))


@admin.register(FeedbackReport)
class FeedbackReportAdmin(ScreenEntryAdmin):
    needs = ("feedback.view_surveyresponse",)

    @property
    def target(self):
        return reverse("admin:feedback_report")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("report/", view(self.report_view), name="feedback_report"),
                *super().get_urls()]

    def _scope(self, request) -> tuple[ReportForm, Scope]:
        allowed = store_ids(request)
        stores = stores_in_scope(allowed)
        form = ReportForm(request.GET or None, stores=stores)
        start, end = form.period()
        chosen = form.cleaned_data.get("store") if form.is_bound and form.is_valid() else None
        ids = frozenset({chosen.pk}) if chosen else (
            None if allowed is None else frozenset(allowed))
        return form, Scope(store_ids=ids, start=start, end=end)

    def report_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form, scope = self._scope(request)
        fmt = request.GET.get("export", "")
        if fmt:
            if fmt not in FORMATS or not request.user.has_perm("feedback.view_answers_export"):
                raise PermissionDenied
            return export_response(store_ids=scope.store_ids, start=scope.start,
                                   end=scope.end, fmt=fmt)
        panels = []
        for place in (HOME, DASHBOARD):
            for panel in panels_for(request.user, place):
                if not panel.key.startswith("feedback.") or panel in (p for p, _h in panels):
                    continue
                html = render_to_string(panel.template, {
                    **panel.context(request, scope), "panel": panel, "scope": scope,
                    "request": request}, request=request)
                panels.append((panel, mark_safe(html)))  # our own templates, rendered here
        query = request.GET.copy()
        query.pop("export", None)
        context = {
            **self.admin_site.each_context(request), "opts": FeedbackReport._meta,
            "title": gettext("Feedback report"), "form": form, "scope": scope,
            "panels": panels, "query": query.urlencode(),
            "can_export": request.user.has_perm("feedback.view_answers_export"),
            "formats": FORMATS,
        }
        return TemplateResponse(request, "admin/feedback/report.html", context)

