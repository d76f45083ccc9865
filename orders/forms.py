"""Checkout forms: the shopper's contact and a delivery address in mainland China.

They only parse and validate; orders.services.checkout places the order (and runs
DeliveryAddressForm over an address given to it, so the API gets the same rules).
"""

import phonenumbers
from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .services.cart import MAX_LINE_QUANTITY


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
        raise forms.ValidationError(
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


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = MobileField(label=_("Mobile number"),
                        help_text=_("For the pickup code and if we need to reach you."))
    email = forms.EmailField(label=_("Email"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                             help_text=_("We send the order confirmation here."))

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter your name."), code="required")
        return name


class DeliveryAddressForm(forms.Form):
    recipient = forms.CharField(label=_("Recipient"), max_length=50,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = MobileField(label=_("Recipient's mobile number"))
    province = forms.CharField(label=_("Province"), max_length=30,
                               widget=forms.TextInput(attrs={"autocomplete": "address-level1"}))
    city = forms.CharField(label=_("City"), max_length=30,
                           widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    district = forms.CharField(label=_("District"), max_length=30,
                               widget=forms.TextInput(attrs={"autocomplete": "address-level3"}))
    street = forms.CharField(label=_("Street address"), max_length=200,
                             widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
                             help_text=_("Street, number, building and flat."))
    postcode = forms.CharField(
        label=_("Postcode"), max_length=6, min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
        validators=[RegexValidator(r"^[0-9]{6}$", _("A postcode is 6 digits, for example 200001."),
                                   code="invalid_postcode")],
        error_messages={"min_length": _("A postcode is 6 digits, for example 200001."),
                        "max_length": _("A postcode is 6 digits, for example 200001.")})

    def clean(self):
        data = super().clean()
        for name in ("recipient", "province", "city", "district", "street"):
            if name in data:
                data[name] = data[name].strip()
        return data


class FulfilmentForm(forms.Form):
    fulfilment = forms.ChoiceField(
        label=_("How you get it"), widget=forms.RadioSelect,
        choices=[("pickup", _("Pick up in a store")), ("delivery", _("Delivery"))])
    store = forms.CharField(label=_("Store"), required=False, max_length=20)
    pay_at_counter = forms.BooleanField(label=_("Pay at the counter when I collect"),
                                        required=False)

    def __init__(self, *args, stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.stores = {option.store.code: option for option in stores}

    def clean(self):
        data = super().clean()
        if data.get("fulfilment") == "pickup":
            option = self.stores.get(data.get("store") or "")
            if option is None:
                self.add_error("store", _("Choose one of the stores below."))
            elif option.ready_in_days is None:
                # A store that lacks pieces is fine when one place can send them all.
                self.add_error("store", _(
                    "This store cannot get every piece; choose another store, or delivery."))
        else:
            data["pay_at_counter"] = False
        return data


class QuantityForm(forms.Form):
    variant = forms.IntegerField(min_value=1)
    quantity = forms.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)
