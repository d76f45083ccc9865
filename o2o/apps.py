from django.apps import AppConfig


class O2OConfig(AppConfig):
    name = "o2o"
    verbose_name = "O2O"

    def ready(self):
        from . import checks  # noqa: F401  (check --deploy: payments, messages, dev pages)
        from .bulk import register_lookups

        register_lookups()
