"""Staff screens for members: users, member profiles (tier, points, consents), tiers, and
registering a member at the counter.

Masking: full mobile numbers and birthdays are shown only to users with the permission
members.view_contact (store managers, superusers; members/roles.py). Everyone else sees
``phone_mask`` and the birth year only, in lists, change pages, page titles and
breadcrumbs, and cannot read them in a form field either (the fields become read-only
masked values). They still find a member by typing the full number (the way it is said
at the counter): for them the search matches the whole number only, never a part, so
the search cannot be used to uncover it digit by digit.

Points: changed only through members.services.points_adjust, with a note, by users with
members.add_pointsentry (superusers; no role has it yet: managers get it when the roles
table grants it). Tiers: edited by whoever has members.change_tier (superusers).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from o2o.admin_kit import ScreenEntryAdmin, money_column
from o2o.errors import reported
from o2o.phone import PhoneFormField, phone_display, phone_mask, phone_normalize
from stores.models import StaffAssignment
from stores.selectors import staff_store_ids

from .models import (
    Consent,
    MemberProfile,
    MemberRegistration,
    PointsEntry,
    Tier,
    User,
)
from .selectors import open_shops
from .services import member_register, points_adjust, points_balance

VIEW_CONTACT = "members.view_contact"
ADJUST_POINTS = "members.add_pointsentry"
LEDGER_SHOWN = 50


def sees_contact(request) -> bool:
    return request.user.has_perm(VIEW_CONTACT)


def birthday_mask(day) -> str:
    """1990-05-17 -> "1990-**-**": the age band stays, the day marketers do not need goes."""
    return f"{day.year}-**-**" if day else ""


def member_label(user: User, *, full: bool) -> str:
    """How a member is named on staff screens: their name, else email, else the number
    (masked unless ``full``: User.__str__)."""
    if not full:
        return str(user)
    return user.name or user.email or user.phone or f"#{user.pk}"


def _as_phone(term: str) -> str | None:
    term = (term or "").strip()
    if not term or not any(ch.isdigit() for ch in term):
        return None
    try:
        return phone_normalize(term)
    except ValidationError:
        return None


class ContactMaskMixin:
    """Shared by the user and profile admins: the search rule, and the member's name
    (never a full number for those who may not see it) in titles and breadcrumbs."""

    phone_lookup = "phone"

    def shown_name(self, request, obj) -> str:
        raise NotImplementedError

    def get_search_fields(self, request):
        fields = list(super().get_search_fields(request))
        if sees_contact(request):
            return fields
        return [f for f in fields if f.lstrip("^=@") != self.phone_lookup]

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset,
                                                                  search_term)
        e164 = _as_phone(search_term)
        if e164:
            results = results | queryset.filter(**{self.phone_lookup: e164})
        return results, may_have_duplicates

    def render_change_form(self, request, context, add=False, change=False, form_url="",
                           obj=None):
        if obj is not None:
            name = self.shown_name(request, obj)
            context.update(subtitle=name, shown_name=name)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            name = self.shown_name(request, obj)
            extra_context = {**(extra_context or {}), "shown_name": name,
                             "title": gettext("Change history: %s") % name}
        return super().history_view(request, object_id, extra_context)


# --- Users -------------------------------------------------------------------------------


class EmailLowerMixin:
    def clean_email(self):
        return (self.cleaned_data.get("email") or "").lower() or None


class UserCreateForm(EmailLowerMixin, UserCreationForm):
    phone = PhoneFormField(required=False)

    class Meta:
        model = User
        fields = ("email", "phone", "name")


class UserEditForm(EmailLowerMixin, UserChangeForm):
    phone = PhoneFormField(required=False)

    class Meta:
        model = User
        fields = "__all__"


class UserEditMaskedForm(EmailLowerMixin, UserChangeForm):
    """For staff who may not see the number: it is no field of theirs (shown masked)."""

    class Meta:
        model = User
        exclude = ["phone"]


class StaffAssignmentInline(admin.TabularInline):
    model = StaffAssignment
    extra = 0
    autocomplete_fields = ["store"]


@admin.register(User)
class UserAdmin(ContactMaskMixin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    ordering = ["-date_joined"]
    list_display = ["name_full", "email", "phone_full", "is_staff", "date_joined"]
    masked_list_display = ["name_masked", "email", "phone_masked", "is_staff", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "phone", "name"]
    readonly_fields = ["last_login", "date_joined"]
    inlines = [StaffAssignmentInline]
    fieldsets = [
        (None, {"fields": ["email", "phone", "phone_verified", "name", "language", "password"]}),
        (_("Back office"), {"fields": ["is_active", "is_staff", "is_superuser", "groups",
                                        "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"],
                "fields": ["email", "phone", "name", "password1", "password2"]}),
    ]

    def shown_name(self, request, obj) -> str:
        return member_label(obj, full=sees_contact(request))

    def has_add_permission(self, request):
        # Django's UserAdmin lets only those who may also change users add one (its
        # add view is a 403 otherwise): offer the link only to them. Store staff
        # register members on their own screen.
        return super().has_add_permission(request) and self.has_change_permission(request)

    def get_list_display(self, request):
        return self.list_display if sees_contact(request) else self.masked_list_display

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or sees_contact(request):
            return fieldsets
        return [(title, {**options, "fields": [
            "phone_masked" if f == "phone" else f for f in options["fields"]]})
            for title, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not sees_contact(request):
            fields.append("phone_masked")
        return fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None and not sees_contact(request):
            kwargs["form"] = UserEditMaskedForm
        return super().get_form(request, obj, **kwargs)

    @admin.display(description=_("name"), ordering="name")
    def name_full(self, user):
        return member_label(user, full=True)

    @admin.display(description=_("name"), ordering="name")
    def name_masked(self, user):
        return member_label(user, full=False)

    @admin.display(description=_("mobile number"), ordering="phone")
    def phone_full(self, user):
        return phone_display(user.phone)

    @admin.display(description=_("mobile number"))
    def phone_masked(self, user):
        return phone_mask(user.phone)


# --- Member profiles ---------------------------------------------------------------------


class PointsAdjustForm(forms.Form):
    points = forms.IntegerField(label=_("Points"), min_value=-1_000_000, max_value=1_000_000,
                                help_text=_("Negative to take points away."))
    note = forms.CharField(label=_("Why"), max_length=200,
                           help_text=_("Kept in the ledger with your name."))

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise ValidationError(_("Give a number of points other than zero."))
        return points


# "consent": the generic Yes/No are Django's too (the admin's boolean filters), 是/否.
CONSENT_STATED = [("", _("Not asked")), ("yes", pgettext_lazy("consent", "Yes")),
                  ("no", pgettext_lazy("consent", "No"))]


class MemberRegisterForm(forms.Form):
    store = forms.ModelChoiceField(label=_("Store"), queryset=MemberProfile.objects.none(),
                                   empty_label=None)
    phone = forms.CharField(label=_("Mobile number"), max_length=32,
                            widget=forms.TextInput(attrs={
                                "type": "tel", "inputmode": "tel", "autocomplete": "off",
                                "autofocus": True}))
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    email_consent = forms.ChoiceField(
        label=_("Marketing by email"), choices=CONSENT_STATED, required=False,
        widget=forms.RadioSelect, initial="",
        help_text=_("As the shopper says it. “Not asked” leaves what they said before."))
    sms_consent = forms.ChoiceField(
        label=_("Marketing by text message"), choices=CONSENT_STATED, required=False,
        widget=forms.RadioSelect, initial="")

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
        if len(stores) == 1:
            self.fields["store"].initial = stores[0].pk

    def consents(self) -> dict[str, bool]:
        stated = {"email": self.cleaned_data.get("email_consent"),
                  "sms": self.cleaned_data.get("sms_consent")}
        return {channel: said == "yes" for channel, said in stated.items() if said}


SPEND_12M = money_column(MemberProfile, "spend_12m")


@admin.register(MemberProfile)
class MemberProfileAdmin(ContactMaskMixin, admin.ModelAdmin):
    """The member as the stores see them: tier, points, consents, registration. Tier,
    points and spend are caches the services write: read-only here."""

    phone_lookup = "user__phone"
    list_display = ["member_full", "phone_full", "tier", "points_balance", SPEND_12M,
                    "birthday", "registered_channel", "registered_store", "created_at"]
    masked_list_display = ["member_masked", "phone_masked", "tier", "points_balance",
                           SPEND_12M, "birthday_masked", "registered_channel",
                           "registered_store", "created_at"]
    list_filter = ["tier", "registered_channel", "gender",
                   ("registered_store", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__name", "user__email", "user__phone"]
    list_select_related = ["user", "tier", "registered_store"]
    ordering = ["-created_at"]
    filter_horizontal = ["preferred_categories"]
    fieldsets = [
        (None, {"fields": ["member_link", "gender", "birthday", "anniversary", "ring_size",
                           "home_store", "preferred_categories"]}),
        (_("Membership"), {"fields": ["tier", "points_balance", "spend_12m_money",
                                      "tier_checked_at"]}),
        (_("Registration"), {"fields": ["registered_channel", "registered_store",
                                        "registered_by", "created_at"]}),
    ]
    readonly_fields = ["member_link", "tier", "points_balance", "spend_12m_money",
                       "tier_checked_at",
                       "registered_channel", "registered_store", "registered_by", "created_at"]
    spend_12m_money = SPEND_12M  # money as money (¥12,800), not 12800.00

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "user", "tier", "registered_store", "registered_by", "home_store")

    def shown_name(self, request, obj) -> str:
        return member_label(obj.user, full=sees_contact(request))

    def get_list_display(self, request):
        return self.list_display if sees_contact(request) else self.masked_list_display

    def get_fieldsets(self, request, obj=None):
        if sees_contact(request):
            return self.fieldsets
        return [(title, {**options, "fields": [
            "birthday_masked" if f == "birthday" else f for f in options["fields"]]})
            for title, options in self.fieldsets]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if not sees_contact(request):
            fields.append("birthday_masked")
        return fields

    # Profiles are made by the services (sign-up, the counter); an account goes by erasure.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("member"), ordering="user__name")
    def member_full(self, profile):
        return member_label(profile.user, full=True)

    @admin.display(description=_("member"), ordering="user__name")
    def member_masked(self, profile):
        return member_label(profile.user, full=False)

    @admin.display(description=_("mobile number"), ordering="user__phone")
    def phone_full(self, profile):
        return phone_display(profile.user.phone)

    @admin.display(description=_("mobile number"))
    def phone_masked(self, profile):
        return phone_mask(profile.user.phone)

    @admin.display(description=_("birthday"))
    def birthday_masked(self, profile):
        return birthday_mask(profile.birthday)

    @admin.display(description=_("member"))
    def member_link(self, profile):
        # The label is worked out where the request is known (render_change_form); the
        # masked one is the safe default.
        label = getattr(profile, "_shown_name", None) or member_label(profile.user, full=False)
        if not getattr(profile, "_links_user", False):
            return label
        return format_html('<a href="{}">{}</a>', reverse(
            "admin:members_user_change", args=[profile.user_id]), label)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._shown_name = self.shown_name(request, obj)
            obj._links_user = request.user.has_perm("members.view_user")
        return obj

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("register/", wrap(self.register_view), name="members_memberprofile_register"),
            path("<int:pk>/points/", wrap(self.points_view),
                 name="members_memberprofile_points"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        profile = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if profile is not None:
            if request.user.has_perm("members.view_consent"):
                extra["consents"] = list(
                    Consent.objects.filter(member_id=profile.user_id)
                    .select_related("store", "recorded_by").order_by("-granted_at", "-id"))
            if request.user.has_perm("members.view_pointsentry"):
                extra["ledger"] = list(
                    PointsEntry.objects.filter(member_id=profile.user_id)
                    .select_related("actor").order_by("-created_at", "-id")[:LEDGER_SHOWN])
                extra["ledger_shown"] = LEDGER_SHOWN
            extra["can_adjust_points"] = request.user.has_perm(ADJUST_POINTS)
        return super().change_view(request, object_id, form_url, extra)

    def _screen(self, request, title, **context):
        return {**self.admin_site.each_context(request), "opts": self.model._meta,
                "title": title, **context}

    def points_view(self, request, pk):
        """Add or take away points, with the reason (members.services.points_adjust)."""
        if not request.user.has_perm(ADJUST_POINTS):
            raise PermissionDenied
        profile = get_object_or_404(self.get_queryset(request), pk=pk)
        name = self.shown_name(request, profile)
        form = PointsAdjustForm(request.POST or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                with reported(form=form) as outcome:
                    entry = points_adjust(member=profile.user, points=form.cleaned_data["points"],
                                          note=form.cleaned_data["note"], actor=request.user)
                if outcome.ok:
                    messages.success(request, gettext(
                        "%(points)+d points for %(member)s. The balance is now %(balance)s.") % {
                        "points": entry.points, "member": name,
                        "balance": points_balance(member=profile.user)})
                    return redirect("admin:members_memberprofile_change", profile.pk)
            status = 400
        return TemplateResponse(request, "admin/members/points_adjust.html", self._screen(
            request, gettext("Adjust points"), subtitle=name, shown_name=name,
            profile=profile, form=form), status=status)

    def register_view(self, request):
        """Register a member at the counter (members.services.member_register)."""
        if not request.user.has_perm("members.add_user"):
            raise PermissionDenied
        ids = staff_store_ids(user=request.user)
        stores = open_shops()
        if ids is not None:
            stores = stores.filter(pk__in=ids)
        form = MemberRegisterForm(request.POST or None, stores=stores)
        context = self._screen(request, gettext("Register a member"), form=form, stores=stores)
        template = "admin/members/register.html"
        if request.method != "POST":
            return TemplateResponse(request, template, context)
        if not form.is_valid():
            return TemplateResponse(request, template, context, status=400)
        data = form.cleaned_data
        with reported(form=form, fields={"bad_phone": "phone"}) as outcome:
            member, created = member_register(
                phone=data["phone"], name=data["name"], consents=form.consents(),
                store=data["store"], actor=request.user)
        if not outcome.ok:
            return TemplateResponse(request, template, context, status=outcome.status)
        profile = MemberProfile.objects.select_related("tier").get(user=member)
        consents = {c.channel: c for c in Consent.objects.filter(
            member=member, withdrawn_at__isnull=True)}
        return TemplateResponse(request, "admin/members/registered.html", self._screen(
            request, gettext("Member registered") if created else gettext("Already a member"),
            member=member, created=created, profile=profile, store=data["store"],
            phone=phone_mask(member.phone), name=member_label(member, full=False),
            email_consent=consents.get("email"), sms_consent=consents.get("sms")))


@admin.register(MemberRegistration)
class MemberRegistrationAdmin(ScreenEntryAdmin):
    target = "admin:members_memberprofile_register"
    needs = ("members.add_user",)


# --- Tiers -------------------------------------------------------------------------------


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    """Thresholds and multipliers. Members move to their new tier at the next refresh
    (when an order reaches them or is refunded, and nightly)."""

    list_display = ["code", "name", "name_en", money_column(Tier, "min_spend"),
                    "points_multiplier", "members"]
    ordering = ["min_spend"]
    fields = ["code", "name", "name_en", "min_spend", "points_multiplier", "birthday_gifts"]
    readonly_fields = ["birthday_gifts"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def members(self, tier):
        return tier.member_count

    @admin.display(description=_("birthday gift"))
    def birthday_gifts(self, tier):
        names = [definition.name for definition in tier.birthday_coupons.all()]
        return ", ".join(names) or "—"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"min_spend"} & set(form.changed_data):
            messages.info(request, gettext(
                "Members move to the tier their spend reaches at the next refresh (tonight)."))
