"""django.contrib.admin with the shop's admin site (o2o.admin_site) as the default site,
and the back-office names of the security apps we install. A module of its own:
INSTALLED_APPS imports it before the apps are ready."""

from axes.apps import AppConfig as AxesAppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPConfig


class ShopAdminConfig(AdminConfig):
    default_site = "o2o.admin_site.ShopAdminSite"


class LoginAttemptsConfig(AxesAppConfig):
    verbose_name = _("Login attempts")


class AuthenticatorsConfig(TOTPConfig):
    verbose_name = _("Authenticator apps")
