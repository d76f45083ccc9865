from datetime import datetime, time, timedelta

import factory
from django.utils import timezone

from catalog.floor import floor_rebuild
from stores.models import OpeningHours, Service, SpecialHours, StockLevel, Store, StoreKind


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"store-{n}")
    name = factory.Sequence(lambda n: f"门店{n}")
    name_en = factory.Sequence(lambda n: f"Store {n}")
    city = "上海"
    city_en = "Shanghai"
    address = "南京西路 1266 号"


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    store = factory.SubFactory(StoreFactory)
    on_hand = 3

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Stock written past the services: the list's kept shop counts follow, as after
        # a bulk load (catalog.floor).
        level = super()._create(model_class, *args, **kwargs)
        floor_rebuild(product_ids=[level.variant.product_id])
        return level


def tryon_store(*, code: str | None = None, seats: int = 2, opens: time = time(10, 0),
                closes: time = time(22, 0), minutes: int = 60, lead_minutes: int = 120,
                services: list[str] | None = None, **fields) -> Store:
    """A shop that takes try-ons every day of the week from ``opens`` to ``closes``."""
    extra = {"code": code} if code else {}
    store = StoreFactory(tryon_seats=seats, tryon_minutes=minutes,
                         booking_lead_minutes=lead_minutes,
                         services=services if services is not None else [Service.TRYON,
                                                                         Service.CLEANING],
                         **extra, **fields)
    for weekday in range(7):
        OpeningHours.objects.update_or_create(store=store, weekday=weekday,
                                              defaults={"opens": opens, "closes": closes})
    return store


def warehouse(**fields) -> Store:
    return StoreFactory(kind=StoreKind.WAREHOUSE, tryon_seats=0, services=[], city="苏州",
                        city_en="Suzhou", **fields)


def closure(store: Store, day, *, note: str = "", opens=None, closes=None) -> SpecialHours:
    return SpecialHours.objects.create(store=store, date=day, closed=opens is None, opens=opens,
                                       closes=closes, note=note)


def local(store: Store, day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=store.zone)


def days_ahead(store: Store, days: int):
    """The store's local date ``days`` from today."""
    return timezone.now().astimezone(store.zone).date() + timedelta(days=days)
