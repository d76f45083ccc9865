"""The bulk history writer (devtools/history.py) writes what the importer writes, and the
demo's two years give every dashboard a story."""

import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.utils import timezone

from analytics.models import FunnelDay, OrderFact, SalesDay, StockDay, TierMove
from devtools.history import Rates, Sale, sales_write
from orders.models import Order, OrderEvent
from orders.services import order_create_historical
from tests.catalog.factories import ByWeightVariantFactory, MetalRateFactory, VariantFactory
from tests.members.factories import StaffFactory, UserFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _order(order: Order) -> dict:
    fields = model_to_dict(order, exclude=["id", "number", "updated_at"])
    lines = [model_to_dict(line, exclude=["id", "order"]) for line in order.lines.order_by("sku")]
    payments = [model_to_dict(p, exclude=["id", "order", "reference"])
                for p in order.payments.all()]
    events = [(e.kind, e.actor_id, {k: v for k, v in e.data.items() if k != "source"})
              for e in order.events.all()]
    return {"order": fields, "lines": lines, "payments": payments, "events": events}


@pytest.mark.parametrize("status, fulfilment", [("completed", "counter"),
                                                ("refunded", "delivery"),
                                                ("cancelled", "pickup"),
                                                ("collected", "pickup")])
def test_a_bulk_sale_is_what_the_importer_writes(status, fulfilment):
    placed = datetime(2025, 3, 8, 14, 30, tzinfo=SHANGHAI)
    MetalRateFactory(valid_from=placed - timedelta(days=40), rate_per_gram=Decimal("600"))
    MetalRateFactory(valid_from=placed + timedelta(days=1), rate_per_gram=Decimal("900"))
    ring, chain = VariantFactory(), ByWeightVariantFactory()
    store = StoreFactory() if fulfilment != "delivery" else None
    member, clerk = UserFactory(), StaffFactory()
    kwargs = {"channel": "store" if fulfilment == "counter" else "online",
              "fulfilment": fulfilment, "status": status, "member": member, "store": store,
              "staff": clerk if fulfilment == "counter" else None,
              "lines": [(ring, 2), (chain, 1)], "placed_at": placed,
              "contact_name": "林小姐", "contact_phone": "+8613800138000",
              "contact_email": "lin@example.com",
              "payment_provider": "cash" if fulfilment == "counter" else "stripe"}
    imported = order_create_historical(**kwargs)
    now = timezone.now()
    sales_write([Sale(number="O250308BULK01", channel=kwargs["channel"], fulfilment=fulfilment,
                      status=status, placed_at=placed, lines=kwargs["lines"],
                      provider=kwargs["payment_provider"], member_id=member.pk,
                      store_id=store.pk if store else None,
                      staff_id=clerk.pk if fulfilment == "counter" else None,
                      contact_name="林小姐", contact_phone="+8613800138000",
                      contact_email="lin@example.com")],
                source="import", now=now, rates=Rates())
    bulk = Order.objects.get(number="O250308BULK01")
    assert _order(bulk) == _order(imported)
    # The by-weight chain was priced at the rate in force on the day, not the later one.
    line = bulk.lines.get(variant=chain)
    assert line.unit_price == Decimal(str(round(5.230 * 600 + 280)))
    # Written by COPY, it was still marked for analytics' fold (the trigger).
    from analytics.models import DirtyOrder

    assert DirtyOrder.objects.filter(order_id=bulk.pk).exists()


def test_the_small_demo_gives_every_dashboard_two_years(client):
    call_command("load_demo", "--small", stdout=io.StringIO())
    assert OrderEvent.objects.filter(kind="imported", data__source="demo-history").exists()
    first = SalesDay.objects.order_by("day").values_list("day", flat=True).first()
    assert (timezone.localdate() - first).days >= 600
    assert OrderFact.objects.filter(device="mobile").exists()
    assert StockDay.objects.values("day").distinct().count() >= 700
    assert TierMove.objects.exists()
    assert not FunnelDay.objects.exists()  # the small demo skips the visits
    client.force_login(StaffFactory(is_superuser=True))
    for section in ("sales", "members", "funnels", "staff", "stock", "places", "all"):
        response = client.get(f"/admin/analytics/dashboard/?section={section}")
        assert response.status_code == 200, section
    assert client.get("/admin/").status_code == 200
