from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = _("Stores and stock")

    def ready(self):
        from catalog.availability import availability_register

        from . import privacy  # noqa: F401  (registers its part of a member's data)
        from .availability import StockAvailability

        availability_register(StockAvailability())
