from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        # Connects the signal receivers; registers its part of a member's data, its
        # panels (o2o.dashboard) and the weekly report's renderer (o2o.outbox).
        from django.contrib import admin

        from . import emails, panels, privacy, receivers  # noqa: F401

        # The admin home is a workplace per role: the panels of every app (o2o.dashboard).
        admin.site.index_template = "analytics/admin_home.html"
