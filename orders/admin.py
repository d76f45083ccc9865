from django.contrib import admin

from .models import Order, OrderEvent, OrderLine, Payment


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["variant", "product_name", "sku", "quantity", "unit_price", "line_total"]

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    readonly_fields = ["provider", "reference", "amount", "currency", "status", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "actor", "at", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are read here; every change of state goes through orders.services."""

    list_display = ["number", "channel", "fulfilment", "status", "store", "total", "placed_at"]
    list_filter = ["status", "channel", "fulfilment", "store"]
    search_fields = ["number", "contact_phone", "contact_email", "member__phone", "member__email"]
    date_hierarchy = "placed_at"
    list_select_related = ["store"]
    inlines = [OrderLineInline, PaymentInline, OrderEventInline]
    readonly_fields = [f.name for f in Order._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from . import admin_tickets  # noqa: E402,F401 - after-sales tickets register themselves
