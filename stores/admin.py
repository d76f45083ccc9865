from django.contrib import admin

from .models import OpeningHours, StockLevel, Store


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "city", "phone", "tryon_seats", "is_active"]
    list_filter = ["kind", "city", "is_active"]
    search_fields = ["name", "name_en", "code", "city"]
    inlines = [OpeningHoursInline]


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    """Read here; stock changes through stores.services (receipts, transfers, counts)."""

    list_display = ["variant", "store", "on_hand", "reserved", "updated_at"]
    list_filter = ["store"]
    search_fields = ["variant__sku", "variant__product__name"]
    list_select_related = ["variant__product", "store"]
    readonly_fields = ["store", "variant", "on_hand", "reserved", "updated_at"]

    def has_add_permission(self, request):
        return False
