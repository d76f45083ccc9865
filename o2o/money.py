"""Money as the shop writes it (the rounding rule of prices is catalog.pricing's)."""

from decimal import Decimal, InvalidOperation

from django.conf import settings

CURRENCY_SYMBOLS = {"CNY": "¥", "HKD": "HK$", "USD": "$", "EUR": "€", "GBP": "£"}


def money(amount) -> str:
    """``Decimal("12800.00")`` -> ``¥12,800``; cents only when there are some."""
    if amount is None or amount == "":
        return ""
    try:
        amount = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    symbol = CURRENCY_SYMBOLS.get(settings.CURRENCY, f"{settings.CURRENCY} ")
    digits = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{symbol}{digits}"
