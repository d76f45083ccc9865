"""The dashboards as each role sees them: the home per role, scoping to one's stores (on
the page and in every download), bad filter values, the slow mover's transfer."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from openpyxl import load_workbook

from analytics.services.rollups import rollups_rebuild_all
from members import roles
from stores.models import ReservationStatus, StaffAssignment, StaffRole, StockLevel, Transfer
from stores.services import stock_receive
from tests.analytics.conftest import TODAY
from tests.members.factories import StaffFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/analytics/dashboard/"
EXPORT = "/admin/analytics/dashboard/export/"
WEEK = "start=2026-06-01&end=2026-06-07"


def staff(group=None, store=None, role=StaffRole.STAFF, **fields):
    user = StaffFactory(**fields)
    if group:
        user.groups.add(Group.objects.get(name=group))
    if store:
        StaffAssignment.objects.create(user=user, store=store, role=role)
    return user


@pytest.fixture
def built(history):
    rollups_rebuild_all()
    return history


@pytest.fixture
def people(built):
    return {
        "clerk": staff(roles.STORE_STAFF, built.a),
        "manager_a": staff(roles.STORE_MANAGER, built.a, StaffRole.MANAGER),
        "manager_b": staff(roles.STORE_MANAGER, built.b, StaffRole.MANAGER),
        "analyst": staff(roles.ANALYST),
        "boss": staff(is_superuser=True),
    }


def page(client, user, query=""):
    client.force_login(user)
    return client.get(f"{DASHBOARD}?{query}")


def download(client, user, key, query, fmt="csv"):
    client.force_login(user)
    return client.get(f"{EXPORT}{key}/?{query}&format={fmt}")


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("section", ["sales", "members", "funnels", "staff", "stock", "places"])
def test_every_section_opens_for_head_office(client, people, section):
    response = page(client, people["analyst"], f"section={section}&{WEEK}")
    assert response.status_code == 200
    assert b"data-chart=" in response.content or section == "stock"
    timing = response["Server-Timing"]
    assert "analytics-" in timing


def test_a_manager_sees_only_their_store(client, people, built):
    response = page(client, people["manager_a"], f"section=sales&{WEEK}")
    text = response.content.decode()
    assert response.status_code == 200
    assert "上海A店" in text and "北京B店" not in text
    assert "¥8,200" in text and "¥16,400" not in text  # A's week, not the chain's
    rows = csv_rows(download(client, people["manager_a"], "analytics.sales_by_store", WEEK))
    assert [r[0] for r in rows[1:]] == ["上海A店"]
    assert rows[1][1] == "8200.00"
    summary = csv_rows(download(client, people["manager_a"], "analytics.sales_summary", WEEK))
    assert summary[1][:2] == ["营业额", "8200.00"]
    # Another store, asked for by name: refused, on the page and in the download.
    response = page(client, people["manager_a"], f"section=sales&{WEEK}&store=bj-b")
    assert response.status_code == 400
    assert "不是您的门店" in response.content.decode()
    assert download(client, people["manager_a"], "analytics.sales_by_store",
                    f"{WEEK}&store=bj-b").status_code == 400


def test_every_download_of_a_manager_holds_their_store_only(client, people, built):
    from analytics.admin import section_of
    from o2o.dashboard import DASHBOARD as PLACE
    from o2o.dashboard import panels_for

    manager = people["manager_b"]
    for panel in panels_for(manager, PLACE):
        if section_of(panel) == "places":
            continue
        response = download(client, manager, panel.key, WEEK, fmt="xlsx")
        assert response.status_code == 200, panel.key
        book = load_workbook(io.BytesIO(response.content))
        cells = [c.value for sheet in book for row in sheet.iter_rows() for c in row]
        assert "上海A店" not in cells, panel.key
        assert 8200 not in cells and 16400 not in cells, panel.key


def test_head_office_sees_the_chain_and_may_narrow_it(client, people):
    rows = csv_rows(download(client, people["analyst"], "analytics.sales_by_store", WEEK))
    assert sorted(r[0] for r in rows[1:]) == sorted(["上海A店", "北京B店", "线上货架（送货上门）"])
    narrowed = csv_rows(download(client, people["analyst"], "analytics.sales_by_store",
                                 f"{WEEK}&store=bj-b"))
    assert [r[0] for r in narrowed[1:]] == ["北京B店"]


def test_downloads_in_both_formats(client, people):
    response = download(client, people["boss"], "analytics.sales_by_category", WEEK, "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=2)}
    assert values == {"项链": 10400, "戒指": 6000}
    response = download(client, people["boss"], "analytics.sales_by_category", WEEK, "csv")
    assert response.content.startswith("\ufeff".encode())
    assert response["Content-Disposition"] == \
        'attachment; filename="sales_by_category-2026-06-01-2026-06-07.csv"'
    assert download(client, people["boss"], "analytics.sales_summary", WEEK,
                    "pdf").status_code == 400
    assert download(client, people["boss"], "nope.panel", WEEK).status_code == 404


@pytest.mark.parametrize("query, words", [
    ("start=2026-13-01", "不是日期"),
    ("start=yesterday", "不是日期"),
    ("start=2026-06-07&end=2026-06-01", "开始日期在结束日期之后"),
    ("end=2026-06-16", "不能晚于今天"),
    ("start=1999-12-31&end=2000-01-05", "不能早于"),
    ("start=2020-01-01&end=2026-06-15", "三年"),
    ("compare=century", "比较"),
    ("channel=telepathy", "不是一个渠道"),
    ("store=nowhere", "不是您的门店"),
    ("category=rings", "没有分类"),
    ("category=999999999999999999999999", "没有分类"),
    ("section=horoscope", "没有这个看板"),
])
def test_bad_filter_values_answer_400_with_a_sentence(client, people, query, words):
    response = page(client, people["boss"], f"section=sales&{query}" if "section" not in query
                    else query)
    assert response.status_code == 400
    text = response.content.decode()
    assert words in text, text[text.find("errornote"):][:300]
    if not query.startswith("section="):  # a download names its panel, not a section
        response = download(client, people["boss"], "analytics.sales_summary", query)
        assert response.status_code == 400
        assert words in response.content.decode()


def test_who_may_open_the_dashboards(client, people):
    assert page(client, people["clerk"], "section=sales").status_code == 403
    assert page(client, people["manager_a"], "section=sales").status_code == 200
    client.force_login(people["clerk"])
    assert client.get(f"{EXPORT}analytics.sales_summary/?format=csv").status_code == 403


def home_panels(client, user) -> tuple[list[str], str]:
    client.force_login(user)
    text = client.get("/admin/").content.decode()
    return re.findall(r'<section class="an-panel an-home-panel" id="panel-([a-z_.]+)"', text), text


def test_the_home_is_a_workplace_per_role(client, people, built):
    panels, text = home_panels(client, people["clerk"])
    # Today at my store, then the unhappy shoppers to call back (the feedback issue's panel).
    assert panels == ["analytics.home_today", "feedback.open_cases"]
    assert "今日门店" in text
    assert "/admin/orders/order/desk/?store=sh-a" in text  # one click to each desk
    assert "/admin/orders/order/counter/?store=sh-a" in text
    assert "/admin/stores/appointment/today/?store=sh-a" in text
    assert f"/admin/stores/transfer/?destination__id__exact={built.a.pk}&amp;status__exact=shipped" in text
    panels, text = home_panels(client, people["manager_a"])
    assert panels == ["analytics.home_today", "analytics.home_week", "feedback.open_cases"]
    assert "本店本周" in text and "北京B店" not in text
    panels, text = home_panels(client, people["analyst"])
    assert panels == ["analytics.home_chain", "feedback.open_cases"]
    assert "全连锁本周" in text
    panels, _text = home_panels(client, people["boss"])
    assert panels == ["analytics.home_chain", "feedback.open_cases"]
    for user in people.values():
        assert "暂时无法显示" not in home_panels(client, user)[1]


def test_the_analyst_sees_every_order(client, people, built):
    client.force_login(people["analyst"])
    response = client.get("/admin/orders/order/")
    assert response.status_code == 200
    assert all(o.number in response.content.decode() for o in built.orders.values())


@pytest.fixture
def slow(built, clock):
    """A piece lying at A since May 2025, never sold there; it sold at B this month."""
    from orders.services import order_create_historical
    from tests.analytics.conftest import at

    s1 = built.r1.__class__.objects.create(product=built.r1.product, sku="S1",
                                           list_price=Decimal("3000"), cost_price=Decimal("1800"))
    stock_receive(store=built.a, variant=s1, quantity=2)
    stock_receive(store=built.b, variant=s1, quantity=1)
    StockLevel.objects.filter(variant=s1).update(arrived_on=date(2025, 5, 1))
    order_create_historical(channel="store", fulfilment="counter", status="completed",
                            member=None, store=built.b, staff=None, lines=[(s1, 1)],
                            placed_at=at(6, 5), payment_provider="cash")
    rollups_rebuild_all()
    return s1


def test_the_slow_mover_button_requests_the_transfer(client, people, built, slow):
    level = StockLevel.objects.get(store=built.a, variant=slow)
    response = page(client, people["manager_a"], "section=stock")
    text = response.content.decode()
    assert f'id="slow-{level.pk}"' in text and "发送 2 件到 中心仓" in text
    response = client.post("/admin/analytics/dashboard/slow-mover/", {
        "stock": level.pk, "destination": built.w.pk, "next": "/admin/analytics/dashboard/?section=stock"})
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    assert (transfer.source, transfer.destination) == (built.a, built.w)
    assert [(line.variant, line.quantity) for line in transfer.lines.all()] == [(slow, 2)]
    assert transfer.reservations.get().status == ReservationStatus.ACTIVE
    assert transfer.events.get().actor == people["manager_a"]
    level.refresh_from_db()
    assert level.reserved == 2


def test_the_slow_mover_goes_to_where_it_sells(client, people, built, slow):
    level = StockLevel.objects.get(store=built.a, variant=slow)
    client.force_login(people["manager_a"])
    client.post("/admin/analytics/dashboard/slow-mover/", {"stock": level.pk,
                                                           "destination": built.b.pk})
    transfer = Transfer.objects.get()
    assert (transfer.source, transfer.destination) == (built.a, built.b)


def test_nobody_moves_another_stores_pieces(client, people, built, slow):
    level = StockLevel.objects.get(store=built.a, variant=slow)
    client.force_login(people["manager_b"])
    response = client.post("/admin/analytics/dashboard/slow-mover/",
                           {"stock": level.pk, "destination": built.b.pk}, follow=True)
    assert "不在您的门店" in response.content.decode()
    client.force_login(people["analyst"])  # sees every store, may move none
    assert client.post("/admin/analytics/dashboard/slow-mover/",
                       {"stock": level.pk, "destination": built.w.pk}).status_code == 403
    assert not Transfer.objects.exists()
    client.force_login(people["manager_a"])
    for bad in ({"stock": "x", "destination": built.w.pk},
                {"stock": level.pk, "destination": "99999999999999999999"},
                {"stock": level.pk, "destination": built.a.pk}):
        assert client.post("/admin/analytics/dashboard/slow-mover/", bad).status_code == 302
    assert not Transfer.objects.exists()


def test_dates_and_figures_read_in_the_page_language(client, people):
    client.force_login(people["boss"])
    text = client.get(f"/en{DASHBOARD}?section=sales&{WEEK}").content.decode()
    assert "June 1, 2026" in text and "Revenue" in text and "¥16,400" in text
    text = client.get(f"{DASHBOARD}?section=sales&{WEEK}").content.decode()
    assert "2026年6月1日" in text and "营业额" in text
    assert TODAY.isoformat() in text  # the date pickers stop at today
