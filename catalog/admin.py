"""The merchandiser's screens. Thin: every write that derives data goes through catalog.services."""

from functools import partial

from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats

from o2o.admin_kit import ReadOnlyAdminMixin, money_column
from o2o.errors import reported

from . import services
from .admin_kit import ShownOnCatalogPagesMixin
from .cache import catalog_changed
from .facet_counts import facet_totals_recount
from .floor import floor_rebuild
from .forms import (
    CatalogImportForm,
    CategoryAdminForm,
    CertificateAdminForm,
    MetalRateAdminForm,
    ProductImageAdminForm,
    text_as_utf8,
)
from .models import (
    Category,
    Certificate,
    Collection,
    MetalRate,
    Product,
    ProductImage,
    Variant,
    VariantPriceChange,
)
from .resources import ProductResource, VariantResource
from .tasks import image_renditions_task

# --- Categories and collections -------------------------------------------------------


def _category_subtree_ids(category: Category) -> set[int]:
    ids, frontier = {category.pk}, {category.pk}
    while frontier:
        frontier = set(Category.objects.filter(parent_id__in=frontier)
                       .exclude(pk__in=ids).values_list("id", flat=True))
        ids |= frontier
    return ids


@admin.register(Category)
class CategoryAdmin(ShownOnCatalogPagesMixin, admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = ["name", "name_en", "parent", "position", "is_active"]
    list_filter = ["is_active", "parent"]
    search_fields = ["name", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    list_select_related = ["parent"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)  # moves the catalog version
        if change and {"name", "name_en", "parent"} & set(form.changed_data):
            # The category path is part of every product's search text below it.
            services.product_search_refresh(product_ids=Product.objects.filter(
                category_id__in=_category_subtree_ids(obj)).values_list("id", flat=True))


@admin.register(Collection)
class CollectionAdmin(ShownOnCatalogPagesMixin, admin.ModelAdmin):
    list_display = ["name", "name_en", "kind", "position", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)  # moves the catalog version
        if change and {"name", "name_en"} & set(form.changed_data):
            services.product_search_refresh(
                product_ids=obj.products.values_list("id", flat=True))


# --- Import and export ------------------------------------------------------------------


def _import_errors_summary(result, limit: int = 5) -> str:
    lines = [str(error.error) for error in result.base_errors[:limit]]
    for row in result.invalid_rows[:limit]:
        problems = "; ".join(
            f"{field}: {' '.join(str(m) for m in messages_)}"
            for field, messages_ in row.error_dict.items()
        )
        lines.append(_("row %(number)s: %(problems)s") % {"number": row.number,
                                                          "problems": problems})
    for number, errors in result.row_errors()[:limit]:
        lines.append(_("row %(number)s: %(problems)s") % {
            "number": number, "problems": "; ".join(str(e.error) for e in errors)})
    return " | ".join(lines)


class CatalogImportExportMixin:
    """CSV and XLSX; all-or-nothing imports (see catalog.resources) for staff who may
    add and change the rows an import writes."""

    import_formats = [base_formats.CSV, base_formats.XLSX]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    import_template_name = "admin/catalog/import.html"
    import_form_class = CatalogImportForm
    # The file waits between preview and confirmation in the shared cache (Redis), not
    # in one machine's /tmp: the confirmation may reach another web process or host.
    tmp_storage_class = "import_export.tmp_storages.CacheStorage"
    #: Models an import may create or change, beyond the admin's own.
    import_writes_also: tuple[type, ...] = ()

    def has_import_permission(self, request):
        user = request.user
        for model in (self.model, *self.import_writes_also):
            opts = model._meta
            if not (user.has_perm(f"{opts.app_label}.add_{opts.model_name}")
                    and user.has_perm(f"{opts.app_label}.change_{opts.model_name}")):
                return False
        return True

    def write_to_tmp_storage(self, import_file, input_format):
        if input_format.is_binary():
            return super().write_to_tmp_storage(import_file, input_format)
        tmp_storage = self.get_tmp_storage_class()(
            encoding=self.from_encoding, read_mode=input_format.get_read_mode(),
            **self.get_tmp_storage_class_kwargs())
        tmp_storage.save(text_as_utf8(b"".join(import_file.chunks())))
        return tmp_storage

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def process_result(self, result, request):
        # The confirm step re-runs the import for real. When the data changed since
        # the preview and a row fails now, the resource rolled everything back: say
        # so, instead of the library's "Import finished: 0 new" success message.
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                _("Nothing was imported. %(errors)s") % {"errors": _import_errors_summary(result)},
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse("admin:{}_{}_import".format(*self.get_model_info()),
                        current_app=self.admin_site.name))
        return super().process_result(result, request)


# --- Products ----------------------------------------------------------------------------


def image_preview_url(image: ProductImage) -> str | None:
    """The thumb rendition (JPEG) when it has been made, else the original."""
    renditions = image.renditions if isinstance(image.renditions, dict) else {}
    thumb = renditions.get("thumb")
    name = thumb.get("jpeg") if isinstance(thumb, dict) else None
    if isinstance(name, str) and name:
        return default_storage.url(name)
    if image.original:
        return image.original.url
    return None


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["sku", "size", "metal", "purity", "weight_g", "pricing_mode", "list_price",
              "labour_fee", "cost_price", "stone_carat", "barcode", "position", "is_active", "current_price"]
    readonly_fields = ["current_price"]
    show_change_link = True  # certificates and price history live on the variant's page


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageAdminForm
    extra = 0
    fields = ["preview", "original", "alt", "position"]
    readonly_fields = ["preview"]

    @admin.display(description=_("preview"))
    def preview(self, obj):
        url = image_preview_url(obj) if obj is not None and obj.pk else None
        if not url:
            return "—"
        return format_html('<img src="{}" alt="{}" width="96" loading="lazy">', url, obj.alt)


@admin.register(Product)
class ProductAdmin(CatalogImportExportMixin, ImportExportModelAdmin):
    list_display = ["name", "category", "material", money_column(Product, "price_from"),
                    "is_active", "created_at"]
    list_filter = ["is_active", "category", "material", "gemstone", "audience", "collections"]
    search_fields = ["name", "name_en", "slug", "variants__sku", "variants__barcode"]
    search_help_text = _("Name (Chinese or English), slug, SKU or barcode.")
    prepopulated_fields = {"slug": ["name_en"]}
    filter_horizontal = ["collections"]
    list_select_related = ["category"]
    date_hierarchy = "created_at"
    inlines = [VariantInline, ProductImageInline]
    actions = ["products_activate", "products_deactivate"]
    readonly_fields = ["price_from", "popularity", "certificates", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "name_en", "slug", "category", "collections", "is_active"]}),
        (pgettext_lazy("product fieldset", "Piece"), {"fields": ["material", "gemstone", "style", "audience", "tags"]}),
        (_("Description"), {"fields": ["description", "description_en"]}),
        (_("Derived (kept by the system)"), {
            "fields": ["price_from", "popularity", "certificates", "created_at", "updated_at"]}),
    ]
    resource_classes = [ProductResource]

    @admin.display(description=_("certificates"))
    def certificates(self, obj):
        """Read-only here: certificates belong to a variant and are edited on its page."""
        if obj is None or obj.pk is None:
            return "—"
        certificates = list(Certificate.objects.filter(variant__product=obj)
                            .select_related("variant").order_by("variant__sku", "lab", "number"))
        if not certificates:
            return _("None yet. Add them on a variant's page (the link beside each variant).")
        return format_html("<ul>{}</ul>", format_html_join("", '<li><a href="{}">{} {}</a> · {}</li>', (
            (reverse("admin:catalog_certificate_change", args=[c.pk],
                     current_app=self.admin_site.name), c.lab, c.number, c.variant.sku)
            for c in certificates
        )))

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is ProductImage:
            image_ids = [image.pk for image in formset.new_objects]
            image_ids += [image.pk for image, changed in formset.changed_objects
                          if "original" in changed]
            for image_id in image_ids:
                transaction.on_commit(partial(image_renditions_task.delay, image_id=image_id))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Collections, variants and images are saved now: refresh what derives from them.
        services.products_changed(product_ids=[form.instance.pk])

    def delete_model(self, request, obj):
        product_id = obj.pk
        super().delete_model(request, obj)
        facet_totals_recount()  # its facet rows went: the facets' totals
        floor_rebuild(product_ids=[product_id])  # its shop rows went: the shops' totals
        catalog_changed()

    def delete_queryset(self, request, queryset):
        product_ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        facet_totals_recount()
        floor_rebuild(product_ids=product_ids)
        catalog_changed()

    def _active_set(self, request, queryset, *, active: bool) -> None:
        count = services.products_set_active(
            product_ids=list(queryset.values_list("id", flat=True)), active=active)
        if active:
            message = ngettext("%(count)d product activated.",
                               "%(count)d products activated.", count)
        else:
            message = ngettext("%(count)d product deactivated.",
                               "%(count)d products deactivated.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Activate selected products"), permissions=["change"])
    def products_activate(self, request, queryset):
        self._active_set(request, queryset, active=True)

    @admin.action(description=_("Deactivate selected products"), permissions=["change"])
    def products_deactivate(self, request, queryset):
        self._active_set(request, queryset, active=False)


