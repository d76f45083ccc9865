from decimal import Decimal

import factory
from django.utils import timezone

from catalog.models import Category, MetalRate, Product, Variant


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = "戒指"
    name_en = "Rings"
    slug = "rings"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"素金戒指{n}")
    name_en = factory.Sequence(lambda n: f"Plain gold ring {n}")
    slug = factory.Sequence(lambda n: f"plain-gold-ring-{n}")
    category = factory.SubFactory(CategoryFactory)
    material = "gold"


class VariantFactory(factory.django.DjangoModelFactory):
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
