"""Writes the demo's four stores, its warehouse, their hours, and the stock they hold."""

import random
from datetime import time
from decimal import Decimal

from stores.models import OpeningHours, StockLevel, Store, StoreKind
from stores.services import stock_receive

from .catalog import LoadedProduct

# code, name, name_en, kind, city, city_en, address, lat, lng, phone, try-on seats,
# weekday hours, weekend hours
STORES: list[tuple] = [
    ("sh-njxl", "上海南京西路店", "Shanghai West Nanjing Road", StoreKind.STORE, "上海", "Shanghai",
     "上海市静安区南京西路1266号恒隆广场1层", "31.229400", "121.451900", "021-6288 1266", 4,
     (time(10, 0), time(22, 0)), (time(10, 0), time(22, 0))),
    ("bj-guomao", "北京国贸店", "Beijing China World", StoreKind.STORE, "北京", "Beijing",
     "北京市朝阳区建国门外大街1号国贸商城北区1层", "39.909900", "116.459800", "010-6505 2288", 3,
     (time(10, 0), time(21, 30)), (time(10, 0), time(22, 0))),
    ("sz-mixc", "深圳万象城店", "Shenzhen MixC", StoreKind.STORE, "深圳", "Shenzhen",
     "深圳市罗湖区宝安南路1881号华润万象城1层", "22.537800", "114.111900", "0755-8266 8181", 3,
     (time(10, 0), time(22, 0)), (time(10, 0), time(22, 0))),
    ("cd-taikooli", "成都太古里店", "Chengdu Taikoo Li", StoreKind.STORE, "成都", "Chengdu",
     "成都市锦江区中纱帽街8号远洋太古里", "30.652300", "104.083000", "028-8666 0808", 2,
     (time(10, 0), time(21, 30)), (time(10, 0), time(22, 0))),
    ("wh-suzhou", "华东中心仓", "East China warehouse (Suzhou)", StoreKind.WAREHOUSE, "苏州", "Suzhou",
     "江苏省苏州市工业园区星龙街428号", "31.301800", "120.783700", "0512-6258 9900", 0,
     (time(8, 30), time(18, 0)), (time(9, 0), time(17, 0))),
]


def stores_load() -> dict[str, Store]:
    """The stores and the warehouse, each with hours for all seven days."""
    stores: dict[str, Store] = {}
    for (code, name, name_en, kind, city, city_en, address, lat, lng, phone, seats,
         weekdays, weekends) in STORES:
        store, _ = Store.objects.update_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "kind": kind, "city": city,
                      "city_en": city_en, "address": address, "latitude": Decimal(lat),
                      "longitude": Decimal(lng), "phone": phone, "tryon_seats": seats},
        )
        for weekday in range(7):
            opens, closes = weekends if weekday >= 5 else weekdays
            OpeningHours.objects.update_or_create(store=store, weekday=weekday,
                                                  defaults={"opens": opens, "closes": closes})
        stores[code] = store
    return stores


def stock_load(*, products: list[LoadedProduct], stores: dict[str, Store]) -> int:
    """Stock every SKU in the warehouse and in one to four stores; a one-of-a-kind piece
    lies in exactly one store. Receives only where a location has no row for the SKU
    yet, so a re-run adds nothing. Returns how many receipts were made."""
    shops = [store for store in stores.values() if store.kind == StoreKind.STORE]
    warehouse = next(store for store in stores.values() if store.kind == StoreKind.WAREHOUSE)
    have = set(StockLevel.objects.filter(variant__in=[v for p in products for v in p.variants])
               .values_list("store_id", "variant_id"))
    receipts = 0
    for item in products:
        for variant in item.variants:
            # Seeded per SKU: the plan does not shift when the product list changes.
            rng = random.Random(f"2026:stock:{variant.sku}")
            if item.spec.unique:
                plan = [(rng.choice(shops), 1)]
            else:
                cheap = variant.pricing_mode == "by_weight" or (variant.list_price or 0) < 5000
                plan = [(warehouse, rng.randint(4, 12) if cheap else rng.randint(1, 4))]
                for shop in rng.sample(shops, k=rng.randint(1, len(shops))):
                    plan.append((shop, rng.randint(1, 4) if cheap else rng.randint(1, 2)))
            for store, quantity in plan:
                if (store.pk, variant.pk) in have:
                    continue
                stock_receive(store=store, variant=variant, quantity=quantity)
                receipts += 1
    return receipts
