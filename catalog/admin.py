from django.contrib import admin

from .models import Category, Certificate, Collection, MetalRate, Product, ProductImage, Variant


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "parent", "position", "is_active"]
    list_filter = ["is_active", "parent"]
    search_fields = ["name", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "kind", "position", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["sku", "size", "metal", "purity", "weight_g", "pricing_mode", "list_price",
              "labour_fee", "stone_carat", "is_active"]


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ["original", "alt", "position"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "category", "material", "is_active", "created_at"]
    list_filter = ["is_active", "category", "material", "gemstone", "collections"]
    search_fields = ["name", "name_en", "slug", "variants__sku"]
    prepopulated_fields = {"slug": ["name_en"]}
    filter_horizontal = ["collections"]
    list_select_related = ["category"]
    inlines = [VariantInline, ProductImageInline]


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ["sku", "product", "size", "metal", "purity", "weight_g", "pricing_mode",
                    "list_price", "is_active"]
    list_filter = ["pricing_mode", "metal", "is_active"]
    search_fields = ["sku", "barcode", "product__name", "product__name_en"]
    list_select_related = ["product"]
    raw_id_fields = ["product"]


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["lab", "number", "variant", "carat", "colour", "clarity", "cut"]
    list_filter = ["lab"]
    search_fields = ["number", "variant__sku"]
    raw_id_fields = ["variant"]


@admin.register(MetalRate)
class MetalRateAdmin(admin.ModelAdmin):
    list_display = ["metal", "purity", "rate_per_gram", "valid_from", "created_by"]
    list_filter = ["metal", "purity"]
    date_hierarchy = "valid_from"
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
