"""A day as people read it in each language: 2026年12月7日 星期一 / Monday, Dec. 7, 2026.

The date part is the language's DATE_FORMAT or MONTH_DAY_FORMAT (o2o/formats, Django's
formats), the weekday Django's; the order of the two is a translation (Chinese puts
the weekday after the date, without a comma).
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils.formats import date_format
from django.utils.translation import gettext as _


def weekday_date(day: date | datetime, *, short: bool = False) -> str:
    """``short``: month and day with the abbreviated weekday (day pickers)."""
    return _("%(weekday)s, %(date)s") % {
        "weekday": date_format(day, "D" if short else "l"),
        "date": date_format(day, "MONTH_DAY_FORMAT" if short else "DATE_FORMAT")}
