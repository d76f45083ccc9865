"""Admin pieces every app's admin.py shares (the apps' admin modules import from here)."""

from django.contrib import admin
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _


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
