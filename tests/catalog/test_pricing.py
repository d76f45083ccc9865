from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.pricing import PriceUnavailable, money_round, rates_in_force, variant_price

from .factories import ByWeightVariantFactory, MetalRateFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_a_fixed_price_is_the_list_price():
    price = variant_price(variant=VariantFactory(list_price=Decimal("12800.00")))
    assert price.amount == Decimal("12800.00")
    assert not price.is_by_weight


def test_by_weight_is_weight_times_todays_rate_plus_labour_rounded_once():
    MetalRateFactory(rate_per_gram=Decimal("781.35"))
    variant = ByWeightVariantFactory(weight_g=Decimal("5.230"), labour_fee=Decimal("280.00"))
    price = variant_price(variant=variant)
    # 5.230 x 781.35 = 4086.4605, + 280 = 4366.4605 -> 4366 (whole yuan, half up)
    assert price.amount == Decimal("4366.00")
    assert (price.weight_g, price.rate_per_gram, price.labour_fee) == (
        Decimal("5.230"), Decimal("781.35"), Decimal("280.00"))
    assert price.is_by_weight


@pytest.mark.parametrize(("raw", "rounded"), [
    (Decimal("4366.4999"), Decimal("4366.00")),
    (Decimal("4366.5"), Decimal("4367.00")),
    (Decimal("0.5"), Decimal("1.00")),
])
def test_money_round_is_half_up_to_the_yuan(raw, rounded):
    assert money_round(raw) == rounded


def test_the_rate_in_force_is_the_latest_that_has_started():
    now = timezone.now()
    MetalRateFactory(rate_per_gram=Decimal("700.00"), valid_from=now - timedelta(days=2))
    MetalRateFactory(rate_per_gram=Decimal("780.00"), valid_from=now - timedelta(hours=2))
    MetalRateFactory(rate_per_gram=Decimal("999.00"), valid_from=now + timedelta(hours=2))
    variant = ByWeightVariantFactory(weight_g=Decimal("1.000"), labour_fee=Decimal("0"))
    assert variant_price(variant=variant).amount == Decimal("780.00")
    yesterday = now - timedelta(days=1)
    assert variant_price(variant=variant, at=yesterday).amount == Decimal("700.00")
    assert variant_price(variant=variant, at=now + timedelta(hours=3)).amount == Decimal("999.00")


def test_rates_are_kept_apart_by_metal_and_purity():
    MetalRateFactory(metal="gold", purity="999", rate_per_gram=Decimal("780.00"))
    MetalRateFactory(metal="gold", purity="750", rate_per_gram=Decimal("585.00"))
    MetalRateFactory(metal="platinum", purity="950", rate_per_gram=Decimal("330.00"))
    rates = rates_in_force()
    assert rates == {("gold", "999"): Decimal("780.00"), ("gold", "750"): Decimal("585.00"),
                     ("platinum", "950"): Decimal("330.00")}
    k18 = ByWeightVariantFactory(purity="750", weight_g=Decimal("2.000"), labour_fee=Decimal("0"))
    assert variant_price(variant=k18, rates=rates).amount == Decimal("1170.00")


def test_a_missing_rate_means_the_piece_cannot_be_sold_never_zero():
    MetalRateFactory(metal="platinum", purity="950")
    variant = ByWeightVariantFactory(metal="gold", purity="999")
    with pytest.raises(PriceUnavailable) as error:
        variant_price(variant=variant)
    assert error.value.code == "price_unavailable"
    assert error.value.as_dict()["sku"] == variant.sku


def test_a_rate_that_starts_later_does_not_price_today():
    MetalRateFactory(valid_from=timezone.now() + timedelta(days=1))
    with pytest.raises(PriceUnavailable):
        variant_price(variant=ByWeightVariantFactory())


def test_the_database_refuses_a_variant_that_could_never_be_priced():
    with pytest.raises(IntegrityError), transaction.atomic():
        VariantFactory(list_price=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        ByWeightVariantFactory(weight_g=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        MetalRateFactory(rate_per_gram=Decimal("0"))
