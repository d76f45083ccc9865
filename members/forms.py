"""The member's own forms: profile, address book, consents, and the phone verification
forms allauth uses (ACCOUNT_FORMS). They parse; members.services writes and holds the
rules that the API shares."""

from allauth.account import app_settings as allauth_account_settings
from allauth.account.forms import ChangePhoneForm, VerifyPhoneForm
from allauth.account.internal.flows.phone_verification import PHONE_VERIFICATION_SESSION_KEY
from allauth.core import context, ratelimit
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.models import Category
from o2o.phone import MobileField
from stores.models import Store

from .models import ConsentChannel, Gender
from .selectors import open_shops, profile_categories
from .services.profile import EARLIEST_DATE, RING_SIZES

TOO_MANY_CODES = _("Too many codes have been sent to this number for now. Please wait a "
                   "little before asking for another.")


class PhoneChangeForm(ChangePhoneForm):
    """allauth's form to add, change or (re)verify the mobile number, which sends a
    code. Checks the send rate limit first (without using it up) so that a number that
    had too many codes gets a message on the form, not an error page."""

    def clean_phone(self) -> str:
        phone = super().clean_phone()
        request = context.request
        if request is not None and not ratelimit.consume(
                request, action="verify_phone", key=phone, dry_run=True):
            raise ValidationError(TOO_MANY_CODES, code="rate_limited")
        return phone


class PhoneVerifyForm(VerifyPhoneForm):
    """allauth's code form, saying how many tries are left after a wrong code."""

    def clean_code(self) -> str:
        try:
            return super().clean_code()
        except ValidationError as error:
            if getattr(error, "code", None) != "incorrect_code":
                raise
            left = self._tries_left()
            if left is None:
                raise
            if left <= 0:
                # allauth voids the code and leaves the page: say why on the next one.
                messages.error(context.request, _(
                    "That code was wrong too many times, so it no longer works. Ask for a "
                    "new code."))
                raise
            raise ValidationError(ngettext(
                "This code is not right. You can try %(count)d more time.",
                "This code is not right. You can try %(count)d more times.", left)
                % {"count": left}, code="incorrect_code") from None

    def _tries_left(self) -> int | None:
        request = context.request
        state = request.session.get(PHONE_VERIFICATION_SESSION_KEY) if request else None
        if not state or not request.user.is_authenticated:
            return None  # the sign-up stage: allauth says it itself
        failed = state.get("failed_attempts", 0) + 1  # this one
        return allauth_account_settings.PHONE_VERIFICATION_MAX_ATTEMPTS - failed


class StoreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.city_title} · {obj.title}"


class CategoryChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.title


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    birthday = forms.DateField(
        label=_("Birthday"), required=False,
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"},
                               format="%Y-%m-%d"),
        help_text=_("For your birthday gift."))
    anniversary = forms.DateField(
        label=_("Wedding anniversary"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    ring_size = forms.ChoiceField(
        label=_("Ring size"), required=False,
        help_text=_("Hong Kong size, as measured in our stores. Not sure? Any store "
                    "measures it for free."))
    home_store = StoreChoiceField(label=_("Home store"), queryset=Store.objects.none(),
                                  required=False, empty_label=_("No home store"),
                                  help_text=_("The store you usually visit."))
    preferred_categories = CategoryChoiceField(
        label=_("What you like"), queryset=Category.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, current_ring_size: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        sizes = list(RING_SIZES)
        if current_ring_size and current_ring_size not in sizes:
            sizes.insert(0, current_ring_size)  # kept as it was recorded
        self.fields["ring_size"].choices = [("", _("Not given"))] + [(s, s) for s in sizes]
        today = timezone.localdate().isoformat()
        for name in ("birthday", "anniversary"):  # the browser's date picker stays sane too
            self.fields[name].widget.attrs.update(min=EARLIEST_DATE.isoformat(), max=today)
        self.fields["home_store"].queryset = open_shops()
        self.fields["preferred_categories"].queryset = profile_categories()


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



class AddressForm(DeliveryAddressForm):
    """The checkout's address form (same fields, same rules) plus the default choice."""

    make_default = forms.BooleanField(label=_("Make this my default address"), required=False)


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(choices=ConsentChannel.choices)
    granted = forms.TypedChoiceField(choices=[("1", "yes"), ("0", "no")],
                                     coerce=lambda value: value == "1")
