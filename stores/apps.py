from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = _("Stores and stock")

    def ready(self):
        from catalog.availability import availability_register

        # Its part of a member's data; the outbox renderers of its emails.
        from . import privacy  # noqa: F401
        from .availability import StockAvailability
        from .services import emails  # noqa: F401

        availability_register(StockAvailability())