# --- Variants ----------------------------------------------------------------------------

PRICE_CHANGES_SHOWN = 10


class CertificateInline(admin.TabularInline):
    model = Certificate
    form = CertificateAdminForm
    extra = 0
    fields = ["lab", "number", "carat", "colour", "clarity", "cut", "issued_on", "scan"]


class PriceChangeInline(admin.TabularInline):
    """The latest price changes of the variant, read-only (VariantAdmin limits the rows)."""

    model = VariantPriceChange
    verbose_name_plural = _("latest price changes")
    fields = ["at", "price", "reason"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Whoever may see the variant may see its prices.
        return (request.user.has_perm("catalog.view_variant")
                or request.user.has_perm("catalog.change_variant"))


@admin.register(Variant)
class VariantAdmin(CatalogImportExportMixin, ImportExportModelAdmin):
    list_display = ["sku", "product", "size", "metal", "purity", "weight_g", "pricing_mode",
                    money_column(Variant, "list_price"), money_column(Variant, "current_price"),
                    "is_active"]
    list_filter = ["pricing_mode", "metal", "purity", "is_active"]
    search_fields = ["sku", "barcode", "product__name", "product__name_en"]
    list_select_related = ["product"]
    raw_id_fields = ["product"]
    readonly_fields = ["current_price", "price_history"]
    inlines = [CertificateInline, PriceChangeInline]
    resource_classes = [VariantResource]
    import_writes_also = (Product,)

    @admin.display(description=_("price history"))
    def price_history(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:catalog_variantpricechange_changelist",
                      current_app=self.admin_site.name)
        return format_html('<a href="{}?variant__id__exact={}">{}</a>', url, obj.pk,
                           _("Every price change of this variant"))

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, PriceChangeInline) and obj is not None and obj.pk:
            latest = list(obj.price_changes.order_by("-at", "-id")
                          .values_list("id", flat=True)[:PRICE_CHANGES_SHOWN])
            kwargs["queryset"] = VariantPriceChange.objects.filter(id__in=latest)
        return kwargs

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        product_ids = {form.instance.product_id}
        if change and "product" in form.changed_data and form.initial.get("product"):
            # A variant moved to another product changes the old product's prices too.
            product_ids.add(form.initial["product"])
        services.products_changed(product_ids=sorted(product_ids))

    def delete_model(self, request, obj):
        product_id = obj.product_id
        super().delete_model(request, obj)
        services.products_changed(product_ids=[product_id])

    def delete_queryset(self, request, queryset):
        product_ids = sorted(set(queryset.values_list("product_id", flat=True)))
        super().delete_queryset(request, queryset)
        services.products_changed(product_ids=product_ids)


