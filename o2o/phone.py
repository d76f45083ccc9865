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


def phone_display(phone: str | None) -> str:
    """E.164 to a number people read: ``+8613900001234`` -> ``+86 139 0000 1234``,
    ``+85291234567`` -> ``+852 9123 4567`` (the phonenumbers library's grouping)."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(str(phone), None)
    except phonenumbers.NumberParseException:
        return str(phone)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


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


def mainland_mobile(raw: str) -> str:
    """A mainland China mobile number in E.164 (+8613800138000); ValidationError else."""
    raw = (raw or "").strip()
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if (number is None or number.country_code != 86 or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) not in (
                phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)):
        raise ValidationError(
            _("Enter a mainland China mobile number, 11 digits starting with 1 "
              "(for example 138 0013 8000)."), code="invalid_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class MobileField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"type": "tel", "autocomplete": "tel", "inputmode": "tel"})
        return attrs

    def clean(self, value):
        value = super().clean(value)
        return mainland_mobile(value) if value else value
