"""The rollups kept current: the fold of changed orders gives what a rebuild from scratch
gives, on several workers at once, cheaply after one order; the nightly reconcile."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from analytics.models import DirtyOrder, OrderFact, SalesDay
from analytics.services.rollups import (
    orders_fold,
    orders_fold_all,
    reconcile,
    rollups_rebuild,
    rollups_rebuild_all,
)
from orders.services.counter import order_sell_at_counter
from orders.services.payments import payment_refund
from stores.services import stock_receive
from tests.analytics.conftest import TODAY, build_history, table_rows
from tests.concurrency import race
from tests.members.factories import StaffFactory

TABLES = ["analytics_orderfact", "analytics_orderlinefact", "analytics_refundfact",
          "analytics_salesday", "analytics_saleslineday", "analytics_salescollectionday",
          "analytics_refundday"]
KEYS = {"analytics_salesday": "day, store_id, channel",
        "analytics_saleslineday": "day, store_id, channel, category_id, metal",
        "analytics_salescollectionday": "day, store_id, channel, collection_id",
        "analytics_refundday": "day, store_id, channel"}


def snapshot() -> dict[str, list]:
    out = {}
    for table in TABLES:
        if table in KEYS:
            columns = [r[0] for r in table_rows(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND column_name <> 'id' ORDER BY ordinal_position", [table])]
            out[table] = table_rows(f"SELECT {', '.join(columns)} FROM {table} "
                                    f"ORDER BY {KEYS[table]}")
        else:
            out[table] = table_rows(f"SELECT * FROM {table} ORDER BY 1")
    return out


def sell(store, variant, staff, quantity=1):
    stock_receive(store=store, variant=variant, quantity=quantity)
    return order_sell_at_counter(store=store, staff=staff, lines=[(variant, quantity)],
                                 payment_provider="cash")


@pytest.mark.django_db
def test_the_fold_gives_what_a_rebuild_gives(history):
    clerk = StaffFactory(is_superuser=True)
    order = sell(history.a, history.r1, clerk, 2)
    payment_refund(order=order, amount=Decimal("500"), actor=clerk)
    sell(history.b, history.n1, clerk)
    # Every order was marked by its audit rows, in the transactions that made them.
    assert DirtyOrder.objects.count() == 9
    assert orders_fold_all() == 9
    assert DirtyOrder.objects.count() == 0
    folded = snapshot()
    assert folded["analytics_orderfact"] and folded["analytics_refundday"]
    rollups_rebuild_all()
    assert snapshot() == folded


@pytest.mark.django_db
def test_a_fold_twice_changes_nothing(history):
    orders_fold_all()
    before = snapshot()
    DirtyOrder.objects.bulk_create(DirtyOrder(order_id=o.pk) for o in history.orders.values())
    assert orders_fold_all() == 7
    assert snapshot() == before


@pytest.mark.django_db
def test_a_rebuild_of_a_range_repairs_a_broken_cell(history):
    rollups_rebuild_all()
    good = snapshot()
    SalesDay.objects.filter(day=date(2026, 6, 1)).update(revenue=Decimal("1"))
    OrderFact.objects.filter(order_id=history.orders[2].pk).delete()
    rollups_rebuild(start=date(2026, 6, 1), end=date(2026, 6, 1))
    assert snapshot() == good


@pytest.mark.django_db
def test_the_nightly_reconcile_rebuilds_yesterday(history, clock):
    rollups_rebuild_all()
    clerk = StaffFactory(is_superuser=True)
    sell(history.a, history.r1, clerk)
    DirtyOrder.objects.all().delete()  # as if a fold had been lost
    clock.shift(timedelta(days=1))
    reconcile()
    [cell] = SalesDay.objects.filter(day=TODAY)
    assert (cell.orders, cell.revenue) == (1, Decimal("1000.00"))


@pytest.mark.django_db
def test_the_refresh_after_one_order_is_a_handful_of_statements(history, django_assert_max_num_queries):
    orders_fold_all()
    clerk = StaffFactory(is_superuser=True)
    sell(history.a, history.r1, clerk)
    # claim, days stored + now, lock, facts (2 + 1 + 2), days again, 4 x (delete, insert)
    with django_assert_max_num_queries(20):
        assert orders_fold(limit=100) == 1


@pytest.mark.django_db(transaction=True)
def test_several_workers_fold_at_once_and_agree_with_a_rebuild(clock):
    history = build_history()
    clerk = StaffFactory(is_superuser=True)
    for _n in range(4):
        sell(history.a, history.r1, clerk)
        sell(history.b, history.n1, clerk)
    marked = DirtyOrder.objects.count()
    assert marked == 15

    def work(_i):
        folded = 0
        while True:
            done = orders_fold(limit=2)
            folded += done
            if not done:
                return folded
    results, errors = race(4, work)
    assert errors == []
    assert sum(results) == marked  # each order claimed by one worker
    assert DirtyOrder.objects.count() == 0
    folded = snapshot()
    rollups_rebuild_all()
    assert snapshot() == folded
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(orders) FROM analytics_salesday WHERE day = %s", [TODAY])
        assert cursor.fetchone()[0] == 8


@pytest.mark.django_db
def test_the_shop_records_each_step_with_the_device(history, client):
    from analytics import buffer
    from analytics.models import Event, OrderDevice
    from analytics.services import events_flush
    from orders.signals import shopper_step

    buffer.events_pop(100000)  # what other tests left in the buffer
    iphone = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
    response = client.post("/recently-viewed/", {"seen": history.r1.product_id},
                           HTTP_X_REQUESTED_WITH="fetch", HTTP_USER_AGENT=iphone)
    assert response.status_code == 200
    stock_receive(store=history.a, variant=history.r1, quantity=1)
    response = client.post("/cart/add/fetch/", {"variant": history.r1.pk},
                           HTTP_X_REQUESTED_WITH="fetch", HTTP_USER_AGENT=iphone)
    assert response.status_code == 200, response.content
    order = history.orders[3]
    shopper_step.send(sender=None, step="placed", order=order, user=None, session_key="k",
                      user_agent=iphone)
    DirtyOrder.objects.all().delete()
    assert events_flush() == 3
    kinds = dict(Event.objects.values_list("kind", "data__device"))
    assert kinds == {"product.viewed": "mobile", "shop.bag": "mobile", "shop.placed": "mobile"}
    assert OrderDevice.objects.get(order_id=order.pk).device == "mobile"
    assert list(DirtyOrder.objects.values_list("order_id", flat=True)) == [order.pk]
    orders_fold_all()
    assert OrderFact.objects.get(order_id=order.pk).device == "mobile"


@pytest.mark.django_db
def test_the_rebuild_command(history):
    import io

    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("analytics_rebuild", "--start", "2026-06-01", "--end", "2026-06-07", stdout=out)
    assert SalesDay.objects.filter(day=date(2026, 6, 3)).count() == 2
    call_command("analytics_rebuild", "--places", "--tiers", stdout=out)
    assert "places:" in out.getvalue() and "tier moves:" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("analytics_rebuild", "--start", "2026-06-07")
    with pytest.raises(CommandError):
        call_command("analytics_rebuild", "--start", "2026-06-07", "--end", "2026-06-01")
