"""A test app for processes started by the kill tests: renderers of two probe kinds."""

from django.apps import AppConfig


class OutboxProbeConfig(AppConfig):
    name = "tests.o2o.outbox_probe"
    label = "outbox_probe"

    def ready(self):
        from . import renderers  # noqa: F401
