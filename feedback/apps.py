from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self):
        # The triggers (orders' and stores' signals, sent inside the change's transaction),
        # the outbox renderers of invitations and alerts, the panels of the back office's
        # home and dashboards, and the feedback part of a member's data.
        from . import emails, panels, privacy, receivers  # noqa: F401

        receivers.connect()
