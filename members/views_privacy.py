"""A member's privacy pages: download their data, delete their account.

    members:privacy         /account/privacy/              what we keep; the two actions
    members:privacy_export  /account/privacy/export.json   GET: the member's data, as a file
    members:privacy_delete  /account/privacy/delete/       POST: delete the account

Thin: the data and the erasure are members.services.privacy. Deleting asks for the
member's password, or, for a member registered at a counter who has none, the last four
digits of their mobile number (their email address when they have no number). Wrong
answers are rate limited per member. Never cached.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.core import is_ratelimited

from o2o.errors import reported

from .models import User
from .services.privacy import (
    member_data_export,
    member_erase,
    member_erase_blocker,
    privacy_export_filename,
)

# Wrong confirmations a member may type before the form waits (django-ratelimit syntax).
CONFIRM_RATE = "5/15m"


def _confirm_mode(user: User) -> str:
    if user.has_usable_password():
        return "password"
    return "phone" if user.phone else "email"


class EraseForm(forms.Form):
    """The one field that proves it is the member: password, phone tail or email."""

    confirm = forms.CharField(max_length=254, strip=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.mode = _confirm_mode(user)
        field = self.fields["confirm"]
        if self.mode == "password":
            field.label = gettext_lazy("Your password")
            field.widget = forms.PasswordInput(attrs={"autocomplete": "current-password"})
        elif self.mode == "phone":
            field.label = gettext_lazy("The last 4 digits of your mobile number")
            field.max_length = 4
            field.widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                  "maxlength": "4", "pattern": "[0-9]{4}"})
        else:
            field.label = gettext_lazy("Your email address")
            field.widget = forms.EmailInput(attrs={"autocomplete": "off"})

    def clean_confirm(self):
        value = self.cleaned_data["confirm"]
        if self.mode == "password":
            ok = self.user.check_password(value)
            message = _("That is not your password.")
        elif self.mode == "phone":
            ok = value.strip() == (self.user.phone or "")[-4:]
            message = _("Those are not the last 4 digits of your mobile number.")
        else:
            ok = value.strip().lower() == (self.user.email or "").lower()
            message = _("That is not your email address.")
        if not ok:
            raise forms.ValidationError(message, code="wrong_confirmation")
        return value


def _page(request, *, form: EraseForm | None = None, error: str = "", status: int = 200):
    user = request.user
    return render(request, "members/privacy.html", {
        "form": form or EraseForm(user=user),
        "blocker": member_erase_blocker(member=user),
        "error": error,
    }, status=status)


@never_cache
@login_required
@require_GET
def privacy(request):
    return _page(request)


@never_cache
@login_required
@require_GET
def privacy_export(request):
    """The signed-in member's data as a JSON file (theirs only: there is no id to pass)."""
    response = JsonResponse(member_data_export(member=request.user),
                            json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{privacy_export_filename()}"'
    return response


def _too_many(request, *, increment: bool) -> bool:
    return is_ratelimited(request, group="members.privacy.confirm",
                          key=lambda _group, req: f"user:{req.user.pk}", rate=CONFIRM_RATE,
                          increment=increment)


@never_cache
@login_required
@require_POST
def privacy_delete(request):
    user = request.user
    form = EraseForm(request.POST, user=user)
    if _too_many(request, increment=False):
        return _page(request, form=EraseForm(user=user), status=429, error=_(
            "Too many attempts. Wait a few minutes and try again."))
    if not form.is_valid():
        if form.has_error("confirm", "wrong_confirmation"):
            _too_many(request, increment=True)
        return _page(request, form=form, status=400)
    with reported() as outcome:
        member_erase(member=user, actor=user)
    if outcome.error is not None:
        return _page(request, form=EraseForm(user=user), error=str(outcome.error.message),
                     status=outcome.status)
    logout(request)
    return render(request, "members/privacy_deleted.html")


urlpatterns = [
    path("account/privacy/", privacy, name="privacy"),
    path("account/privacy/export.json", privacy_export, name="privacy_export"),
    path("account/privacy/delete/", privacy_delete, name="privacy_delete"),
]
