"""Tier moves month by month, members by place, the weekly report to store managers,
the reports' replica, and a member's erasure reaching the facts."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext, override_settings

from analytics.emails import render_weekly_report
from analytics.models import OrderFact, PlaceCell, TierMove, TierState
from analytics.services.members import places_rebuild, tier_moves_fold
from analytics.services.reports import KIND, weekly_reports_enqueue
from analytics.services.rollups import rollups_rebuild_all
from members.models import Address, PointsEntry, PointsKind, Tier
from o2o.models import OutboxMessage
from stores.models import StaffAssignment, StaffRole
from tests.analytics.conftest import SHANGHAI, build_history
from tests.members.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_tier_moves_follow_the_members_own_rule(history):
    silver = Tier.objects.get(code="silver")
    classic = Tier.objects.get(code="classic")
    # m1 spends 12,000 in May: silver from the end of May (the threshold is 10,000).
    PointsEntry.objects.create(member=history.m1, kind=PointsKind.EARN, points=12000,
                               spend=Decimal("12000"), reference="X1",
                               created_at=datetime(2026, 5, 20, tzinfo=SHANGHAI))
    assert tier_moves_fold(back_to=date(2026, 4, 1)) == 2  # April, then May
    moves = list(TierMove.objects.values_list("month", "from_tier_id", "to_tier_id", "members"))
    assert moves == [(date(2026, 5, 1), classic.pk, silver.pk, 1)]
    assert TierState.objects.get(member_id=history.m1.pk).tier_id == silver.pk
    assert tier_moves_fold() == 0  # May is folded, June has not ended


def test_members_by_place_against_the_stores(history):
    Address.objects.create(member=history.m1, recipient="林", phone="13800138000",
                           province="上海", city="上海市", district="静安区", street="1号",
                           postcode="200040", is_default=True)
    Address.objects.create(member=history.m2, recipient="周", phone="13800138001",
                           province="浙江", city="杭州市", district="西湖区", street="2号",
                           postcode="310000")
    rollups_rebuild_all()
    assert places_rebuild() == 3
    cells = {(c.city, c.district): (c.members, c.buyers) for c in PlaceCell.objects.all()}
    # m3 has neither an address nor a delivery: unknown. All three bought this year.
    assert cells == {("上海市", "静安区"): (1, 1), ("杭州市", "西湖区"): (1, 1), ("", ""): (1, 1)}


def test_the_places_panel_marks_cities_without_a_store(history, client):
    Address.objects.create(member=history.m2, recipient="周", phone="13800138001",
                           province="浙江", city="杭州市", district="西湖区", street="2号",
                           postcode="310000")
    places_rebuild()
    client.force_login(StaffFactory(is_superuser=True))
    text = client.get("/admin/analytics/dashboard/?section=places").content.decode()
    assert "杭州市" in text and "无门店" in text
    text = client.get("/admin/analytics/dashboard/?section=places&city=杭州市").content.decode()
    assert "西湖区" in text


@pytest.fixture
def managers(history):
    manager = StaffFactory(email="wang@example.com", language="zh-hans")
    StaffAssignment.objects.create(user=manager, store=history.a, role=StaffRole.MANAGER)
    StaffAssignment.objects.create(user=StaffFactory(), store=history.a, role=StaffRole.STAFF)
    return manager


def test_the_weekly_report_goes_once_to_each_manager(history, managers, clock):
    rollups_rebuild_all()
    clock.move_to(datetime(2026, 6, 8, 7, 0, tzinfo=SHANGHAI))  # Monday morning
    assert weekly_reports_enqueue() == 1
    assert weekly_reports_enqueue() == 0  # a second beat queues nothing more
    message = OutboxMessage.objects.get(kind=KIND)
    assert message.recipient == "wang@example.com"
    assert message.due_at == datetime(2026, 6, 8, 9, 0, tzinfo=SHANGHAI)  # after quiet hours
    email = render_weekly_report(message)
    assert email.to == ["wang@example.com"]
    assert "2026-06-01" in email.subject and "2026-06-07" in email.subject
    assert "上海A店" in email.body and "¥8,200" in email.body  # A's week: #1, #2, #3
    assert "北京B店" not in email.body
    StaffAssignment.objects.filter(user=managers).delete()
    assert render_weekly_report(message) is None  # no store any more: moot


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_dashboards_and_downloads_read_from_the_replica(client, clock):
    build_history()
    rollups_rebuild_all()
    client.force_login(StaffFactory(is_superuser=True))
    with override_settings(REPORTING_DATABASE="replica"), \
            CaptureQueriesContext(connections["replica"]) as replica, \
            CaptureQueriesContext(connections["default"]) as primary:
        assert client.get("/admin/analytics/dashboard/?section=sales").status_code == 200
        assert client.get("/admin/analytics/dashboard/export/analytics.sales_by_store/"
                          "?format=csv").status_code == 200
        assert client.get("/admin/").status_code == 200
    on_replica = " ".join(q["sql"] for q in replica.captured_queries)
    on_primary = " ".join(q["sql"] for q in primary.captured_queries)
    assert "analytics_salesday" in on_replica and "stores_store" in on_replica
    assert "analytics_" not in on_primary  # the shop's primary only served the session
    assert "django_session" in on_primary or "members_user" in on_primary


def test_an_erased_member_leaves_the_sales_not_the_person(history):
    from members.services.privacy import member_erase

    rollups_rebuild_all()
    TierState.objects.create(member_id=history.m3.pk, tier_id=None, month=date(2026, 5, 1))
    member_erase(member=history.m3, actor=history.m3)
    assert not OrderFact.objects.filter(member_id=history.m3.pk).exists()
    assert OrderFact.objects.get(order_id=history.orders[5].pk).total == Decimal("6200.00")
    assert not TierState.objects.filter(member_id=history.m3.pk).exists()
