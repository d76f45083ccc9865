"""Where a piece can be had, as the catalog's pages show it.

Stock and stores are the stores app's, one layer above catalog, so catalog never imports
them: stores plugs its reads in here from its AppConfig.ready (``availability_register``).
The shopper's pages then ask ``availability()`` for the shops a list can be filtered by,
the condition "has a piece at this shop", and the shops that have each variant.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Expression, QuerySet


class Shop(Protocol):
    """What a catalog page shows of a shop."""

    pk: Any
    code: str
    title: str
    city: str
    city_en: str


class Availability(Protocol):
    def shops(self) -> QuerySet:
        """The open shops (not warehouses) a shopper may filter the catalog by."""

    def product_available_at(self, shop: Shop) -> Expression:
        """An ``Exists`` over products (``OuterRef("pk")`` is the product): an active variant
        of it has a piece available at ``shop``."""

    def shop_floor(self, variant_ids: Iterable[int]) -> list[tuple[int, Shop, int]]:
        """``(variant id, shop, available)`` for every open shop (not warehouse) with a
        piece available, by shop code; one query."""


_provider: Availability | None = None


def availability_register(provider: Availability) -> None:
    global _provider
    _provider = provider


def availability() -> Availability:
    if _provider is None:
        raise ImproperlyConfigured("No stock availability registered: is the stores app "
                                   "installed?")
    return _provider
