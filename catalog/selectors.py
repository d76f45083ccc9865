from django.db.models import Prefetch, QuerySet

from .models import Collection, Product, ProductImage, Variant
from .pricing import PriceUnavailable, rates_in_force, variant_price


def products_for_display() -> QuerySet[Product]:
    return Product.objects.active().select_related("category").prefetch_related(
        Prefetch("variants", queryset=Variant.objects.filter(is_active=True)),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
    )


def price_from(product: Product, rates) -> object:
    """The lowest price among the product's variants, or None if none can be priced."""
    prices = []
    for variant in product.variants.all():
        try:
            prices.append(variant_price(variant=variant, rates=rates).amount)
        except PriceUnavailable:
            continue
    return min(prices) if prices else None


def home_page(*, new_count: int = 8) -> dict:
    """Collections and the newest pieces, each with its 'from' price: a fixed few queries."""
    rates = rates_in_force()
    newest = list(products_for_display().order_by("-created_at", "-id")[:new_count])
    for product in newest:
        product.price_from = price_from(product, rates)
    collections = list(Collection.objects.filter(is_active=True).order_by("position", "id")[:6])
    return {"new_products": newest, "collections": collections}
