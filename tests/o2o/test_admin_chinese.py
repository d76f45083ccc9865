"""The back office in Chinese reads as Chinese: Django's own Yes/No stay 是/否 (the
project's consent wording has its own context), the selector widget's JavaScript
strings are translated, order events are sentences, days are written the Chinese way."""

import re
from datetime import date
from pathlib import Path

import django
import pytest
from django.utils import translation

from o2o.dates import weekday_date
from orders.events import order_event_sentence
from orders.services import order_cancel
from tests.members.factories import UserFactory
from tests.orders.factories import pickup_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_boolean_filters_say_yes_and_no_not_agree(boss):
    page = boss.get("/admin/catalog/product/").content.decode()
    assert "是" in page and "否" in page
    assert "同意" not in page  # the consent wording once replaced Django's Yes/No
    with translation.override("zh-hans"):
        assert translation.gettext("Yes") == "是"
        assert translation.pgettext("consent", "Yes") == "同意"


def test_the_selector_widgets_strings_are_chinese(boss):
    catalog = boss.get("/admin/jsi18n/").content.decode()
    script = (Path(django.__file__).parent / "contrib/admin/static/admin/js/SelectFilter2.js"
              ).read_text()
    wanted = set(re.findall(r"""gettext\((['"])(.+?)\1\)""", script))
    assert len(wanted) >= 10
    for _quote, text in wanted:
        key = text.replace('"', '\\"')
        assert f'"{key}": "' in catalog, f"untranslated in the admin's JavaScript: {text}"
    assert '"Choose all %s": "\\u5168\\u9009%s"' in catalog  # 全选%s


def test_order_events_read_as_sentences(boss):
    order = pickup_order()
    order_cancel(order=order, actor=None, via="admin")
    page = boss.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    events = page[page.index('id="events-group"'):]
    events = events[events.index("<tbody>"):events.index("</tbody>")]
    assert "已下单" in events and "状态：待付款 → 已取消" in events
    assert "&quot;" not in events and "{" not in events and "pending_payment" not in events
    with translation.override("en"):
        sentences = [order_event_sentence(e) for e in order.events.order_by("at", "pk")]
    assert sentences[0].startswith("Order placed")
    assert "awaiting payment → cancelled" in sentences[-1]


def test_days_are_written_the_chinese_way():
    day = date(2026, 12, 6)
    with translation.override("zh-hans"):
        assert weekday_date(day) == "2026年12月6日 星期日"
        assert weekday_date(day, short=True) == "12月6日 星期日"
    with translation.override("en"):
        assert weekday_date(day) == "Sunday, Dec. 6, 2026"
        assert weekday_date(day, short=True) == "Sun, Dec 6"


def test_the_try_on_day_view_heading_has_no_western_comma_in_chinese(boss):
    from tests.stores.factories import tryon_store

    store = tryon_store(code="sh-day")
    page = boss.get(f"/admin/stores/appointment/today/?store={store.code}&date=2026-12-07"
                    ).content.decode()
    assert "2026年12月7日 星期一" in page and "星期一," not in page
    assert "12月6日" in page and "6/12" not in page
