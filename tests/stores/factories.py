import factory

from stores.models import StockLevel, Store


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
