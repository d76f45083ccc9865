"""Forms of the marketers' screens (the coupon definition and its issuing tools). They
parse and check the input; members.services does the work."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import CouponDefinition, DiscountKind, Tier
from members.services.coupon_issuing import BATCH_MAX
from o2o.errors import reported

from .models import Campaign, Segment
from .services.segments import segment_rules_clean
from .services.views import views_kept_days

_TO = pgettext_lazy("a range", "to")  # "from 3 to 5": 至 (the transfer's "to" is a store)


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


# --- Segments and campaigns ----------------------------------------------------------------


def _stores():
    from stores.models import Store

    return Store.objects.filter(is_active=True).order_by("code")


def _categories():
    from catalog.models import Category

    return Category.objects.order_by("name")


def _collections():
    from catalog.models import Collection

    return Collection.objects.order_by("position", "pk")


def _score(label):
    return forms.IntegerField(label=label, required=False, min_value=1, max_value=5)


class SegmentForm(forms.ModelForm):
    """The segment builder: conditions that all (or any) hold, and members to leave out.
    The rules are stored as data (Segment.rules) and compiled by
    marketing.services.segments; the form never shows them as code."""

    match = forms.ChoiceField(label=_("Members who meet"), initial="all", choices=[
        ("all", _("every condition below")), ("any", _("at least one condition below"))])
    tiers = forms.ModelMultipleChoiceField(label=_("Tier"), required=False,
                                           queryset=Tier.objects.order_by("min_spend"),
                                           widget=forms.CheckboxSelectMultiple)
    genders = forms.MultipleChoiceField(label=_("Gender"), required=False,
                                        choices=[("f", _("female")), ("m", _("male"))],
                                        widget=forms.CheckboxSelectMultiple)
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=120)
    age_max = forms.IntegerField(label=_("Age up to"), required=False, min_value=0, max_value=120)
    born_within_days = forms.IntegerField(
        label=_("Birthday within the next ... days"), required=False, min_value=0,
        max_value=365)
    wedding_within_days = forms.IntegerField(
        label=_("Wedding anniversary within the next ... days"), required=False, min_value=0,
        max_value=365)
    home_stores = forms.ModelMultipleChoiceField(label=_("Home store"), required=False,
                                                 queryset=_stores())
    bought_at = forms.ModelMultipleChoiceField(label=_("Bought at"), required=False,
                                               queryset=_stores())
    near_store = forms.ModelChoiceField(label=_("Near the store"), required=False,
                                        queryset=_stores())
    near_km = forms.IntegerField(label=_("Within km"), required=False, min_value=1,
                                 max_value=5000, initial=10,
                                 help_text=_("Empty: 10 km."))
    channel = forms.ChoiceField(label=_("Where they buy"), required=False, choices=[
        ("", _("anywhere")), ("online", _("online only")), ("store", _("in store only")),
        ("both", _("online and in store"))])
    recency_min, recency_max = _score(_("Recency score from")), _score(_TO)
    frequency_min, frequency_max = _score(_("Frequency score from")), _score(_TO)
    monetary_min, monetary_max = _score(_("Monetary score from")), _score(_TO)
    spend_min = forms.DecimalField(label=_("Spent at least (yuan)"), required=False,
                                   min_value=0, max_digits=12, decimal_places=2)
    spend_max = forms.DecimalField(label=_("Spent at most (yuan)"), required=False,
                                   min_value=0, max_digits=12, decimal_places=2)
    spend_days = forms.IntegerField(label=_("Spend over the last ... days"), required=False,
                                    min_value=1, max_value=3650, initial=365)
    bought_categories = forms.ModelMultipleChoiceField(label=_("Bought in the categories"),
                                                       required=False, queryset=_categories())
    bought_collections = forms.ModelMultipleChoiceField(label=_("Bought from the collections"),
                                                        required=False,
                                                        queryset=_collections())
    bought_materials = forms.MultipleChoiceField(label=_("Bought the materials"),
                                                 required=False, choices=[],
                                                 widget=forms.CheckboxSelectMultiple)
    viewed_categories = forms.ModelMultipleChoiceField(label=_("Viewed in the categories"),
                                                       required=False, queryset=_categories())
    viewed_collections = forms.ModelMultipleChoiceField(label=_("Viewed from the collections"),
                                                        required=False,
                                                        queryset=_collections())
    viewed_materials = forms.MultipleChoiceField(label=_("Viewed the materials"),
                                                 required=False, choices=[],
                                                 widget=forms.CheckboxSelectMultiple)
    viewed_days = forms.IntegerField(
        label=_("Viewed in the last ... days"), required=False, min_value=1, max_value=3650,
        initial=30, help_text=_("Pieces viewed while signed in. Empty: 30 days."))
    wishlist_categories = forms.ModelMultipleChoiceField(
        label=_("Wishlist holds pieces of the categories"), required=False,
        queryset=_categories())
    has_coupon = forms.ModelChoiceField(label=_("Holds an unused coupon of"), required=False,
                                        queryset=CouponDefinition.objects.order_by("-pk"))
    consent = forms.ChoiceField(label=_("Agreed to"), required=False, choices=[
        ("", _("—")), ("email", _("marketing emails")), ("sms", _("marketing text messages"))])
    not_messaged_days = forms.IntegerField(label=_("Not messaged in the last ... days"),
                                           required=False, min_value=1, max_value=3650)
    except_tiers = forms.ModelMultipleChoiceField(
        label=_("Leave out the tiers"), required=False,
        queryset=Tier.objects.order_by("min_spend"), widget=forms.CheckboxSelectMultiple)
    except_bought_categories = forms.ModelMultipleChoiceField(
        label=_("Leave out buyers of the categories"), required=False, queryset=_categories())

    class Meta:
        model = Segment
        fields = ["name", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from catalog.models import Material

        self.fields["bought_materials"].choices = Material.choices
        self.fields["viewed_materials"].choices = Material.choices
        # The browser's hint; more than the views are kept is refused in words (clean).
        self.fields["viewed_days"].widget.attrs["max"] = views_kept_days()
        for name in ("home_stores", "bought_at", "near_store"):
            self.fields[name].queryset = _stores()
        if self.instance.pk and not self.is_bound:
            self.initial.update(rules_to_initial(self.instance.rules))

    def shows_rules_of_instance(self) -> bool:
        """Whether the builder's fields hold the saved rules exactly: a segment saved some
        other way (by code, or by an older builder) may have a shape the fields cannot
        show, and saving the form would then replace its rules with what little they
        held. The saved rules, read into the fields and written back, must come out the
        same."""
        rules = self.instance.rules or {}
        if not rules:
            return True
        probe = SegmentForm(data={"name": self.instance.name or "-",
                                  **{key: value for key, value in rules_to_initial(rules).items()
                                     if value is not None}})
        probe.is_valid()
        if set(probe.errors) - {"name", "description", "__all__"}:
            return False
        return probe.rules() == ({"all": [rules]} if "rule" in rules else rules)

    def rules(self) -> dict:
        """The rules the cleaned fields describe (call after is_valid, or on a form whose
        only errors are outside the conditions: the live count)."""
        data = self.cleaned_data
        rules: list[dict] = []

        def ids(name):
            return sorted(obj.pk for obj in data.get(name) or [])

        if ids("tiers"):
            rules.append({"rule": "tier", "tiers": ids("tiers")})
        if data.get("genders"):
            rules.append({"rule": "gender", "genders": sorted(data["genders"])})
        if data.get("age_min") is not None or data.get("age_max") is not None:
            age: dict = {"rule": "age"}
            if data.get("age_min") is not None:
                age["min"] = data["age_min"]
            if data.get("age_max") is not None:
                age["max"] = data["age_max"]
            rules.append(age)
        for field, rule in (("born_within_days", "birthday"),
                            ("wedding_within_days", "anniversary")):
            if data.get(field) is not None:
                rules.append({"rule": rule, "days": data[field]})
        if ids("home_stores"):
            rules.append({"rule": "home_store", "stores": ids("home_stores")})
        if ids("bought_at"):
            rules.append({"rule": "bought_at", "stores": ids("bought_at")})
        if data.get("near_store") is not None:
            rules.append({"rule": "near_store", "store": data["near_store"].pk,
                          "km": data.get("near_km") or 10})
        if data.get("channel"):
            rules.append({"rule": "channel", "channel": data["channel"]})
        rfm: dict = {"rule": "rfm"}
        for key in ("recency", "frequency", "monetary"):
            low, high = data.get(f"{key}_min"), data.get(f"{key}_max")
            if low is not None or high is not None:
                rfm[key] = [low or 1, high or 5]
        if len(rfm) > 1:
            rules.append(rfm)
        if data.get("spend_min") is not None or data.get("spend_max") is not None:
            rules.append({"rule": "spend", "days": data.get("spend_days") or 365,
                          "min": str(data["spend_min"]) if data.get("spend_min") is not None
                          else "",
                          "max": str(data["spend_max"]) if data.get("spend_max") is not None
                          else ""})
        bought: dict = {"rule": "bought"}
        if ids("bought_categories"):
            bought["categories"] = ids("bought_categories")
        if ids("bought_collections"):
            bought["collections"] = ids("bought_collections")
        if data.get("bought_materials"):
            bought["materials"] = sorted(data["bought_materials"])
        if len(bought) > 1:
            rules.append(bought)
        viewed: dict = {"rule": "viewed"}
        if ids("viewed_categories"):
            viewed["categories"] = ids("viewed_categories")
        if ids("viewed_collections"):
            viewed["collections"] = ids("viewed_collections")
        if data.get("viewed_materials"):
            viewed["materials"] = sorted(data["viewed_materials"])
        if len(viewed) > 1:
            viewed["days"] = data.get("viewed_days") or 30
            rules.append(viewed)
        if ids("wishlist_categories"):
            rules.append({"rule": "wishlist", "categories": ids("wishlist_categories")})
        if data.get("has_coupon") is not None:
            rules.append({"rule": "has_coupon", "definition": data["has_coupon"].pk})
        if data.get("consent"):
            rules.append({"rule": "consent", "channel": data["consent"]})
        if data.get("not_messaged_days") is not None:
            rules.append({"rule": "not_messaged", "days": data["not_messaged_days"]})
        leave_out: list[dict] = []
        if ids("except_tiers"):
            leave_out.append({"rule": "tier", "tiers": ids("except_tiers")})
        if ids("except_bought_categories"):
            leave_out.append({"rule": "bought", "categories": ids("except_bought_categories")})
        tree: dict = {data.get("match") or "all": rules} if rules else {}
        if leave_out:
            tree = {"all": [*([tree] if tree else []), {"not": {"any": leave_out}}]}
        return tree

    def clean(self):
        data = super().clean()
        if data.get("age_min") is not None and data.get("age_max") is not None \
                and data["age_min"] > data["age_max"]:
            self.add_error("age_max", _("The highest age is below the lowest."))
        if not set(self.errors) - {"name", "description"}:
            # The rules' own checks (a window longer than the views are kept...) as words
            # on the form, before anything is saved.
            with reported(form=self, fields={"segment_days": "viewed_days"}):
                segment_rules_clean(self.rules())
        return data


def rules_to_initial(rules: dict) -> dict:
    """The form's fields for rules the form wrote (see SegmentForm.rules)."""
    initial: dict = {}
    if not rules:
        return initial
    if "rule" in rules:  # one condition on its own, as code writes it: the same as "all of"
        rules = {"all": [rules]}
    positive, leave_out = rules, None
    if "all" in rules and rules["all"] and "not" in rules["all"][-1]:
        leave_out = rules["all"][-1]["not"]
        positive = rules["all"][0] if len(rules["all"]) > 1 else {}
    match = "any" if "any" in positive else "all"
    initial["match"] = match
    for node in positive.get(match, []) if positive else []:
        name = node.get("rule")
        if name == "tier":
            initial["tiers"] = node["tiers"]
        elif name == "gender":
            initial["genders"] = node["genders"]
        elif name == "age":
            initial["age_min"], initial["age_max"] = node.get("min"), node.get("max")
        elif name in ("birthday", "anniversary"):
            initial["born_within_days" if name == "birthday" else "wedding_within_days"] = \
                node["days"]
        elif name == "home_store":
            initial["home_stores"] = node["stores"]
        elif name == "bought_at":
            initial["bought_at"] = node["stores"]
        elif name == "near_store":
            initial["near_store"], initial["near_km"] = node["store"], node["km"]
        elif name == "channel":
            initial["channel"] = node["channel"]
        elif name == "rfm":
            for key in ("recency", "frequency", "monetary"):
                if node.get(key):
                    initial[f"{key}_min"], initial[f"{key}_max"] = node[key]
        elif name == "spend":
            initial["spend_min"] = node.get("min") or None
            initial["spend_max"] = node.get("max") or None
            initial["spend_days"] = node.get("days", 365)
        elif name == "bought":
            initial["bought_categories"] = node.get("categories", [])
            initial["bought_collections"] = node.get("collections", [])
            initial["bought_materials"] = node.get("materials", [])
        elif name == "viewed":
            initial["viewed_categories"] = node.get("categories", [])
            initial["viewed_collections"] = node.get("collections", [])
            initial["viewed_materials"] = node.get("materials", [])
            initial["viewed_days"] = node.get("days", 30)
        elif name == "wishlist":
            initial["wishlist_categories"] = node.get("categories", [])
        elif name == "has_coupon":
            initial["has_coupon"] = node["definition"]
        elif name == "consent":
            initial["consent"] = node["channel"]
        elif name == "not_messaged":
            initial["not_messaged_days"] = node["days"]
    for node in (leave_out or {}).get("any", []):
        if node.get("rule") == "tier":
            initial["except_tiers"] = node["tiers"]
        elif node.get("rule") == "bought":
            initial["except_bought_categories"] = node.get("categories", [])
    return initial


