from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JourneysConfig(AppConfig):
    name = "journeys"
    verbose_name = _("Journeys")

    def ready(self):
        # The triggers: members', orders', stores' and catalog's domain signals, sent inside
        # the change's transaction (the enrolment commits or rolls back with it).
        from . import receivers

        receivers.connect()
