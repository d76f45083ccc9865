from decimal import Decimal

import factory

from members.models import Coupon, CouponDefinition, Tier


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"tier-{n}")
    name = factory.Sequence(lambda n: f"等级{n}")
    name_en = factory.Sequence(lambda n: f"Tier {n}")
    min_spend = factory.Sequence(lambda n: Decimal(n * 10000))


class CouponDefinitionFactory(factory.django.DjangoModelFactory):
    """¥200 off orders over ¥2,000, online and in store, no end."""

    class Meta:
        model = CouponDefinition
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"满2000减200 #{n}")
    kind = "threshold"
    value = Decimal("200.00")
    min_spend = Decimal("2000.00")
    channel = "both"

    @factory.post_generation
    def birthday_tiers(self, create, extracted, **kwargs):
        if create and extracted:
            self.birthday_tiers.set(extracted)


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    definition = factory.SubFactory(CouponDefinitionFactory)
    code = factory.Sequence(lambda n: f"TESTCODE{n:04d}")
    max_uses = 1
