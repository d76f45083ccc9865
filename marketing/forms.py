"""Forms of the marketers' screens (the coupon definition and its issuing tools). They
parse and check the input; members.services does the work."""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import CouponDefinition, DiscountKind, Tier
from members.services.coupon_issuing import BATCH_MAX


class CouponDefinitionForm(forms.ModelForm):
    class Meta:
        model = CouponDefinition
        fields = ["name", "description", "is_active", "kind", "value", "cap", "min_spend",
                  "channel", "categories", "collections", "products", "excluded_categories",
                  "excluded_products", "valid_from", "valid_until", "valid_days", "total_limit",
                  "per_member_limit", "stacks_with_points", "birthday_tiers"]

    def clean(self):
        data = super().clean()
        if data.get("kind") == DiscountKind.THRESHOLD and not (data.get("min_spend") or 0) > 0:
            self.add_error("min_spend", _("A spend-threshold coupon (满减) needs a minimum spend."))
        if (data.get("valid_from") and data.get("valid_until")
                and data["valid_until"] <= data["valid_from"]):
            self.add_error("valid_until", _("The end must come after the start."))
        return data


class IssueForm(forms.Form):
    """Issue to a pasted list of mobile numbers, or to every member of some tiers."""

    phones = forms.CharField(
        label=_("Mobile numbers"), required=False, max_length=400_000,
        help_text=_("One per line, typed any way (138 0013 8000, +86 138-0013-8000). Numbers "
                    "that are no member's are listed afterwards."),
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "autocomplete": "off"}))
    tiers = forms.ModelMultipleChoiceField(
        label=_("Or every member of these tiers"), required=False,
        queryset=Tier.objects.order_by("min_spend"), widget=forms.CheckboxSelectMultiple)

    def clean(self):
        data = super().clean()
        phones = (data.get("phones") or "").strip()
        tiers = data.get("tiers")
        if phones and tiers:
            raise forms.ValidationError(
                _("Paste numbers or choose tiers, not both."), code="both")
        if not phones and not tiers and not self.errors:
            raise forms.ValidationError(
                _("Paste mobile numbers or choose at least one tier."), code="none")
        return data


class PublicCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=40,
        help_text=_("4 to 24 letters and digits, for example GOLD520; spaces and dashes are "
                    "ignored."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                      "style": "text-transform: uppercase"}))
    max_uses = forms.IntegerField(
        label=_("Uses allowed"), required=False, min_value=1, max_value=10_000_000,
        help_text=_("Empty: as many as the definition's limits allow."))


class BatchForm(forms.Form):
    quantity = forms.IntegerField(label=_("Number of codes"), min_value=1, max_value=BATCH_MAX,
                                  initial=100)
    note = forms.CharField(label=_("Note"), max_length=200, required=False,
                           help_text=_("For example the store or event the cards are for."))
