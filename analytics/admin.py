from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["kind", "at", "user", "product_id", "store_id", "channel"]
    list_filter = ["kind", "channel"]
    date_hierarchy = "at"
    raw_id_fields = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
