"""English: Django's formats, with a short month and day for day pickers (Dec 6)."""

from django.conf.locale.en.formats import *  # noqa: F403

MONTH_DAY_FORMAT = "M j"
