"""Shopper forms: parse and clean input; the booking rules live in stores.services."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from o2o.phone import PhoneFormField

from .selectors import MAX_PIECES


class SlotField(forms.CharField):
    """A slot's start as the picker sends it: ISO 8601 with its offset."""

    default_error_messages = {
        "required": _("Choose a time."),
        "invalid": _("Choose one of the times shown."),
    }

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if moment.tzinfo is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return moment


class IdsField(forms.Field):
    """Repeated ids (``?variant=1&variant=2``), deduplicated, in order."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Choose the pieces from the list."),
                              "required": _("Choose at least one piece to try.")}

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        try:
            return list(dict.fromkeys(int(v) for v in value))
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class BookingForm(forms.Form):
    store = forms.CharField(widget=forms.HiddenInput)
    variant = IdsField()
    slot = SlotField()
    name = forms.CharField(label=_("Your name"), max_length=100,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = PhoneFormField(help_text=_("The store calls this number if anything changes."))
    email = forms.EmailField(label=_("Email"), required=False,
                             help_text=_("For the confirmation, a calendar entry and reminders."),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    note = forms.CharField(label=_("Anything we should know?"), required=False, max_length=500,
                           widget=forms.Textarea(attrs={"rows": 2, "placeholder": _(
                               "Ring size, an occasion, a budget…")}))

    def clean_variant(self):
        variants = self.cleaned_data["variant"]
        if len(variants) > MAX_PIECES:
            raise forms.ValidationError(_("Choose at most %(max)s pieces.") % {"max": MAX_PIECES})
        return variants


class RescheduleForm(forms.Form):
    slot = SlotField()


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=200)
