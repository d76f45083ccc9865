"""Spreadsheet import and export of the catalog (django-import-export).

An import is all or nothing: it runs in one transaction, and one invalid row
rolls every row back. Each row is checked like a form would check it (field
parsing, choices, CHECK and UNIQUE constraints through ``full_clean``) before
anything is saved, so a bad cell comes back as a row error naming the column,
never as a database error. Once every row went in, ``products_changed`` brings
the derived columns (search text, prices) up to date in the same transaction.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets

from . import services
from .models import Category, Product, Variant


def _plain(value) -> object:
    """A spreadsheet cell as text would read it: 999.0 from XLSX is 999."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class TextWidget(widgets.CharWidget):
    """Text, trimmed; an empty cell is an empty string (never NULL)."""

    def clean(self, value, row=None, **kwargs):
        value = super().clean(_plain(value), row, **kwargs)
        return value.strip() if isinstance(value, str) else value


class NumberWidget(widgets.DecimalWidget):
    """A decimal, or a clear row error for "abc", "NaN" and the like."""

    def clean(self, value, row=None, **kwargs):
        try:
            number = super().clean(value, row, **kwargs)
        except (InvalidOperation, ValueError, TypeError):
            number = Decimal("NaN")
        if number is not None and not number.is_finite():
            raise ValueError(_("“%(value)s” is not a number.") % {"value": value})
        return number


class YesNoWidget(widgets.BooleanWidget):
    """1/0, true/false, yes/no, 是/否; anything else is a row error, not a silent "no"."""

    YES = {"1", "true", "yes", "y", "是"}
    NO = {"0", "false", "no", "n", "否"}

    def clean(self, value, row=None, **kwargs):
        if value is None or isinstance(value, bool):
            return value
        text = str(_plain(value)).strip().lower()
        if text in ("", "none", "null"):
            return None
        if text in self.YES:
            return True
        if text in self.NO:
            return False
        raise ValueError(_("“%(value)s” is not yes or no; write 1 or 0.") % {"value": value})


class TagsWidget(widgets.SimpleArrayWidget):
    """Tags separated by commas (ASCII or Chinese)."""

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return []
        text = str(_plain(value)).replace("，", ",")
        return [tag.strip() for tag in text.split(",") if tag.strip()]


class CategoryWidget(widgets.ForeignKeyWidget):
    def __init__(self, **kwargs):
        super().__init__(Category, field="slug", **kwargs)

    def clean(self, value, row=None, **kwargs):
        slug = str(_plain(value) or "").strip()
        if not slug:
            return None
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            raise ValueError(_("There is no category with the slug “%(slug)s”.") % {"slug": slug})
        return category


class CatalogResource(resources.ModelResource):
    """What the catalog's resources share: strict cells, full validation, one transaction."""

    WIDGETS_MAP = {
        **resources.ModelResource.WIDGETS_MAP,
        "CharField": TextWidget,
        "SlugField": TextWidget,
        "TextField": TextWidget,
        "DecimalField": NumberWidget,
        "BooleanField": YesNoWidget,
    }

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.changed_product_ids: set[int] = set()

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None,
                    collect_failed_rows=False, rollback_on_validation_errors=False, **kwargs):
        # All or nothing, whatever the caller asks: the import runs in one
        # transaction, and an invalid row rolls back the rows before it too.
        return super().import_data(
            dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True,
            collect_failed_rows=collect_failed_rows, rollback_on_validation_errors=True,
            **kwargs,
        )

    def validation_exclusions(self, instance) -> set[str]:
        """Model fields that ``full_clean`` must skip for ``instance`` (beyond failed cells)."""
        return set()

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # Always full_clean (fields, choices, CHECK and UNIQUE constraints): a row the
        # database would refuse is reported as a row error before it is saved.
        errors = dict(import_validation_errors or {})
        exclude = set(errors) | self.validation_exclusions(instance)
        try:
            instance.full_clean(exclude=exclude, validate_unique=validate_unique)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return  # rolled back: nothing to refresh
        if self.changed_product_ids:
            services.products_changed(product_ids=sorted(self.changed_product_ids))


VARIANT_COLUMNS = ("sku", "product_slug", "product_name", "product_name_en", "category_slug",
                   "material", "gemstone", "size", "metal", "purity", "weight_g", "pricing_mode",
                   "list_price", "labour_fee", "barcode", "is_active")


