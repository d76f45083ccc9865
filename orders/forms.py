"""Checkout forms: the shopper's contact, how they get the pieces (the delivery address
form is members', shared with the address book).

They only parse and validate; orders.services.checkout places the order (and checks an
address given to it with members.services.address_clean, so the API gets the same rules).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from o2o.phone import MobileField

from .services.cart import MAX_LINE_QUANTITY


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
