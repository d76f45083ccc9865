from decimal import Decimal

import factory
from django.utils import timezone

from catalog.facet_counts import facets_refresh
from catalog.models import Category, MetalRate, Product, Variant


class FacetsKept:
    """Products and variants written past the services: the list's kept facet rows follow,
    as after a bulk load (catalog.facet_counts). Collections added afterwards need
    ``products_changed`` (or a ``prices_refresh`` that reprices them)."""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        made = super()._create(model_class, *args, **kwargs)  # type: ignore[misc]
        facets_refresh(product_ids=[getattr(made, "product_id", made.pk)])
        return made


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = "戒指"
    name_en = "Rings"
    slug = "rings"


class ProductFactory(FacetsKept, factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"素金戒指{n}")
    name_en = factory.Sequence(lambda n: f"Plain gold ring {n}")
    slug = factory.Sequence(lambda n: f"plain-gold-ring-{n}")
    category = factory.SubFactory(CategoryFactory)
    material = "gold"


class VariantFactory(FacetsKept, factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"T-{n:05d}")
    pricing_mode = "fixed"
    list_price = Decimal("1999.00")


class ByWeightVariantFactory(VariantFactory):
    pricing_mode = "by_weight"
    list_price = None
    metal = "gold"
    purity = "999"
    weight_g = Decimal("5.230")
    labour_fee = Decimal("280.00")


class MetalRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetalRate

    metal = "gold"
    purity = "999"
    rate_per_gram = Decimal("780.00")
    valid_from = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(hours=1))
