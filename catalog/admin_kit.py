"""Admin pieces for records the catalog pages show (catalog's and stores' admins)."""

from .cache import catalog_changed


class ShownOnCatalogPagesMixin:
    """For records catalog pages show (categories, collections, certificates, stores):
    every save or delete from the admin moves the catalog version, so no cached page
    (catalog.middleware, catalog.cache) keeps showing the old row."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        catalog_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        catalog_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        catalog_changed()
