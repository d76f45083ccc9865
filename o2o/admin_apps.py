"""django.contrib.admin with the shop's admin site (o2o.admin_site) as the default site.
A module of its own: INSTALLED_APPS imports it before the apps are ready."""

from django.contrib.admin.apps import AdminConfig


class ShopAdminConfig(AdminConfig):
    default_site = "o2o.admin_site.ShopAdminSite"
