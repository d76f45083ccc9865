from django.contrib import admin

from .models import Coupon, CouponDefinition


@admin.register(CouponDefinition)
class CouponDefinitionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "value", "min_spend", "channel", "valid_from", "valid_until",
                    "is_active"]
    list_filter = ["kind", "channel", "is_active"]
    search_fields = ["name"]


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ["code", "definition", "member", "status", "issued_at"]
    list_filter = ["status", "definition"]
    search_fields = ["code", "member__phone", "member__email"]
    list_select_related = ["definition", "member"]
    raw_id_fields = ["member"]
    readonly_fields = ["status"]
