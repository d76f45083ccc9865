"""Admin pieces every app's admin.py shares (the apps' admin modules import from here)."""

from django.contrib import admin
from django.contrib.admin import helpers, widgets
from django.contrib.admin.filters import FieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import ValidationError
from django.db.models import Field, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .money import money


class OfferedLookupsOnlyMixin:
    """Every ModelAdmin gets this (o2o.admin_site registers each one with it): the URL of
    a change list may filter only by what the filters this user is shown offer (and the
    date hierarchy, and the limits a related field's pop-up passes), never by any field
    of the model, as Django allows by default. So ``?phone__startswith=138`` or
    ``?pickup_code__startswith=1`` is a 400 for everyone, and a filter a role is not
    shown (``get_list_filter``) is not applied for that role either.

    Actions posted with row ids that are not ids of this model are a 400 too, not a 500.
    ``offered_lookups`` names more the screen offers through links of its own (another
    page's "every price change of this variant"). The mixin defines no attribute of its
    own: it comes first in the class the site builds and would shadow the admin's.
    """

    def _offered_lookups(self, request) -> set[str]:
        cache = request.__dict__.setdefault("_o2o_offered_lookups", {})
        key = id(self)
        if key not in cache:
            offered: set[str] = set(getattr(self, "offered_lookups", ()))
            for list_filter in self.get_list_filter(request):
                if callable(list_filter) and not isinstance(list_filter, Field):
                    spec = list_filter(request, {}, self.model, self)
                else:
                    if isinstance(list_filter, tuple | list):
                        field, make = list_filter
                    else:
                        field, make = list_filter, FieldListFilter.create
                    path = None
                    if not isinstance(field, Field):
                        path = field
                        field = get_fields_from_path(self.model, path)[-1]
                    spec = make(field, request, {}, self.model, self, field_path=path)
                offered.update(spec.expected_parameters())
            hierarchy = self.get_date_hierarchy(request) if hasattr(
                self, "get_date_hierarchy") else self.date_hierarchy
            if hierarchy:
                offered.update(f"{hierarchy}__{part}" for part in ("year", "month", "day"))
            cache[key] = offered
        return cache[key]

    def lookup_allowed(self, lookup, value, request=None):
        if request is not None and lookup in self._offered_lookups(request):
            return True
        # A related field's pop-up (raw_id_fields) passes its limit_choices_to.
        for fk_lookup in self.model._meta.related_fkey_lookups:
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            if isinstance(fk_lookup, Q):
                continue
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return True
        return False

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and "action" in request.POST:
            if not _whole(request.POST.get("index", "0")):
                return HttpResponseBadRequest(_("This action was posted malformed."))
            pk = self.model._meta.pk
            for raw in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                try:
                    if not raw or len(raw) > 64:
                        raise ValidationError("not an id")
                    pk.to_python(raw)
                except ValidationError:
                    return HttpResponseBadRequest(
                        _("The rows selected for this action are not rows of this list."))
        return super().changelist_view(request, extra_context)


def _whole(raw) -> bool:
    return bool(raw) and len(raw) <= 6 and raw.isascii() and raw.isdigit()


class MaskedSearchMixin:
    """Search on a masked or secret field (a mobile number) only as an exact match, for
    users without ``masked_search_permission``: typing the whole number finds its rows,
    typing its first digits finds nothing, so the search cannot spell a masked number
    out digit by digit. ``masked_search_fields`` names the fields; ``masked_search_term``
    turns what was typed into the stored form (E.164 for numbers), or None."""

    masked_search_fields: tuple[str, ...] = ()
    masked_search_permission = ""

    def masked_search_term(self, term: str) -> str | None:
        return term.strip() or None

    def _sees_masked(self, request) -> bool:
        return bool(self.masked_search_permission) and request.user.has_perm(
            self.masked_search_permission)

    def get_search_fields(self, request):
        fields = list(super().get_search_fields(request))
        if self._sees_masked(request):
            return fields
        return [f for f in fields if f.lstrip("^=@") not in self.masked_search_fields]

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if self._sees_masked(request) or not self.masked_search_fields:
            return results, duplicates
        exact = self.masked_search_term(search_term or "")
        if exact:
            matches = Q()
            for field in self.masked_search_fields:
                matches |= Q(**{field: exact})
            results = results | queryset.filter(matches)
            duplicates = duplicates or any("__" in f for f in self.masked_search_fields)
        return results, duplicates


class ReadOnlyInline(admin.TabularInline):
    """Rows written only by services (lines, audit trails, emails sent): shown, never edited
    here. Subclasses name ``model`` and ``fields``."""

    extra = 0
    can_delete = False
    select: tuple[str, ...] = ()  # select_related for what the rows show (no query per row)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select) if self.select else queryset

    def get_readonly_fields(self, request, obj=None):
        return self.fields or self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class AuditEventInline(ReadOnlyInline):
    """A record's audit trail (o2o.audit.AuditEvent rows): when, who, and what happened in
    a sentence of the reader's language; never the code or the JSON."""

    select = ("actor",)
    fields = ["at", "actor", "what"]

    @admin.display(description=_("what happened"))
    def what(self, event) -> str:
        return event.describe()


class ReadOnlyAdminMixin:
    """For records only services write (redemptions, batches, price history): listed and
    read in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScreenEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """An entry on the admin index (registered on a proxy model with no table of its own)
    that opens a staff screen: ``target`` names its URL, ``needs`` the permissions that
    show the entry. Nothing is added, changed or deleted through it."""

    target = ""
    needs: tuple[str, ...] = ()

    def has_view_permission(self, request, obj=None):
        return all(request.user.has_perm(p) for p in self.needs)

    def changelist_view(self, request, extra_context=None):
        return redirect(self.target)


def outbox_summary(messages) -> str:
    """The outbox rows about one record as a short table for its staff screen: when,
    which message (its registered label), to whom, and what became of it, in words."""
    from .outbox import outbox_kind_label

    if not messages:
        return gettext("None yet")

    def when(message):
        at = message.sent_at or message.due_at
        return date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")

    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((when(m), outbox_kind_label(m.kind), m.recipient,
          m.get_state_display()) for m in messages))
    return format_html('<table class="outbox-summary"><thead><tr><th>{}</th><th>{}</th>'
                       "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
                       gettext("when"), gettext("message"), gettext("to"), gettext("state"), rows)


def money_column(model, field: str):
    """A list column writing ``model.field`` as the shop writes money (¥12,800), sortable
    by it, under the field's own name.

        list_display = ["name", money_column(Product, "price_from"), ...]
        total_money = money_column(Order, "total")  # then "total_money" in readonly_fields
    """
    def column(*args):
        # As a list column the admin calls it with the row; as an admin attribute
        # (``total_money = money_column(Order, "total")``, for readonly_fields and inline
        # fields) with the admin and the row.
        return money(getattr(args[-1], field))

    column.short_description = model._meta.get_field(field).verbose_name
    column.admin_order_field = field
    column.__name__ = f"{field}_money"
    return column
