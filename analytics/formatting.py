"""Figures as people read them: grouped thousands in the reader's language, yuan, grams,
percentages, changes with their sign, Chinese dates in Chinese."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext


def _number(value, places: int) -> str:
    """Thousands grouped with commas, as both languages write money here (12,345.6)."""
    return f"{Decimal(value):,.{places}f}"


def show(value, kind: str = "text") -> str:
    """A figure as people read it."""
    if value is None or value == "":
        return "—"
    if kind == "money":
        return "¥" + _number(Decimal(value).quantize(Decimal("1")), 0)
    if kind == "int":
        return _number(int(value), 0)
    if kind == "weight":
        return _number(Decimal(value), 1) + " g"
    if kind == "pct":
        return _number(Decimal(str(value)) * 100, 1) + "%"
    if kind == "change":
        percent = Decimal(str(value)) * 100
        sign = "+" if percent > 0 else "−" if percent < 0 else "±"
        return sign + _number(abs(percent), 1) + "%"
    if kind == "points":
        points = Decimal(str(value)) * 100
        sign = "+" if points > 0 else "−" if points < 0 else "±"
        return gettext("%(sign)s%(points)s pts") % {"sign": sign,
                                                     "points": _number(abs(points), 1)}
    if kind == "ratio":
        return _number(Decimal(str(value)), 2)
    if kind == "date" and isinstance(value, date):
        return date_format(value, "DATE_FORMAT")
    if kind == "number":
        if isinstance(value, float):
            return show(value, "pct")
        if isinstance(value, Decimal):
            return _number(value, 0 if value == value.to_integral() else 2)
        if isinstance(value, int):
            return _number(value, 0)
    if isinstance(value, date):
        return date_format(value, "DATE_FORMAT")
    return str(value)
