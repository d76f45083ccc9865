"""Mobile numbers: one normalisation, E.164, for the web, the counter and the API."""

import phonenumbers
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

INVALID_PHONE = _("Enter a valid mobile number, for example 138 0013 8000 or +852 9123 4567.")


def phone_normalize(raw: str) -> str:
    """Return ``raw`` as E.164 (``+8613800138000``) or raise ValidationError.

    A number without a country code is read as mainland China's.
    """
    try:
        number = phonenumbers.parse(raw, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(INVALID_PHONE, code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_mask(e164: str | None) -> str:
    """``+8613800138000`` -> ``138****8000``: for lists and receipts."""
    if not e164:
        return ""
    national = e164[3:] if e164.startswith("+86") else e164
    return f"{national[:3]}****{national[-4:]}" if len(national) >= 8 else "****"


class PhoneFormField(forms.CharField):
    """A mobile number typed the way people type it (spaces, dashes, no +86)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"autocomplete": "tel", "type": "tel", "inputmode": "tel",
                       "placeholder": _("e.g. 138 0013 8000")}
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return phone_normalize(value) if value else value
