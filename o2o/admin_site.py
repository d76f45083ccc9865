"""The shop's admin site: Django's, with OfferedLookupsOnlyMixin (o2o.admin_kit) put under
every ModelAdmin at registration, ours and third parties' alike, so no screen can be
filtered through its URL by a field it does not offer, and a new admin cannot forget it.
Installed as "o2o.admin_site.ShopAdminConfig" in place of "django.contrib.admin"."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from .admin_kit import OfferedLookupsOnlyMixin


class ShopAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, OfferedLookupsOnlyMixin):
            admin_class = type(admin_class.__name__, (OfferedLookupsOnlyMixin, admin_class),
                               {"__module__": admin_class.__module__,
                                "__qualname__": admin_class.__qualname__,
                                "__doc__": admin_class.__doc__})
        return super().register(model_or_iterable, admin_class, **options)


class ShopAdminConfig(AdminConfig):
    default_site = "o2o.admin_site.ShopAdminSite"
