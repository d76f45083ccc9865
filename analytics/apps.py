from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        # Connects the signal receivers; registers its part of a member's data.
        from . import privacy, receivers  # noqa: F401
