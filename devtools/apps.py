from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """The roof: demo data (``load_demo``) and the bench (``load_bench_data``,
    ``python -m devtools.benchmark``). It imports every app; nothing imports it."""

    name = "devtools"
    verbose_name = "Developer tools"
