"""Stores' answer to catalog.availability: the catalog pages' view of stock (registered by
StoresConfig.ready)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, Expression, OuterRef, QuerySet

from .models import StockLevel, Store, StoreKind
from .selectors import availability_for_variants


class StockAvailability:
    def shops(self) -> QuerySet[Store]:
        return Store.objects.filter(is_active=True, kind=StoreKind.STORE)

    def product_available_at(self, shop: Store) -> Expression:
        return Exists(StockLevel.objects.available().filter(
            variant__product=OuterRef("pk"), variant__is_active=True, store=shop))

    def shop_floor(self, variant_ids: Iterable[int]) -> list[tuple[int, Store, int]]:
        return [(variant_id, store, available)
                for variant_id, places in availability_for_variants(variant_ids).items()
                for store, available in places if store.kind == StoreKind.STORE]
