"""The catalog's filters, written once for the shopper's pages and the API.

``ProductFilter`` (django-filter) validates what comes in the URL: an unknown
category or a price of "abc" is a form error, which the API turns into a 400
with the reason and the page shows beside the facets.
"""

from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from .availability import availability
from .cache import depend_on_floor
from .models import Category, Collection, Gemstone, Material, Metal, Product, Variant
from .search import parse_query, search_filter


class Sort:
    NEWEST = "newest"
    PRICE = "price"
    PRICE_DESC = "-price"
    POPULAR = "popular"
    RELEVANCE = "relevance"

    CHOICES = [
        (NEWEST, _("Newest")),
        (POPULAR, _("Most popular")),
        (PRICE, _("Price, low to high")),
        (PRICE_DESC, _("Price, high to low")),
        (RELEVANCE, _("Best match")),
    ]
    ORDER = {
        NEWEST: ["-created_at", "-id"],
        POPULAR: ["-popularity", "-created_at", "-id"],
        PRICE: [F("price_from").asc(nulls_last=True), "id"],
        PRICE_DESC: [F("price_from").desc(nulls_last=True), "id"],
        RELEVANCE: ["-search_rank", "-popularity", "-id"],
    }


def category_with_descendants(category: Category) -> list[int]:
    """The category and everything below it (the tree is shallow and small)."""
    parents: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("id", "parent_id"):
        parents.setdefault(parent_id, []).append(pk)
    ids, frontier = [category.pk], [category.pk]
    while frontier:
        frontier = [child for pk in frontier for child in parents.get(pk, [])]
        ids += frontier
    return ids


class ProductFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label=_("Search"), max_length=100)
    category = filters.ModelChoiceFilter(
        queryset=Category.objects.filter(is_active=True), to_field_name="slug",
        method="filter_category", label=_("Category"))
    collection = filters.ModelChoiceFilter(
        queryset=Collection.objects.filter(is_active=True), to_field_name="slug",
        field_name="collections", label=_("Collection"))
    # Columns of the product itself: no join, so no DISTINCT (which made the grid's count
    # and page sort every column of every match).
    material = filters.MultipleChoiceFilter(choices=Material.choices, label=_("Material"),
                                            distinct=False)
    gemstone = filters.MultipleChoiceFilter(choices=[c for c in Gemstone.choices if c[0]],
                                            label=_("Gemstone"), distinct=False)
    metal = filters.MultipleChoiceFilter(choices=[c for c in Metal.choices if c[0]],
                                         method="filter_metal", label=_("Metal"))
    size = filters.CharFilter(method="filter_size", label=_("Size"), max_length=20)
    price_min = filters.NumberFilter(field_name="price_from", lookup_expr="gte",
                                     min_value=0, label=_("Lowest price"))
    price_max = filters.NumberFilter(field_name="price_from", lookup_expr="lte",
                                     min_value=0, label=_("Highest price"))
    store = filters.ModelChoiceFilter(
        queryset=lambda request: availability().shops(),  # stores' (catalog.availability)
        to_field_name="code", method="filter_store", label=_("Available at store"))
    sort = filters.ChoiceFilter(choices=Sort.CHOICES, method="filter_sort", label=_("Sort"),
                                empty_label=None)

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        self.parsed_query = parse_query(value)
        return search_filter(queryset, self.parsed_query)

    def filter_category(self, queryset, name, value):
        # Facets apply this filter again; the tree is read once per request.
        if getattr(self, "_category_ids", (None,))[0] != value.pk:
            self._category_ids = category_with_descendants(value)
        return queryset.filter(category_id__in=self._category_ids)

    def filter_metal(self, queryset, name, value):
        variants = Variant.objects.filter(product=OuterRef("pk"), is_active=True, metal__in=value)
        return queryset.filter(Exists(variants))

    def filter_size(self, queryset, name, value):
        variants = Variant.objects.filter(product=OuterRef("pk"), is_active=True, size=value)
        return queryset.filter(Exists(variants))

    def filter_store(self, queryset, name, value: str):  # (the hint is for the schema)
        depend_on_floor()  # the list shows which pieces a shop has: stale once one sells out
        return queryset.filter(availability().product_available_at(value))

    def filter_sort(self, queryset, name, value):
        return queryset  # ordering is applied last, in ``filter_queryset``

    def clean_sort(self) -> str:
        sort = self.form.cleaned_data.get("sort") or ""
        # A query of punctuation or emoji searches nothing: no relevance to sort by.
        q = self.form.cleaned_data.get("q", "").strip()
        parsed = getattr(self, "parsed_query", None) or (parse_query(q) if q else None)
        has_query = bool(parsed and parsed.terms)
        if sort == Sort.RELEVANCE and not has_query:
            return Sort.NEWEST
        return sort or (Sort.RELEVANCE if has_query else Sort.NEWEST)

    def filter_queryset(self, queryset: QuerySet[Product]) -> QuerySet[Product]:
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*Sort.ORDER[self.clean_sort()])