@admin.register(Certificate)
class CertificateAdmin(ShownOnCatalogPagesMixin, admin.ModelAdmin):
    form = CertificateAdminForm
    list_display = ["lab", "number", "variant", "carat", "colour", "clarity", "cut"]
    list_filter = ["lab"]
    search_fields = ["number", "variant__sku"]
    raw_id_fields = ["variant"]
    list_select_related = ["variant__product"]


# --- Metal rates and price history ---------------------------------------------------------


@admin.register(MetalRate)
class MetalRateAdmin(admin.ModelAdmin):
    """Rates are entered, never edited: a mistake is put right by entering a new rate,
    which supersedes it from its ``valid_from`` on (the history stays as it was)."""

    form = MetalRateAdminForm
    list_display = ["metal", "purity", money_column(MetalRate, "rate_per_gram"), "valid_from",
                    "in_force", "created_by", "created_at"]
    list_filter = ["metal", "purity"]
    date_hierarchy = "valid_from"
    list_select_related = ["created_by"]
    readonly_fields = ["created_by", "created_at"]

    def get_fields(self, request, obj=None):
        fields = ["metal", "purity", "rate_per_gram", "valid_from"]
        return fields if obj is None else [*fields, "created_by", "created_at"]

    def get_queryset(self, request):
        superseded = MetalRate.objects.filter(
            metal=OuterRef("metal"), purity=OuterRef("purity"),
            valid_from__gt=OuterRef("valid_from"), valid_from__lte=timezone.now())
        return super().get_queryset(request).annotate(superseded=Exists(superseded))

    @admin.display(description=_("in force"), boolean=True)
    def in_force(self, obj):
        return obj.valid_from <= timezone.now() and not getattr(obj, "superseded", False)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        rate = services.metal_rate_create(
            metal=obj.metal, purity=obj.purity, rate_per_gram=obj.rate_per_gram,
            valid_from=obj.valid_from, actor=request.user)
        # The admin goes on with ``obj`` (log entry, redirect): make it the saved row.
        obj.pk = rate.pk
        obj.valid_from, obj.created_by, obj.created_at = rate.valid_from, rate.created_by, rate.created_at
        obj._state.adding = False
        obj._state.db = rate._state.db

    def add_view(self, request, form_url="", extra_context=None):
        # The form already refuses duplicates and bad values; this catches the race
        # (the same rate entered twice at once) so that it is a message, not a 500.
        with reported(request):
            try:
                return super().add_view(request, form_url, extra_context)
            except IntegrityError:
                self.message_user(request, _("A rate for this metal and purity already starts "
                                             "then."), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())


@admin.register(VariantPriceChange)
class VariantPriceChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Price history, read-only: rows are written by catalog.services.prices_refresh."""

    list_display = ["at", "variant_sku", "product", money_column(VariantPriceChange, "price"),
                    "reason"]
    list_filter = ["reason"]
    offered_lookups = ("variant__id__exact",)  # the variant page links here
    search_fields = ["variant__sku", "variant__product__name", "variant__product__name_en"]
    search_help_text = _("SKU or product name.")
    date_hierarchy = "at"
    list_select_related = ["variant__product"]
    fields = ["variant", "price", "at", "reason"]

    @admin.display(description=_("SKU"), ordering="variant__sku")
    def variant_sku(self, obj):
        url = reverse("admin:catalog_variant_change", args=[obj.variant_id],
                      current_app=self.admin_site.name)
        return format_html('<a href="{}">{}</a>', url, obj.variant.sku)

    @admin.display(description=_("product"))
    def product(self, obj):
        return obj.variant.product.name
