"""The shop's admin site: Django's, with

- OfferedLookupsOnlyMixin (o2o.admin_kit) put under every ModelAdmin at registration,
  ours and third parties' alike, so no screen can be filtered through its URL by a field
  it does not offer, and a new admin cannot forget it;
- an optional second factor (django-otp, TOTP): a staff member sets up an authenticator
  app at /admin/second-factor/ (a QR code to scan, a code to confirm); who has confirmed
  one must give its code at /admin/login/, and is let into the admin only
  with a session verified by it (a password login through the shop's own login page does
  not count); ADMIN_OTP_REQUIRED makes it compulsory for every staff member.
  Password guessing is stopped by django-axes (settings: AXES_*), on this login and the
  shop's alike.

Installed through o2o.admin_apps.ShopAdminConfig in place of "django.contrib.admin"."""

from base64 import b32encode

import segno
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from .admin_kit import OfferedLookupsOnlyMixin


class ShopAdminLoginForm(AdminAuthenticationForm, OTPAuthenticationFormMixin):
    """The admin's login: the password, then the authenticator's code for staff who have
    confirmed one (or for everyone with ADMIN_OTP_REQUIRED)."""

    otp_device = forms.CharField(required=False, widget=forms.Select,
                                 label=_("Authenticator"))
    otp_token = forms.CharField(required=False, label=_("Code from the authenticator app"),
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                              "inputmode": "numeric"}))
    otp_challenge = forms.CharField(required=False)

    def clean(self):
        self.cleaned_data = super().clean()
        user = self.get_user()
        if user is not None and (user_has_device(user) or settings.ADMIN_OTP_REQUIRED):
            self.clean_otp(user)
        return self.cleaned_data


class ShopAdminSite(admin.AdminSite):
    login_form = ShopAdminLoginForm
    login_template = "otp/admin111/login.html"

    def get_urls(self):
        return [path("second-factor/", self.admin_view(self.second_factor_view),
                     name="second_factor"), *super().get_urls()]

    def second_factor_view(self, request):
        """A staff member sets up (scans, confirms with a code) or removes their
        authenticator app; from then on the admin's login asks for its code."""
        user = request.user
        confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        error = ""
        if request.method == "POST":
            action = request.POST.get("action")
            if action == "remove" and confirmed is not None:
                TOTPDevice.objects.filter(user=user).delete()
                messages.success(request, _("Your authenticator is removed. The admin asks "
                                            "for your password only."))
                return redirect("admin:second_factor")
            pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
            token = (request.POST.get("token") or "").strip()
            if action == "confirm" and pending is not None and confirmed is None:
                if pending.verify_token(token):
                    pending.confirmed = True
                    pending.save(update_fields=["confirmed"])
                    otp_login(request, pending)
                    messages.success(request, _("Your authenticator is set up. The admin "
                                                "asks for its code at every login."))
                    return redirect("admin:index")
                error = _("This code is not right. Type the six digits the app shows now.")
        pending = None
        if confirmed is None:
            pending = (TOTPDevice.objects.filter(user=user, confirmed=False).first()
                       or TOTPDevice.objects.create(user=user, name=str(_("Authenticator")),
                                                    confirmed=False))
        context = {
            **self.each_context(request), "title": _("Second factor"),
            "confirmed": confirmed, "error": error,
            "qr": segno.make(pending.config_url, error="m").svg_inline(
                scale=4, border=2, omitsize=True) if pending else "",
            "key": b32encode(pending.bin_key).decode() if pending else "",
        }
        return TemplateResponse(request, "admin/second_factor.html", context,
                                status=400 if error else 200)

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        user = request.user
        if settings.ADMIN_OTP_REQUIRED or user_has_device(user):
            return user.is_verified()
        return True

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, OfferedLookupsOnlyMixin):
            admin_class = type(admin_class.__name__, (OfferedLookupsOnlyMixin, admin_class),
                               {"__module__": admin_class.__module__,
                                "__qualname__": admin_class.__qualname__,
                                "__doc__": admin_class.__doc__})
        return super().register(model_or_iterable, admin_class, **options)
