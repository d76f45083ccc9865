"""Every figure of the dashboards against the small history of conftest.py, computed by
hand in the comments."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from analytics import selectors
from analytics.models import Event
from analytics.selectors import Reader
from analytics.services.rollups import rollups_rebuild_all, stock_snapshot
from o2o.dashboard import Scope
from orders.services import order_create_historical
from stores.models import StockLevel
from stores.services import appointment_create_historical, stock_receive
from tests.analytics.conftest import SHANGHAI, TODAY, at
from tests.members.factories import StaffFactory

pytestmark = pytest.mark.django_db

JUNE = {"start": date(2026, 6, 1), "end": date(2026, 6, 7)}


def scope(**fields) -> Scope:
    return Scope(**{"store_ids": None, **JUNE, **fields})


@pytest.fixture
def built(history):
    rollups_rebuild_all()
    return history


def test_sales_totals_of_the_chain(built):
    # Orders 1-5 were paid in the week (6 in May, 7 never): 1,000 + 2,000 + 5,200 +
    # 2,000 + 6,200 = 16,400 in 5 orders; pieces 1 + 1 + 1 + 2 + 2 = 7.
    now = selectors.sales_totals(Reader(today=TODAY), scope())["now"]
    assert now["revenue"] == Decimal("16400.00")
    assert now["orders"] == 5
    assert now["units"] == 7
    assert now["aov"] == Decimal("3280.00")
    # Gold: n1 twice, 10 g each. Cost: r1 x4 at 600, r2 at 1,100, n1 x2 at 5,000.
    assert now["gold_g"] == Decimal("20.000")
    assert now["cost"] == Decimal("13500.00")
    assert now["refunds"] == 0 and now["discounts"] == 0


def test_sales_totals_by_store_and_channel(built):
    reader = Reader(today=TODAY)
    a = selectors.sales_totals(reader, scope(store_ids=frozenset({built.a.pk})))["now"]
    assert (a["orders"], a["revenue"], a["units"]) == (3, Decimal("8200.00"), 3)
    online = selectors.sales_totals(reader, scope(channel="online"))["now"]
    assert (online["orders"], online["revenue"]) == (2, Decimal("7200.00"))  # #3 and #4
    counter_b = selectors.sales_totals(reader, scope(store_ids=frozenset({built.b.pk}),
                                                     channel="counter"))["now"]
    assert (counter_b["orders"], counter_b["revenue"]) == (1, Decimal("6200.00"))
    rows = {r["store_id"]: r for r in selectors.sales_by_store(reader, scope())}
    assert rows[built.a.pk]["revenue"] == Decimal("8200.00")
    assert rows[built.b.pk]["revenue"] == Decimal("6200.00")
    assert rows[None]["revenue"] == Decimal("2000.00")  # #4, delivered from the shelf
    assert sum(r["orders"] for r in rows.values()) == 5


def test_the_compared_period(built):
    # The week before (05-25..05-31) sold nothing; the period 05-01..05-31 holds #6.
    result = selectors.sales_totals(Reader(today=TODAY), scope(
        compare_start=date(2026, 5, 1), compare_end=date(2026, 5, 31)))
    assert result["then"]["revenue"] == Decimal("1000.00")
    assert result["then"]["orders"] == 1


def test_categories_drill_down_to_the_piece(built):
    reader = Reader(today=TODAY)
    top = {r["category_id"]: r for r in selectors.sales_by_category(reader, scope())}
    # Rings holds r1 (4 pieces, 4,000) and, below it, wedding rings' r2 (2,000).
    assert (top[built.rings.pk]["units"], top[built.rings.pk]["revenue"]) == (5, Decimal("6000"))
    assert top[built.necklaces.pk]["revenue"] == Decimal("10400")
    assert top[built.necklaces.pk]["gold_g"] == Decimal("20")
    assert set(top) == {built.rings.pk, built.necklaces.pk}
    inside = {r["category_id"]: r for r in selectors.sales_by_category(
        reader, scope(), parent=built.rings.pk)}
    assert inside[built.wedding.pk]["revenue"] == Decimal("2000")
    assert inside[built.rings.pk]["revenue"] == Decimal("4000")  # the ring's own pieces
    tree = selectors.CategoryTree.load()
    pieces = selectors.sales_pieces(reader, scope(), category_ids=tree.descendants(built.rings.pk))
    assert [(p["product"].slug, p["units"], p["revenue"], p["orders"]) for p in pieces] == [
        ("r1", 4, Decimal("4000"), 3), ("r2", 1, Decimal("2000"), 1)]


def test_metal_and_collections(built):
    reader = Reader(today=TODAY)
    metals = {m["metal"]: m for m in selectors.sales_by_metal(reader, scope())}
    assert metals["gold"]["revenue"] == Decimal("10400") and metals[""]["units"] == 5
    collections = {c["collection"].slug: c for c in selectors.sales_by_collection(reader, scope())}
    # Bridal: r1 (4 pieces) and r2 (1); Classics: r2 only. A piece counts in each.
    assert (collections["t-bridal"]["units"], collections["t-bridal"]["revenue"]) == (
        5, Decimal("6000"))
    assert (collections["t-classics"]["units"], collections["t-classics"]["revenue"]) == (
        1, Decimal("2000"))


def test_buying_members_are_counted_once(built):
    result = selectors.members_totals(Reader(today=TODAY), scope())["now"]
    # m1 bought on 06-01 and 06-02 (counter and pickup), m2 on 06-03 online, m3 at B.
    assert result["active"] == 3
    assert result["repeat"] == 1 and result["both"] == 1
    assert result["repeat_rate"] == pytest.approx(1 / 3)
    # Summing each day's buyers would count m1 twice: the figure is not a sum of cells.
    daily = sum(selectors.members_totals(Reader(today=TODAY), scope(
        start=day, end=day))["now"]["active"] for day in
        (date(2026, 6, 1) + timedelta(days=n) for n in range(7)))
    assert daily == 4
    # New members by where they joined: m2 at A, m3 at B on 06-03 (m1 in May).
    assert result["new"] == 2
    at_a = selectors.members_totals(Reader(today=TODAY), scope(
        store_ids=frozenset({built.a.pk})))["now"]
    assert (at_a["new"], at_a["active"]) == (1, 1)  # m2 joined at A; m1 bought at A


def test_monthly_cohorts(built):
    result = selectors.members_cohorts(Reader(today=TODAY), scope(end=date(2026, 6, 15)),
                                       cohorts=2)
    may, june = result["cohorts"]
    # m1 first bought in May (#6) and again in June; m2 and m3 first bought in June.
    assert (may["cohort"], may["size"], may["cells"]) == (date(2026, 5, 1), 1,
                                                          [(1, 1.0), (1, 1.0)])
    assert (june["cohort"], june["size"], june["cells"]) == (date(2026, 6, 1), 2, [(2, 1.0)])
    # At store B only m3 ever bought: a cohort of one in June; May is empty.
    at_b = selectors.members_cohorts(Reader(today=TODAY), scope(
        end=date(2026, 6, 15), store_ids=frozenset({built.b.pk})), cohorts=2)
    assert [c["size"] for c in at_b["cohorts"]] == [0, 1]
    assert result["nightly"] and at_b["nightly"]  # read from the nightly cells
    # Two stores: counted from the facts there and then; the same figures as the cells'.
    both = selectors.members_cohorts(Reader(today=TODAY), scope(
        end=date(2026, 6, 15), store_ids=frozenset({built.a.pk, built.b.pk})), cohorts=2)
    assert not both["nightly"]
    # m1 first bought at A in May; in June m3 at B (m2 bought a delivery: no store).
    assert [c["size"] for c in both["cohorts"]] == [1, 1]
    for store_ids in (None, frozenset({built.a.pk})):
        for channel in ("", "online", "counter"):
            cut = scope(end=date(2026, 6, 15), store_ids=store_ids, channel=channel)
            first, last = date(2026, 5, 1), date(2026, 6, 1)
            assert sorted(selectors._cohorts_stored(cut, first, last)) == sorted(
                selectors._cohorts_live(Reader(today=TODAY), cut, first)), (store_ids, channel)


def test_online_funnel_by_device_counts_visits_and_orders(built):
    day = at(6, 2, 10)
    views = [("s1", "mobile"), ("s1", "mobile"), ("s1", "mobile"), ("s2", "desktop"),
             ("s2", "desktop"), (None, "desktop")]
    for session, device in views:
        Event.objects.create(kind="product.viewed", session_key=session or "",
                             user=built.m1 if session is None else None, at=day,
                             data={"device": device})
    Event.objects.create(kind="shop.bag", session_key="s1", at=day, data={"device": "mobile"})
    Event.objects.create(kind="shop.bag", user=built.m1, at=day, data={"device": "desktop"})
    Event.objects.create(kind="shop.checkout", session_key="s1", at=day,
                         data={"device": "mobile"})
    Event.objects.create(kind="shop.bag", session_key="s1", at=at(6, 3, 10),
                         data={"device": "mobile"})  # the next day: a visit of its own
    rollups_rebuild_all()
    visits = selectors.funnel_visits(Reader(today=TODAY), scope())
    assert visits["mobile"] == {"views": 3, "viewers": 1, "adds": 2, "adders": 2,
                                "checkouts": 1}
    assert visits["desktop"] == {"views": 3, "viewers": 2, "adds": 1, "adders": 1,
                                 "checkouts": 0}
    orders = selectors.funnel_orders(Reader(today=TODAY), scope())
    # Online orders placed in the week: #3 and #7 (pickups at A), #4 (delivery).
    assert orders[("", "pickup")] == {"placed": 2, "paid": 1, "handed_over": 1}
    assert orders[("", "delivery")] == {"placed": 1, "paid": 1, "handed_over": 1}


def test_tryon_funnel_by_store_and_staff(built):
    clerk = StaffFactory()
    base = {"store": built.a, "variants": [], "contact_name": "顾客", "contact_phone": "+8613800138000"}
    appointment_create_historical(starts_at=at(6, 2, 11), status="completed", outcome="bought",
                                  staff=clerk, **base)
    appointment_create_historical(starts_at=at(6, 2, 14), status="completed",
                                  outcome="not_bought", staff=clerk, **base)
    appointment_create_historical(starts_at=at(6, 3, 11), status="no_show", **base)
    appointment_create_historical(starts_at=at(6, 4, 11), status="cancelled", **base)
    rollups_rebuild_all()
    reader = Reader(today=TODAY)
    [store] = selectors.tryons(reader, scope(), by="store")
    assert {k: store[k] for k in ("booked", "checked_in", "no_show", "cancelled", "bought")} == {
        "booked": 4, "checked_in": 2, "no_show": 1, "cancelled": 1, "bought": 1}
    staff = {r["key"]: r for r in selectors.tryons(reader, scope(), by="staff")}
    assert (staff[clerk.pk]["checked_in"], staff[clerk.pk]["bought"]) == (2, 1)
    assert staff[None]["booked"] == 2  # not served by anyone
    figures = {f["user"]: f for f in selectors.staff_figures(reader, scope())}
    assert figures[clerk]["conversion"] == 0.5


def test_stock_turnover_sell_through_cover_and_age(built, clock):
    a = built.a
    stock_receive(store=a, variant=built.r1, quantity=5)
    stock_receive(store=a, variant=built.n1, quantity=2)
    stock_receive(store=a, variant=built.r2, quantity=2)
    StockLevel.objects.filter(store=a, variant=built.r1).update(arrived_on=date(2025, 1, 1))
    StockLevel.objects.filter(store=a, variant=built.n1).update(arrived_on=date(2026, 3, 1))
    StockLevel.objects.filter(store=a, variant=built.r2).update(arrived_on=date(2025, 10, 1))
    # The close of 06-01 held r1 x5 (3,000) and n1 x2 (10,000); r2 arrived after it.
    StockLevel.objects.filter(store=a, variant=built.r2).update(on_hand=0)
    stock_snapshot(day=date(2026, 6, 1))
    StockLevel.objects.filter(store=a, variant=built.r2).update(on_hand=2)
    stock_snapshot(day=date(2026, 6, 7))  # 15,200
    rows = {r["key"]: r for r in selectors.stock_figures(Reader(today=TODAY), scope(),
                                                         by="store")}
    figures = rows[a.pk]
    assert figures["value"] == Decimal("15200.00") and figures["units"] == 9
    assert figures["avg_value"] == Decimal("14100.00")  # (13,000 + 15,200) / 2
    # Sold at A in the week: r1 (600), r2 (1,100), n1 (5,000) = 6,700 at cost, 3 pieces.
    assert figures["cogs"] == Decimal("6700.00") and figures["sold"] == 3
    assert figures["turnover"] == pytest.approx(Decimal("6700") / Decimal("14100"))
    assert figures["sell_through"] == pytest.approx(3 / 12)
    assert figures["weeks_cover"] == pytest.approx(Decimal(3))  # 9 left / 3 a week
    # Ages on 06-07: n1 young (10,000), r2 6-12 months (2,200), r1 over 12 (3,000).
    assert figures["ages"] == [2, Decimal("10000.00"), 2, Decimal("2200.00"), 5,
                               Decimal("3000.00")]
    by_category = {r["key"]: r for r in selectors.stock_figures(Reader(today=TODAY), scope(),
                                                                by="category")}
    assert by_category[built.rings.pk]["value"] == Decimal("5200.00")  # r1 and r2
    assert by_category[built.rings.pk]["sold"] == 5  # r1 x4 (at A, at B, two delivered), r2
    assert by_category[built.necklaces.pk]["value"] == Decimal("10000.00")


def test_slow_movers_and_where_they_sell(built, clock):
    s1 = built.r1.__class__.objects.create(product=built.r1.product, sku="S1",
                                           list_price=Decimal("3000"), cost_price=Decimal("1800"))
    stock_receive(store=built.a, variant=s1, quantity=2)
    stock_receive(store=built.b, variant=s1, quantity=1)
    stock_receive(store=built.a, variant=built.r2, quantity=1)
    StockLevel.objects.filter(variant__in=[s1, built.r2]).update(arrived_on=date(2025, 5, 1))
    order_create_historical(channel="store", fulfilment="counter", status="completed",
                            member=None, store=built.b, staff=None, lines=[(s1, 1)],
                            placed_at=at(6, 5), payment_provider="cash")
    rollups_rebuild_all()
    movers = selectors.slow_movers(scope(), today=TODAY)
    # r2 at A is old too but sold there on 06-01; s1 at B sold; s1 at A never did.
    assert [(m.store, m.variant, m.free, m.best_store, m.best_sold) for m in movers] == [
        (built.a, s1, 2, built.b, 1)]
    assert movers[0].value == Decimal("3600.00")
    assert selectors.slow_movers(scope(store_ids=frozenset({built.b.pk})), today=TODAY) == []


def test_today_is_live_and_never_counted_twice(built):
    from analytics.services.rollups import orders_fold_all
    from orders.services.counter import order_sell_at_counter

    clerk = StaffFactory(is_superuser=True)
    stock_receive(store=built.a, variant=built.r1, quantity=3)
    order_sell_at_counter(store=built.a, staff=clerk, lines=[(built.r1, 2)],
                          payment_provider="cash")
    today = scope(start=TODAY, end=TODAY)
    # Not folded yet: the figure comes from the orders themselves.
    assert selectors.sales_totals(Reader(today=TODAY), today)["now"]["revenue"] == Decimal("2000")
    orders_fold_all()
    assert selectors.sales_totals(Reader(today=TODAY), today)["now"]["revenue"] == Decimal("2000")
    month = scope(start=date(2026, 6, 1), end=TODAY)
    assert selectors.sales_totals(Reader(today=TODAY), month)["now"]["orders"] == 6
    members = selectors.members_totals(Reader(today=TODAY), month)["now"]
    assert members["active"] == 3  # a walk-in: no member more


def test_refunds_count_on_their_day(built):
    from analytics.services.rollups import orders_fold_all
    from orders.services.counter import order_sell_at_counter
    from orders.services.payments import payment_refund

    clerk = StaffFactory(is_superuser=True)
    stock_receive(store=built.a, variant=built.r1, quantity=1)
    order = order_sell_at_counter(store=built.a, staff=clerk, lines=[(built.r1, 1)],
                                  payment_provider="cash")
    payment_refund(order=order, amount=Decimal("300"), actor=clerk, reason="goodwill")
    orders_fold_all()
    now = selectors.sales_totals(Reader(today=TODAY), scope(start=TODAY, end=TODAY))["now"]
    assert (now["revenue"], now["refunds"], now["net"]) == (Decimal("1000"), Decimal("300"),
                                                            Decimal("700"))


def test_no_stray_time_zone(built):
    # #2 was paid at 15:00 Beijing time on 06-01, which is 07:00 UTC: the shop's day.
    assert built.orders[2].paid_at == datetime(2026, 6, 1, 15, 0, tzinfo=SHANGHAI)
    days = {r[0] for r in selectors._fetch("SELECT paid_on FROM analytics_orderfact "
                                           "WHERE order_id = %s", [built.orders[2].pk])}
    assert days == {date(2026, 6, 1)}
