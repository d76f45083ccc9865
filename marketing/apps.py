from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        # The outbox renderers of campaign and journey messages; what members viewed (the
        # segments' "viewed" rule) heard from catalog, and its part of a member's data.
        from . import emails, privacy, receivers  # noqa: F401