class VariantResource(CatalogResource):
    """One row per SKU, with its product's columns; a new product slug creates the product.

    For an existing product, the product columns that are filled in update it
    (an empty cell leaves the product's value alone); an import never moves a
    SKU to another product.
    """

    product_slug = fields.Field(attribute="product__slug", column_name="product_slug",
                                readonly=True)
    product_name = fields.Field(attribute="product__name", column_name="product_name",
                                readonly=True)
    product_name_en = fields.Field(attribute="product__name_en", column_name="product_name_en",
                                   readonly=True)
    category_slug = fields.Field(attribute="product__category__slug", column_name="category_slug",
                                 readonly=True)
    material = fields.Field(attribute="product__material", column_name="material", readonly=True)
    gemstone = fields.Field(attribute="product__gemstone", column_name="gemstone", readonly=True)

    # Product model field -> the column that carries it (for error messages).
    PRODUCT_COLUMNS = {"slug": "product_slug", "name": "product_name",
                       "name_en": "product_name_en", "category": "category_slug",
                       "material": "material", "gemstone": "gemstone"}

    class Meta:
        model = Variant
        name = _("Variants with their products (by SKU)")
        fields = VARIANT_COLUMNS
        export_order = VARIANT_COLUMNS
        import_id_fields = ["sku"]
        clean_model_instances = True
        use_transactions = True

    def get_queryset(self):
        return Variant.objects.select_related("product__category").order_by("id")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("product__category")

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._products: dict[str, Product] = {}

    def validation_exclusions(self, instance) -> set[str]:
        # No product yet: the row already carries the product column's error.
        return {"product"} if instance.product_id is None else set()

    def import_instance(self, instance, row, **kwargs):
        errors: dict = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            self._product_attach(instance, row)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def after_save_instance(self, instance, row, **kwargs):
        super().after_save_instance(instance, row, **kwargs)
        self.changed_product_ids.add(instance.product_id)

    # --- the product of a row ------------------------------------------------------

    def _product_attach(self, variant: Variant, row) -> None:
        """Find, update or create the row's product and set it on ``variant``.

        Raises ValidationError keyed by the file's column names.
        """
        slug = TextWidget().clean(row.get("product_slug"))
        if variant.pk is not None:
            product = variant.product
            if slug and slug != product.slug:
                raise ValidationError({"product_slug": _(
                    "SKU %(sku)s belongs to the product “%(slug)s”; an import cannot move it "
                    "to another product.") % {"sku": variant.sku, "slug": product.slug}})
        elif not slug:
            raise ValidationError({"product_slug": _("Give the product's slug.")})
        else:
            product = (self._products.get(slug)
                       or Product.objects.select_related("category").filter(slug=slug).first())
            if product is None:
                product = Product(slug=slug)

        changed = self._product_fill(product, row)
        if product.pk is None or changed:
            try:
                product.full_clean()
            except ValidationError as error:
                raise ValidationError({
                    self.PRODUCT_COLUMNS.get(name, NON_FIELD_ERRORS): messages
                    for name, messages in error.message_dict.items()
                }) from None
            product.save()
        self._products[product.slug] = product
        variant.product = product

    def _product_fill(self, product: Product, row) -> bool:
        """Copy the row's filled-in product cells onto ``product``; True if any changed."""
        changed = False
        for attribute, column in (("name", "product_name"), ("name_en", "product_name_en"),
                                  ("material", "material"), ("gemstone", "gemstone")):
            value = TextWidget().clean(row.get(column))
            if value and getattr(product, attribute) != value:
                setattr(product, attribute, value)
                changed = True
        category_slug = TextWidget().clean(row.get("category_slug"))
        if category_slug and (product.category_id is None
                              or product.category.slug != category_slug):
            category = Category.objects.filter(slug=category_slug).first()
            if category is None:
                raise ValidationError({"category_slug": _(
                    "There is no category with the slug “%(slug)s”.") % {"slug": category_slug}})
            product.category = category
            changed = True
        return changed


PRODUCT_FIELDS = ("slug", "name", "name_en", "category", "material", "gemstone", "style",
                  "audience", "tags", "description", "description_en", "is_active", "price_from")


class ProductResource(CatalogResource):
    """One row per product, keyed on its slug: names, descriptions, kind, tags.

    ``price_from`` is exported for reading and ignored on import (it derives
    from the variants).
    """

    category = fields.Field(attribute="category", column_name="category_slug",
                            widget=CategoryWidget())
    tags = fields.Field(attribute="tags", column_name="tags", widget=TagsWidget(), default=list)
    price_from = fields.Field(attribute="price_from", column_name="price_from", readonly=True,
                              widget=NumberWidget())

    class Meta:
        model = Product
        name = _("Products (by slug)")
        fields = PRODUCT_FIELDS
        export_order = PRODUCT_FIELDS
        import_id_fields = ["slug"]
        clean_model_instances = True
        use_transactions = True

    def get_queryset(self):
        return Product.objects.select_related("category").order_by("id")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("category")

    def after_save_instance(self, instance, row, **kwargs):
        super().after_save_instance(instance, row, **kwargs)
        self.changed_product_ids.add(instance.pk)
