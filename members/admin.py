from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import MemberProfile, StaffAssignment, User
from .phone import PhoneFormField, phone_mask


class UserCreateForm(UserCreationForm):
    phone = PhoneFormField(required=False)

    class Meta:
        model = User
        fields = ("email", "phone", "name")

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").lower() or None



class UserEditForm(UserChangeForm):
    phone = PhoneFormField(required=False)

    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").lower() or None


class StaffAssignmentInline(admin.TabularInline):
    model = StaffAssignment
    extra = 0
    autocomplete_fields = ["store"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    ordering = ["-date_joined"]
    list_display = ["__str__", "email", "masked_phone", "is_staff", "date_joined"]
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

    @admin.display(description=_("mobile number"), ordering="phone")
    def masked_phone(self, user):
        return phone_mask(user.phone)


@admin.register(MemberProfile)
class MemberProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "gender", "registered_channel", "created_at"]
    list_filter = ["gender", "registered_channel"]
    search_fields = ["user__name", "user__email", "user__phone"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
