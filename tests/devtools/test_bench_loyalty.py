"""`make bench`'s coupon and points pieces, run in the test database: the offers the
coupon scenarios use apply, the race check counts redemptions exactly, the points
member has 10,000 entries whose sum is the cached balance, and the bench server lifts
the coupon rate limit and keeps to its own database."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from devtools.benchmark import (
    BenchError,
    bench_database_name,
    coupon_check_scenario,
    me_scenarios,
    server_env,
)
from devtools.benchmark_flows import CHECK_COUPON_RACE, PREPARE_COUPONS, PREPARE_POINTS, TIME_POINTS
from members.models import PointsEntry, User
from members.services import points_ledger_sum
from orders.services import order_place
from tests.catalog.factories import VariantFactory
from tests.stores.factories import StoreFactory


def _run(script: str, capsys) -> dict:
    exec(script, {})  # the bench's own scripts, as manage.py shell runs them
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.django_db
def test_the_coupon_bench_offers_apply_and_the_race_check_counts_exactly(capsys, settings):
    store = StoreFactory(code="sh-njxl")
    variant = VariantFactory(list_price=Decimal("1999.00"))
    coupons = _run(PREPARE_COUPONS, capsys)
    assert coupons["sku"] == variant.sku and Decimal(coupons["discount"]) == Decimal("99.95")

    assert len(coupons["sessions"]) == 50

    # The scenario's request as the load generator sends it: a signed-in member (a public
    # code needs one) with the CSRF cookie and header; the code applies.
    settings.COUPON_CHECK_RATE = "1000/s"
    scenario = coupon_check_scenario(coupons)
    strict = Client(enforce_csrf_checks=True)
    answer = strict.generic(scenario.method, scenario.path, json.dumps(scenario.body),
                            content_type="application/json", headers=scenario.headers)
    assert answer.status_code == 200 and answer.json()["valid"] is True, answer.content
    headers = {**scenario.headers, "X-CSRFToken": "x" * 32}
    refused = strict.generic(scenario.method, scenario.path, json.dumps(scenario.body),
                             content_type="application/json", headers=headers)
    assert refused.status_code == 403

    member = User.objects.get(email="bench.shopper.07@o2o.example")
    order = order_place(lines=[(variant, 1)], fulfilment="pickup", store=store, member=member,
                        coupon_code=coupons["single"])
    assert order.coupon_code == coupons["single"]
    exec(CHECK_COUPON_RACE.format(code=coupons["single"], wanted=1), {})
    with pytest.raises(AssertionError):  # nothing redeemed the limited code yet
        exec(CHECK_COUPON_RACE.format(code=coupons["limited"], wanted=coupons["limit"]),
             {})


@pytest.mark.django_db
def test_the_points_bench_member_has_10000_entries_summing_to_the_balance(capsys):
    points = _run(PREPARE_POINTS, capsys)
    assert points["entries"] == 10_000
    member = User.objects.get(pk=points["member"])
    timings = _run(TIME_POINTS.format(member=member.pk), capsys)
    assert timings["balance"] == points_ledger_sum(member=member) != 0
    assert len(timings["points_balance"]) == 2000 and len(timings["points_ledger_sum"]) == 300

    again = _run(PREPARE_POINTS, capsys)  # made once: a second run adds no entries
    assert again["member"] == member.pk
    assert PointsEntry.objects.filter(member=member).count() == 10_000
    assert {s.path for s in me_scenarios(again)} == {"/api/v1/me/", "/api/v1/me/points/"}


def test_the_bench_server_lifts_the_coupon_limit_and_keeps_its_own_database(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert server_env()["COUPON_CHECK_RATE"] == "1000000/s"
    monkeypatch.setenv("BENCH_DB_NAME", "o2o_h9_bench")
    assert bench_database_name() == "o2o_h9_bench"
    monkeypatch.setenv("BENCH_DB_NAME", "bench; DROP DATABASE x")
    with pytest.raises(BenchError):
        bench_database_name()
    monkeypatch.delenv("BENCH_DB_NAME")
    assert bench_database_name() == "o2o_bench"
