"""A small history whose every figure is computed by hand in the tests.

Today is Monday 15 June 2026 (Beijing time). Two stores (上海 A, 北京 B) and the online
shelf (warehouse W). Categories: Rings > Wedding rings, and Necklaces. Pieces:

    r1  ring, fixed 1,000 (cost 600), collection "Bridal"
    r2  wedding ring, fixed 2,000 (cost 1,100), collections "Bridal" and "Classics"
    n1  gold necklace by weight, 10 g of 999 gold at 500/g + 200 labour = 5,200 (cost 5,000)

Sales (imported history, all completed unless said):

    #1  06-01 10:30  counter at A  m1   r1 x1          1,000
    #2  06-01 15:00  counter at A  --   r2 x1          2,000
    #3  06-02 11:00  pickup at A   m1   n1 x1          5,200
    #4  06-03 20:00  delivery      m2   r1 x2          2,000
    #5  06-03 12:00  counter at B  m3   n1 x1, r1 x1   6,200
    #6  05-10 14:00  counter at A  m1   r1 x1          1,000   (m1's first purchase)
    #7  06-02 09:00  pickup at A   m2   r2 x1          cancelled, never paid

Members m1 (joined online 2026-05-01), m2 (joined at counter A 06-03), m3 (joined at
counter B 06-03).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from catalog.models import Category, Collection, MetalRate, Product, Variant
from members.models import Channel, MemberProfile, User
from orders.services import order_create_historical
from stores.models import Store, StoreKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class History:
    a: Store
    b: Store
    w: Store
    rings: Category
    wedding: Category
    necklaces: Category
    bridal: Collection
    classics: Collection
    r1: Variant
    r2: Variant
    n1: Variant
    m1: User
    m2: User
    m3: User
    orders: dict


def _member(phone: str, joined: datetime, channel: str, store: Store | None) -> User:
    user = User.objects.create_user(phone=phone, name=f"会员{phone[-2:]}")
    User.objects.filter(pk=user.pk).update(date_joined=joined)
    MemberProfile.objects.create(user=user, registered_channel=channel, registered_store=store)
    user.refresh_from_db()
    return user


def build_history() -> History:
    a = Store.objects.create(code="sh-a", name="上海A店", name_en="Shanghai A", city="上海",
                             address="南京西路1号", latitude=Decimal("31.23"),
                             longitude=Decimal("121.47"))
    b = Store.objects.create(code="bj-b", name="北京B店", name_en="Beijing B", city="北京",
                             address="建国门外1号", latitude=Decimal("39.90"),
                             longitude=Decimal("116.40"))
    w = Store.objects.create(code="wh", name="中心仓", name_en="Warehouse", city="苏州",
                             address="星龙街1号", kind=StoreKind.WAREHOUSE)
    rings = Category.objects.create(slug="t-rings", name="戒指", name_en="Rings")
    wedding = Category.objects.create(slug="t-wedding", name="婚戒", name_en="Wedding rings",
                                      parent=rings)
    necklaces = Category.objects.create(slug="t-necklaces", name="项链", name_en="Necklaces")
    bridal = Collection.objects.create(slug="t-bridal", name="婚嫁", name_en="Bridal")
    classics = Collection.objects.create(slug="t-classics", name="经典", name_en="Classics")
    MetalRate.objects.create(metal="gold", purity="999", rate_per_gram=Decimal("500"),
                             valid_from=datetime(2026, 1, 1, tzinfo=SHANGHAI))

    def piece(slug, category, **fields):
        product = Product.objects.create(slug=slug, name=slug, name_en=slug, category=category,
                                         material="gold")
        return product, Variant.objects.create(product=product, sku=slug.upper(), **fields)

    p1, r1 = piece("r1", rings, list_price=Decimal("1000"), cost_price=Decimal("600"))
    p2, r2 = piece("r2", wedding, list_price=Decimal("2000"), cost_price=Decimal("1100"))
    _p3, n1 = piece("n1", necklaces, pricing_mode="by_weight", metal="gold", purity="999",
                    weight_g=Decimal("10"), labour_fee=Decimal("200"),
                    cost_price=Decimal("5000"))
    p1.collections.add(bridal)
    p2.collections.add(bridal, classics)
    m1 = _member("+8613711110001", at(5, 1, 9), Channel.ONLINE, None)
    m2 = _member("+8613711110002", at(6, 3, 19), Channel.STORE, a)
    m3 = _member("+8613711110003", at(6, 3, 11), Channel.STORE, b)

    def sale(key, placed, channel, fulfilment, store, member, lines, status="completed"):
        provider = "cash" if fulfilment == "counter" else "stripe"
        orders[key] = order_create_historical(
            channel=channel, fulfilment=fulfilment, status=status, member=member,
            store=store, staff=None, lines=lines, placed_at=placed, payment_provider=provider,
            contact_name="顾客", contact_phone="+8613800138000")

    orders: dict = {}
    sale(1, at(6, 1, 10, 30), "store", "counter", a, m1, [(r1, 1)])
    sale(2, at(6, 1, 15), "store", "counter", a, None, [(r2, 1)])
    sale(3, at(6, 2, 11), "online", "pickup", a, m1, [(n1, 1)])
    sale(4, at(6, 3, 20), "online", "delivery", None, m2, [(r1, 2)])
    sale(5, at(6, 3, 12), "store", "counter", b, m3, [(n1, 1), (r1, 1)])
    sale(6, at(5, 10, 14), "store", "counter", a, m1, [(r1, 1)])
    sale(7, at(6, 2, 9), "online", "pickup", a, m2, [(r2, 1)], status="cancelled")
    return History(a=a, b=b, w=w, rings=rings, wedding=wedding, necklaces=necklaces,
                   bridal=bridal, classics=classics, r1=r1, r2=r2, n1=n1, m1=m1, m2=m2, m3=m3,
                   orders=orders)


@pytest.fixture
def clock():
    """The shop's clock stands at NOW (and moves on from there)."""
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def history(db, clock) -> History:
    return build_history()


def table_rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