LANGUAGES = (("zh-hans", _("Chinese")), ("en", _("English")))
TEXTS = (("email_subject", _("Email subject"), 200, False),
         ("email_body", _("Email text"), 5000, True),
         ("sms_text", _("Text message"), 500, True),
         ("inbox_title", _("Inbox title"), 120, False),
         ("inbox_body", _("Inbox text"), 2000, True))


def text_field_name(field: str, language: str) -> str:
    return f"{field}_{language.replace('-', '_')}"


class CampaignForm(forms.ModelForm):
    """A campaign's draft. The texts per channel and language are fields of their own
    (stored together per channel); placeholders {name}, {coupon_code}, {coupon_value},
    {coupon_expires} and {link} are filled in for each member."""

    class Meta:
        model = Campaign
        fields = ["name", "segment", "coupon_definition", "send_email", "send_sms",
                  "send_inbox", "link", "scheduled_at", "quiet_from", "quiet_until", "capped",
                  "holdout_percent"]
        help_texts = {"scheduled_at": _("Shop time. Empty: send as soon as you press "
                                        "“Send now”.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field, _label, _length, _long in TEXTS:
            for code, _language in LANGUAGES:
                name = text_field_name(field, code)
                self.initial.setdefault(name, (getattr(self.instance, field) or {}).get(code, ""))
        if "holdout_percent" in self.fields:
            self.fields["holdout_percent"].validators.append(_at_most_half)

    def texts(self) -> dict[str, dict[str, str]]:
        return {field: {code: self.cleaned_data.get(text_field_name(field, code), "").strip()
                        for code, _language in LANGUAGES
                        if self.cleaned_data.get(text_field_name(field, code), "").strip()}
                for field, _label, _length, _long in TEXTS}

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("quiet_from"), cleaned.get("quiet_until")
        if (start is None) != (end is None) and not (
                self.has_error("quiet_from") or self.has_error("quiet_until")):
            self.add_error("quiet_until" if end is None else "quiet_from",
                           _("Give the quiet hours a start and an end, or leave both empty "
                             "for the shop's."))
        elif start is not None and start == end:
            self.add_error("quiet_until", _("The quiet hours start and end at the same time: "
                                            "give them a length, or leave both empty for "
                                            "the shop's."))
        return cleaned

    def clean_link(self):
        link = (self.cleaned_data.get("link") or "").strip()
        if link and not (link.startswith("/") and not link.startswith("//")):
            raise forms.ValidationError(_("A page of the shop, starting with /."))
        return link


def _text_fields() -> None:
    """The texts per channel and language, declared on the form (the admin's fieldsets
    name them)."""
    for field, label, length, long in TEXTS:
        for code, language in LANGUAGES:
            widget = forms.Textarea(attrs={"rows": 4}) if long else forms.TextInput(
                attrs={"size": 60})
            name = text_field_name(field, code)
            declared = forms.CharField(
                label=format_lazy("{} ({})", label, language), required=False,
                max_length=length, widget=widget,
                help_text=_("Placeholders: {name} {coupon_code} {coupon_value} "
                            "{coupon_expires} {link}") if long and code == "zh-hans" else "")
            CampaignForm.base_fields[name] = declared
            CampaignForm.declared_fields[name] = declared


def _at_most_half(value):
    if value is not None and value > 50:
        raise forms.ValidationError(_("At most 50%."))


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(label=_("Send at"), required=False)


_text_fields()
