"""Admin pieces every app's admin.py shares (the apps' admin modules import from here)."""

from django.contrib import admin
from django.shortcuts import redirect

from catalog.cache import catalog_changed


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


class ShownOnCatalogPagesMixin:
    """For records catalog pages show (categories, collections, certificates, stores):
    every save or delete from the admin moves the catalog version, so no cached page
    (o2o.middleware, catalog.cache) keeps showing the old row."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        catalog_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        catalog_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        catalog_changed()


def money_column(model, field: str):
    """A list column writing ``model.field`` as the shop writes money (¥12,800), sortable
    by it, under the field's own name.

        list_display = ["name", money_column(Product, "price_from"), ...]
    """
    from catalog.templatetags.shop_tags import money

    def column(obj):
        return money(getattr(obj, field))

    column.short_description = model._meta.get_field(field).verbose_name
    column.admin_order_field = field
    column.__name__ = f"{field}_money"
    return column
