"""The one pricing function. Every price the shop shows or charges comes from here.

A variant is priced either at its fixed list price, or by weight: weight x the
metal rate in force for its metal and purity + labour fee. The result is rounded
once, by ``money_round``. A by-weight variant with no rate in force cannot be
priced (``PriceUnavailable``), never priced at zero.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from o2o.errors import ApplicationError

from .models import MetalRate, PricingMode, Variant

CENT = Decimal("0.01")
YUAN = Decimal("1")


def money_round(amount: Decimal) -> Decimal:
    """Shop prices are whole yuan, half up (the counter's habit); stored with cents."""
    return amount.quantize(YUAN, rounding=ROUND_HALF_UP).quantize(CENT)


class PriceUnavailable(ApplicationError):
    code = "price_unavailable"


@dataclass(frozen=True)
class Price:
    amount: Decimal
    mode: str
    weight_g: Decimal | None = None
    rate_per_gram: Decimal | None = None
    labour_fee: Decimal | None = None

    @property
    def is_by_weight(self) -> bool:
        return self.mode == PricingMode.BY_WEIGHT


RateKey = tuple[str, str]


def rates_in_force(at: datetime | None = None) -> dict[RateKey, Decimal]:
    """Every metal/purity rate in force at ``at``, in one query (DISTINCT ON).

    In SQL: every by-weight price and every purchase of such a piece (twice: the bag, then
    checkout) reads it, and the ORM's building of it cost ten times the SQL's CPU."""
    at = at or timezone.now()
    with connections[router.db_for_read(MetalRate)].cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT ON (metal, purity) metal, purity, rate_per_gram "
            f"FROM {MetalRate._meta.db_table} WHERE valid_from <= %s "
            f"ORDER BY metal, purity, valid_from DESC", [at])
        return {(metal, purity): rate for metal, purity, rate in cursor.fetchall()}


def variant_price(
    *, variant: Variant, at: datetime | None = None, rates: dict[RateKey, Decimal] | None = None
) -> Price:
    """Price ``variant`` at ``at`` (now by default).

    Pass ``rates`` from ``rates_in_force`` when pricing many variants, so the
    page costs one rate query, not one per variant.
    """
    if variant.pricing_mode == PricingMode.FIXED:
        if not variant.list_price:
            raise PriceUnavailable(_("This piece has no price yet."))
        return Price(amount=money_round(variant.list_price), mode=PricingMode.FIXED)

    if rates is None:
        rates = rates_in_force(at)
    rate = rates.get((variant.metal, variant.purity))
    if rate is None or not variant.weight_g:
        raise PriceUnavailable(
            _("Today's %(metal)s rate has not been set, so this piece cannot be sold yet.")
            % {"metal": variant.get_metal_display()},
            extra={"sku": variant.sku},
        )
    amount = variant.weight_g * rate + variant.labour_fee
    return Price(
        amount=money_round(amount),
        mode=PricingMode.BY_WEIGHT,
        weight_g=variant.weight_g,
        rate_per_gram=rate,
        labour_fee=variant.labour_fee,
    )
