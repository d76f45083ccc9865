"""The dashboards in a real browser: every section, in Chinese and in English, draws its
charts (a canvas each, from the shop's own ECharts) with no error in the console; the
home per role; a manager moves a slow mover with one click. Screenshots kept in
test-artifacts/screenshots/."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from analytics.models import Event
from analytics.services.members import places_rebuild
from analytics.services.rollups import rollups_rebuild_all, stock_snapshot
from catalog.models import Variant
from members import roles
from members.models import Address
from stores.models import StaffAssignment, StaffRole, StockLevel, Transfer
from stores.services import stock_receive
from tests.analytics.conftest import NOW, at, build_history
from tests.members.factories import StaffFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 42"  # the factories' password
SECTIONS = ["sales", "members", "funnels", "staff", "stock", "places"]
PERIOD = "start=2026-05-01&end=2026-06-15"


@pytest.fixture
def shop_clock():
    """The shop's clock at the small history's today (the live server's thread too)."""
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def chain(transactional_db, shop_clock):
    roles.roles_sync(apps)
    history = build_history()
    # A piece at A since May 2025 that never sold there: a slow mover.
    slow = Variant.objects.create(product=history.r1.product, sku="SLOW-1",
                                  list_price=Decimal("3000"), cost_price=Decimal("1800"))
    stock_receive(store=history.a, variant=slow, quantity=2)
    stock_receive(store=history.a, variant=history.n1, quantity=1)
    StockLevel.objects.filter(store=history.a, variant=slow).update(arrived_on=date(2025, 5, 1))
    for session, device in (("s1", "mobile"), ("s2", "desktop"), ("s3", "mobile")):
        Event.objects.create(kind="product.viewed", session_key=session, at=at(6, 2, 10),
                             product_id=history.r1.product_id, data={"device": device})
    Event.objects.create(kind="shop.bag", session_key="s1", at=at(6, 2, 10),
                         data={"device": "mobile"})
    Address.objects.create(member=history.m2, recipient="周", phone="13800138001",
                           province="浙江", city="杭州市", district="西湖区", street="2号",
                           postcode="310000")
    rollups_rebuild_all()
    stock_snapshot(day=date(2026, 6, 14))
    places_rebuild()
    analyst = StaffFactory(email="analyst@example.com", name="赵磊")
    analyst.groups.add(Group.objects.get(name=roles.ANALYST))
    manager = StaffFactory(email="manager@example.com", name="王静")
    manager.groups.add(Group.objects.get(name=roles.STORE_MANAGER))
    StaffAssignment.objects.create(user=manager, store=history.a, role=StaffRole.MANAGER)
    clerk = StaffFactory(email="clerk@example.com", name="陈晓雯")
    clerk.groups.add(Group.objects.get(name=roles.STORE_STAFF))
    StaffAssignment.objects.create(user=clerk, store=history.a)
    return {"history": history, "analyst": analyst, "manager": manager, "clerk": clerk,
            "slow": slow}


def watch(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def log_in(page, user, prefix=""):
    page.goto(f"{prefix}/admin/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#user-tools")).to_be_visible()


def charts_drawn(page) -> int:
    """Every chart's element got its canvas from ECharts; returns how many."""
    charts = page.locator("[data-chart]")
    count = charts.count()
    for index in range(count):
        chart = charts.nth(index)
        expect(chart).to_have_attribute("data-drawn", "1")
        expect(chart.locator("canvas").first).to_be_visible()
    return count


@pytest.mark.parametrize("prefix, words", [("", "数据看板"), ("/en", "Dashboards")], ids=["zh", "en"])
def test_every_dashboard_draws_its_charts_in_both_languages(page, chain, screenshot, prefix,
                                                            words):
    problems = watch(page)
    log_in(page, chain["analyst"], prefix)
    drawn = 0
    for section in SECTIONS:
        page.goto(f"{prefix}/admin/analytics/dashboard/?section={section}&{PERIOD}")
        expect(page.locator("h1")).to_have_text(words)
        expect(page.locator(".an-panel").first).to_be_visible()
        drawn += charts_drawn(page)
        # Every chart's numbers are in a table beside it.
        assert page.locator("table.an-table").count() >= page.locator("[data-chart]").count()
        screenshot(page, f"{section}-{'en' if prefix else 'zh'}")
    assert drawn >= 15
    assert problems == []


def test_a_manager_drills_down_and_moves_a_slow_mover(page, chain, screenshot):
    problems = watch(page)
    history = chain["history"]
    log_in(page, chain["manager"])
    page.goto("/admin/")
    expect(page.locator("#panel-analytics\\.home_today")).to_be_visible()
    expect(page.locator("#panel-analytics\\.home_week")).to_be_visible()
    charts_drawn(page)
    screenshot(page, "manager-home")
    page.goto(f"/admin/analytics/dashboard/?section=sales&{PERIOD}")
    expect(page.get_by_text("北京B店")).to_have_count(0)  # another store's figures: never
    page.locator("#panel-analytics\\.sales_by_category").get_by_role("link", name="戒指").click()
    expect(page.get_by_text("戒指畅销单品")).to_be_visible()  # down to the piece
    screenshot(page, "drill-down")
    page.goto("/admin/analytics/dashboard/?section=stock")
    slow = chain["slow"]
    row = page.locator(f"#slow-{StockLevel.objects.get(store=history.a, variant=slow).pk}")
    expect(row).to_be_visible()
    screenshot(page, "slow-movers")
    row.get_by_role("button", name="发送 2 件到 中心仓").click()
    expect(page.locator(".messagelist li.success")).to_contain_text("已申请调拨单")
    transfer = Transfer.objects.get()
    assert (transfer.source, transfer.destination) == (history.a, history.w)
    assert [(line.variant, line.quantity) for line in transfer.lines.all()] == [(slow, 2)]
    screenshot(page, "transfer-requested")
    assert problems == []


def test_the_home_of_store_staff_and_of_head_office(page, chain, screenshot):
    problems = watch(page)
    log_in(page, chain["clerk"])
    page.goto("/admin/")
    today = page.locator("#panel-analytics\\.home_today")
    expect(today.get_by_role("link", name="自提柜台")).to_be_visible()
    expect(today.get_by_role("link", name="今日试戴")).to_be_visible()
    expect(page.locator("#panel-analytics\\.home_week")).to_have_count(0)
    screenshot(page, "staff-home")
    page.context.clear_cookies()
    log_in(page, chain["analyst"], "/en")
    page.goto("/en/admin/")
    expect(page.locator("#panel-analytics\\.home_chain")).to_contain_text("The whole chain")
    charts_drawn(page)
    screenshot(page, "chain-home-en")
    assert problems == []
