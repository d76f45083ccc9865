from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = _("Stores and stock")

    def ready(self):
        from . import privacy  # noqa: F401  (registers its part of a member's data)
