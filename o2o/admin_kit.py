"""Admin pieces every app's admin.py shares (the apps' admin modules import from here)."""

from django.contrib import admin
from django.shortcuts import redirect


class ReadOnlyInline(admin.TabularInline):
    """Rows written only by services (lines, audit trails, emails sent): shown, never edited
    here. Subclasses name ``model`` and ``fields``."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class ScreenEntryAdmin(admin.ModelAdmin):
    """An entry on the admin index (registered on a proxy model with no table of its own)
    that opens a staff screen: ``target`` names its URL, ``needs`` the permissions that
    show the entry. Nothing is added, changed or deleted through it."""

    target = ""
    needs: tuple[str, ...] = ()

    def has_view_permission(self, request, obj=None):
        return all(request.user.has_perm(p) for p in self.needs)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        return redirect(self.target)
