"""The back office: store staff see and act on their own stores only; the day view; the
stock count import (preview, then apply, audited); transfers step by step."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from members import roles
from stores.models import (
    Appointment,
    AppointmentEvent,
    ReservationPurpose,
    StockCount,
    StockLevel,
    Transfer,
    TransferEvent,
)
from stores.services import (
    appointment_book,
    reservation_release,
    stock_receive,
    stock_reserve,
    transfer_create,
)
from tests.catalog.factories import VariantFactory
from tests.fixtures import staff_of
from tests.members.factories import UserFactory

from .factories import days_ahead, local, tryon_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(depot):
    a = tryon_store(code="store-a", name="A店")
    b = tryon_store(code="store-b", name="B店")
    va, vb = VariantFactory(sku="SKU-A"), VariantFactory(sku="SKU-B")
    stock_receive(store=a, variant=va, quantity=3)
    stock_receive(store=b, variant=vb, quantity=3)
    stock_receive(store=depot, variant=va, quantity=5)
    stock_receive(store=depot, variant=vb, quantity=5)
    day = days_ahead(a, 2)
    appts = {}
    for store, variant, hours in ((a, va, (16, 11)), (b, vb, (12,))):
        for hour in hours:
            appts[(store.code, hour)] = appointment_book(
                store=store, starts_at=local(store, day, hour), variant_ids=[variant.pk],
                contact_name=f"{store.code}-{hour}", contact_phone="13800138000", notify=False)
    ta = transfer_create(source=depot, destination=a, lines=[(va, 1)], actor=None)
    tb = transfer_create(source=depot, destination=b, lines=[(vb, 1)], actor=None)
    return {"a": a, "b": b, "va": va, "vb": vb, "day": day, "appts": appts, "ta": ta, "tb": tb,
            "staff_a": staff_of(a), "manager_a": staff_of(a, group=roles.STORE_MANAGER, role="manager")}


def changelist(client, model):
    return client.get(reverse(f"admin:stores_{model}_changelist"))


def test_store_staff_see_only_their_stores_everywhere(client, world):
    client.force_login(world["staff_a"])
    appointments = changelist(client, "appointment")
    assert appointments.status_code == 200
    assert "store-a-16" in appointments.text and "store-b-12" not in appointments.text
    stock = changelist(client, "stocklevel")
    assert "SKU-A" in stock.text and "SKU-B" not in stock.text
    assert "B店" not in stock.text  # not even as a filter choice
    transfers = changelist(client, "transfer")
    assert world["ta"].number in transfers.text and world["tb"].number not in transfers.text
    reservations = changelist(client, "reservation")
    assert reservations.status_code == 200 and "SKU-B" not in reservations.text
    stores = changelist(client, "store")
    assert "A店" in stores.text and "B店" not in stores.text


def test_store_staff_cannot_open_or_act_on_another_stores_rows(client, world):
    client.force_login(world["staff_a"])
    theirs = world["appts"][("store-b", 12)]
    page = client.get(reverse("admin:stores_appointment_change", args=[theirs.pk]))
    assert page.status_code == 302  # "does not exist", back to the index
    act = client.post(reverse("admin:stores_appointment_act", args=[theirs.pk, "check_in"]))
    assert act.status_code == 404
    assert Appointment.objects.get(pk=theirs.pk).status == "booked"
    stock_b = StockLevel.objects.get(store=world["b"], variant=world["vb"])
    assert client.get(reverse("admin:stores_stocklevel_change",
                              args=[stock_b.pk])).status_code == 302
    step = client.post(reverse("admin:stores_transfer_step", args=[world["tb"].pk, "cancel"]))
    assert step.status_code == 404 and Transfer.objects.get(pk=world["tb"].pk).status == "requested"


def test_the_day_view_lists_my_stores_appointments_in_time_order(client, world):
    client.force_login(world["staff_a"])
    url = reverse("admin:stores_appointment_today")
    page = client.get(url, {"store": "store-b", "date": world["day"].isoformat()})
    assert page.status_code == 200
    assert page.context["store"] == world["a"]  # not someone else's store
    numbers = re.findall(r'data-number="(A[0-9A-Z]+)"', page.text)
    assert numbers == [world["appts"][("store-a", 11)].number,
                       world["appts"][("store-a", 16)].number]
    assert "SKU-A" in page.text and "store-b-12" not in page.text
    assert reverse("admin:stores_appointment_today") in client.get(
        reverse("admin:stores_appointment_changelist")).text


def test_the_admin_index_links_the_day_view(client, world):
    client.force_login(world["staff_a"])
    index = client.get(reverse("admin:index"))
    assert reverse("admin:stores_todayatstore_changelist") in index.text
    assert client.get(reverse("admin:stores_todayatstore_changelist")).url == reverse(
        "admin:stores_appointment_today")


def test_check_in_and_complete_from_the_day_view_are_audited(client, world):
    client.force_login(world["staff_a"])
    appointment = world["appts"][("store-a", 11)]
    back = reverse("admin:stores_appointment_today") + "?store=store-a"
    response = client.post(reverse("admin:stores_appointment_act",
                                   args=[appointment.pk, "check_in"]), {"next": back})
    assert response.status_code == 302 and response.url == back
    appointment.refresh_from_db()
    assert appointment.status == "checked_in" and appointment.staff == world["staff_a"]
    client.post(reverse("admin:stores_appointment_act", args=[appointment.pk, "complete"]),
                {"outcome": "not_bought", "reason": "尺寸不合适", "next": back})
    appointment.refresh_from_db()
    assert (appointment.status, appointment.outcome) == ("completed", "not_bought")
    assert list(AppointmentEvent.objects.filter(appointment=appointment).values_list(
        "kind", "actor")) == [("booked", None), ("checked_in", world["staff_a"].pk),
                              ("completed", world["staff_a"].pk)]
    # A refused step is a message, not a 500.
    again = client.post(reverse("admin:stores_appointment_act",
                                args=[appointment.pk, "check_in"]), {"next": back}, follow=True)
    assert again.status_code == 200
    errors = [str(m) for m in again.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and appointment.number in errors[0]


def test_a_try_on_that_ended_in_a_sale_links_to_its_order(client, world):
    from tests.orders.factories import pickup_order

    client.force_login(world["staff_a"])
    appointment = world["appts"][("store-a", 11)]
    sale = pickup_order(store=world["a"], variants=[world["va"]], paid=True)
    back = reverse("admin:stores_appointment_today") + "?store=store-a"
    client.post(reverse("admin:stores_appointment_act", args=[appointment.pk, "check_in"]),
                {"next": back})
    on = appointment.starts_at.astimezone(appointment.store.zone).date()
    offered = client.get(f"{back}&date={on.isoformat()}").text
    assert f'<option value="{sale.number}">' in offered  # the shopper's sale, to pick
    client.post(reverse("admin:stores_appointment_act", args=[appointment.pk, "complete"]),
                {"outcome": "bought", "order_reference": sale.number, "next": back})
    appointment.refresh_from_db()
    day = client.get(f"{back}&date={on.isoformat()}").text
    assert (appointment.status, appointment.order_reference) == ("completed", sale.number)
    assert (f'href="{reverse("admin:orders_order_changelist")}?q={sale.number}"'
            in day)


def test_a_superuser_sees_every_store(client, world):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = changelist(client, "appointment")
    assert "store-a-16" in page.text and "store-b-12" in page.text
    today = client.get(reverse("admin:stores_appointment_today"),
                       {"store": "store-b", "date": world["day"].isoformat()})
    assert today.context["store"] == world["b"] and "store-b-12" in today.text


def count_upload(client, store, content: str, name="count.csv"):
    return client.post(reverse("admin:stores_stocklevel_count"), {
        "store": store.pk, "file": SimpleUploadedFile(name, content.encode("gb18030"))})


def test_a_stock_count_is_previewed_then_applied_and_audited(client, world):
    client.force_login(world["manager_a"])
    extra = VariantFactory(sku="SKU-NEW")
    preview = count_upload(client, world["a"], "sku,数量\nSKU-A,2\nsku-new,4\n")
    assert preview.status_code == 200
    rows = preview.context["preview"].rows
    assert [(r.sku, r.on_hand, r.counted, r.difference, r.error) for r in rows] == [
        ("SKU-A", 3, 2, -1, ""), ("sku-new", 0, 4, 4, "")]
    assert StockLevel.objects.get(store=world["a"], variant=world["va"]).on_hand == 3  # untouched
    payload = preview.context["payload"]
    done = client.post(reverse("admin:stores_stocklevel_count"),
                       {"step": "confirm", "payload": payload})
    count = StockCount.objects.get()
    assert done.status_code == 302 and done.url == reverse("admin:stores_stockcount_change",
                                                           args=[count.pk])
    assert StockLevel.objects.get(store=world["a"], variant=world["va"]).on_hand == 2
    assert StockLevel.objects.get(store=world["a"], variant=extra).on_hand == 4
    assert (count.counted_by, count.lines_counted, count.lines_changed) == (
        world["manager_a"], 2, 2)
    assert sorted(count.lines.values_list("expected", "counted", "difference")) == [
        (0, 4, 4), (3, 2, -1)]


def test_bad_count_lines_are_explained_and_block_the_apply(client, world):
    client.force_login(world["manager_a"])
    preview = count_upload(client, world["a"],
                           "sku,quantity\nSKU-A,two\nNOPE,1\nSKU-A,1\n,3\nSKU-B,-1\n")
    p = preview.context["preview"]
    assert not p.ok and preview.context["payload"] == ""
    errors = [r.error for r in p.rows]
    assert "two" in errors[0] and "NOPE" in errors[1] and "2" in errors[2]
    assert errors[3] and errors[4]
    # Counting below the reserved pieces (an appointment holds one) is refused too.
    below = count_upload(client, world["a"], "SKU-A,0\n").context["preview"]
    assert below.rows[0].error and not below.ok
    blank = count_upload(client, world["a"], "\n\n").context["preview"]
    assert blank.errors and not blank.ok
    assert count_upload(client, world["a"], "").context["form"].errors["file"]  # 0 bytes


def test_a_count_whose_stock_moved_since_the_preview_is_refused(client, world):
    client.force_login(world["manager_a"])
    payload = count_upload(client, world["a"], "SKU-A,5\n").context["payload"]
    stock_receive(store=world["a"], variant=world["va"], quantity=1)  # a delivery meanwhile
    response = client.post(reverse("admin:stores_stocklevel_count"),
                           {"step": "confirm", "payload": payload}, follow=True)
    assert response.status_code == 200 and not StockCount.objects.exists()
    assert StockLevel.objects.get(store=world["a"], variant=world["va"]).on_hand == 4
    forged = client.post(reverse("admin:stores_stocklevel_count"),
                         {"step": "confirm", "payload": payload + "x"})
    assert forged.status_code == 302 and not StockCount.objects.exists()


def test_staff_cannot_import_counts_and_managers_only_for_their_stores(client, world):
    client.force_login(world["staff_a"])
    assert client.get(reverse("admin:stores_stocklevel_count")).status_code == 403
    client.force_login(world["manager_a"])
    page = count_upload(client, world["b"], "SKU-B,1\n")
    assert page.status_code == 200 and "store" in page.context["form"].errors


def test_transfers_in_the_admin_request_ship_and_receive(client, world, depot):
    client.force_login(world["manager_a"])
    add = client.post(reverse("admin:stores_transfer_add"), {
        "source": depot.pk, "destination": world["a"].pk, "lines": "SKU-A 2\nSKU-A 1",
        "note": "补货"})
    transfer = Transfer.objects.exclude(pk__in=[world["ta"].pk, world["tb"].pk]).get()
    assert add.status_code == 302 and transfer.lines.get().quantity == 3
    bad = client.post(reverse("admin:stores_transfer_add"), {
        "source": depot.pk, "destination": world["a"].pk, "lines": "NOPE 1\nSKU-A zero"})
    assert bad.status_code == 200 and len(bad.context["form"].errors["lines"]) == 2
    # The shop cannot ship the warehouse's pieces: the button is not there, the step refused.
    page = client.get(reverse("admin:stores_transfer_change", args=[transfer.pk]))
    assert "step/ship" not in page.text
    client.post(reverse("admin:stores_transfer_step", args=[transfer.pk, "ship"]))
    assert Transfer.objects.get(pk=transfer.pk).status == "requested"
    depot_staff = staff_of(depot)
    client.force_login(depot_staff)
    client.post(reverse("admin:stores_transfer_step", args=[transfer.pk, "ship"]))
    assert Transfer.objects.get(pk=transfer.pk).status == "shipped"
    client.force_login(world["manager_a"])
    stock = changelist(client, "stocklevel")
    assert stock.status_code == 200
    client.post(reverse("admin:stores_transfer_step", args=[transfer.pk, "receive"]))
    assert Transfer.objects.get(pk=transfer.pk).status == "received"
    assert list(TransferEvent.objects.filter(transfer=transfer).values_list("kind", "actor")) == [
        ("created", world["manager_a"].pk), ("shipped", depot_staff.pk),
        ("received", world["manager_a"].pk)]
    assert StockLevel.objects.get(store=world["a"], variant=world["va"]).on_hand == 6


def test_a_manager_edits_their_store_with_services_closures_and_sees_the_team(client, world):
    client.force_login(world["manager_a"])
    page = client.get(reverse("admin:stores_store_change", args=[world["a"].pk]))
    assert page.status_code == 200 and world["staff_a"].name in page.text
    assert 'name="services"' in page.text and "special_hours-TOTAL_FORMS" in page.text
    assert client.get(reverse("admin:stores_store_change",
                              args=[world["b"].pk])).status_code == 302


def test_a_closed_reservation_says_why_in_words(admin_client_, depot):
    variant = VariantFactory(sku="SKU-WHY")
    stock_receive(store=depot, variant=variant, quantity=2)
    cancelled, released = (stock_reserve(store=depot, variant=variant, quantity=1,
                                       expires_at=None, purpose=ReservationPurpose.ORDER,
                                       reference=ref) for ref in ("R-1", "R-2"))
    reservation_release(reservation=cancelled, reason="order cancelled")
    reservation_release(reservation=released, reason="released by 王店长")
    page = admin_client_.get(reverse("admin:stores_reservation_change", args=[cancelled.pk]))
    assert "订单已取消" in page.text and "order cancelled" not in page.text
    assert 'name="close_reason"' not in page.text  # read-only, in words only
    page = admin_client_.get(reverse("admin:stores_reservation_change", args=[released.pk]))
    assert "由 王店长 释放" in page.text
