"""Shopper pages: the finder, a store's page, booking a try-on, the signed manage page."""

from datetime import timedelta

import pytest
from django.urls import resolve, reverse
from django.utils import timezone

from stores.models import Appointment, Reservation
from stores.services import stock_receive
from stores.tokens import appointment_number_from_token, appointment_token
from tests.catalog.factories import VariantFactory
from tests.members.factories import UserFactory

from .factories import closure, days_ahead, local, tryon_store

pytestmark = pytest.mark.django_db


def test_the_finder_filters_by_city_and_orders_by_distance(client):
    tryon_store(code="sh-a", name="上海店", city="上海", latitude=31.23, longitude=121.45)
    tryon_store(code="bj-a", name="北京店", city="北京", city_en="Beijing", latitude=39.9,
                longitude=116.46)
    page = client.get(reverse("stores:list"))
    assert page.status_code == 200 and "上海店" in page.text and "北京店" in page.text
    beijing = client.get(reverse("stores:list") + "?city=北京").text
    assert "北京店" in beijing and "上海店" not in beijing
    near = client.get(reverse("stores:list") + "?lat=39.95&lng=116.4").text
    assert near.index("北京店") < near.index("上海店") and "st-distance" in near
    bad = client.get(reverse("stores:list") + "?lat=999&lng=abc")
    assert bad.status_code == 200


def test_the_store_page_shows_hours_closures_services_and_stock(client, shop, piece):
    closure(shop, days_ahead(shop, 5), note="店庆")
    page = client.get(reverse("stores:detail", kwargs={"code": shop.code}))
    assert page.status_code == 200
    assert "店庆" in page.text and piece.product.name in page.text
    assert reverse("stores:appointment_book") + f"?store={shop.code}" in page.text
    assert client.get(reverse("stores:detail", kwargs={"code": "nowhere"})).status_code == 404


def test_a_guest_books_from_a_product_and_lands_on_the_confirmation(client, shop, piece):
    url = reverse("stores:appointment_book") + f"?product={piece.product.slug}&store={shop.code}"
    page = client.get(url)
    assert page.status_code == 200 and 'name="slot"' in page.text  # one variant: pre-chosen
    start = local(shop, days_ahead(shop, 3), 15)
    response = client.post(url, {"store": shop.code, "variant": [piece.pk],
                                 "slot": start.isoformat(), "name": "林小姐",
                                 "phone": "138 0013 8000", "email": "", "note": "12号"})
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    path, _, query = response.url.partition("?")
    link = resolve(path)
    assert link.view_name == "stores:appointment_manage" and query == "booked=1"
    # The token names this appointment. Not compared with one signed here: it carries the
    # second it was signed in, which may have turned since the view signed it.
    assert appointment_number_from_token(link.kwargs["token"]) == appointment.number
    assert (appointment.starts_at, appointment.note) == (start, "12号")
    assert appointment.language == "zh-hans"
    confirmation = client.get(response.url)
    assert confirmation.status_code == 200 and appointment.number in confirmation.text


def test_a_taken_time_re_renders_the_picker_with_the_reason(client, shop, piece):
    start = local(shop, days_ahead(shop, 3), 15)
    url = reverse("stores:appointment_book") + f"?store={shop.code}&variant={piece.pk}"
    form = {"store": shop.code, "variant": [piece.pk], "slot": start.isoformat(),
            "name": "A", "phone": "13800138000"}
    client.post(url, form)
    client.post(url, {**form, "phone": "13800138001"})
    other = VariantFactory()
    stock_receive(store=shop, variant=other, quantity=1)
    page = client.post(url, {**form, "variant": [other.pk], "phone": "13800138002"})
    assert page.status_code == 200 and 'data-error-code="slot_taken"' in page.text
    assert Appointment.objects.count() == 2


def test_the_page_asks_guests_for_a_valid_mobile(client, shop, piece):
    url = reverse("stores:appointment_book") + f"?store={shop.code}&variant={piece.pk}"
    page = client.post(url, {"store": shop.code, "variant": [piece.pk], "name": "A",
                             "slot": local(shop, days_ahead(shop, 3), 15).isoformat(),
                             "phone": "12"})
    assert page.status_code == 200 and page.context["form"].errors["phone"]
    assert not Appointment.objects.exists()


def test_a_member_is_prefilled(client, shop, piece):
    member = UserFactory(name="王静", phone="+8613900000011")
    client.force_login(member)
    url = reverse("stores:appointment_book") + f"?store={shop.code}&variant={piece.pk}"
    form = client.get(url).context["form"]
    assert form.initial["name"] == "王静" and form.initial["phone"] == "+8613900000011"


def test_an_unknown_product_is_a_404(client):
    assert client.get(reverse("stores:appointment_book") + "?product=nope").status_code == 404


def test_the_signed_link_cancels_and_a_forged_one_is_a_404(client, shop, piece):
    url = reverse("stores:appointment_book") + f"?store={shop.code}&variant={piece.pk}"
    client.post(url, {"store": shop.code, "variant": [piece.pk], "name": "A",
                      "slot": local(shop, days_ahead(shop, 3), 15).isoformat(),
                      "phone": "13800138000"})
    appointment = Appointment.objects.get()
    token = appointment_token(appointment)
    assert client.get(reverse("stores:appointment_manage",
                              kwargs={"token": token + "x"})).status_code == 404
    calendar = client.get(reverse("stores:appointment_calendar", kwargs={"token": token}))
    assert calendar["Content-Type"].startswith("text/calendar") and b"DTSTART:" in calendar.content
    client.post(reverse("stores:appointment_cancel", kwargs={"token": token}), {"reason": "有事"})
    appointment.refresh_from_db()
    assert appointment.status == "cancelled" and appointment.cancel_reason == "有事"
    assert Reservation.objects.get().status == "released"


def test_an_expired_link_is_refused(client, shop, piece, monkeypatch):
    from stores import tokens

    url = reverse("stores:appointment_book") + f"?store={shop.code}&variant={piece.pk}"
    client.post(url, {"store": shop.code, "variant": [piece.pk], "name": "A",
                      "slot": local(shop, days_ahead(shop, 3), 15).isoformat(),
                      "phone": "13800138000"})
    token = appointment_token(Appointment.objects.get())
    monkeypatch.setattr(tokens, "MAX_AGE", timedelta(seconds=-1))
    assert client.get(reverse("stores:appointment_manage",
                              kwargs={"token": token})).status_code == 404


def test_reschedule_through_the_signed_link(client, shop, piece):
    url = reverse("stores:appointment_book") + f"?store={shop.code}&variant={piece.pk}"
    client.post(url, {"store": shop.code, "variant": [piece.pk], "name": "A",
                      "slot": local(shop, days_ahead(shop, 3), 15).isoformat(),
                      "phone": "13800138000"})
    appointment = Appointment.objects.get()
    page_url = reverse("stores:appointment_reschedule",
                       kwargs={"token": appointment_token(appointment)})
    assert client.get(page_url).status_code == 200
    new = local(shop, days_ahead(shop, 4), 11)
    assert client.post(page_url, {"slot": new.isoformat()}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == new and appointment.sequence == 1
    past = client.post(page_url, {"slot": (timezone.now() - timedelta(days=1)).isoformat()})
    assert past.status_code == 200 and "data-error-code" in past.text


def test_my_appointments_include_lists_a_members_try_ons(shop, piece):
    from django.template.loader import render_to_string

    from stores.selectors import appointments_for_member
    from stores.services import appointment_book

    member = UserFactory()
    appointment_book(store=shop, starts_at=local(shop, days_ahead(shop, 3), 15),
                     variant_ids=[piece.pk], contact_name="", contact_phone="", member=member,
                     notify=False)
    rows = appointments_for_member(member)
    html = render_to_string("stores/includes/my_appointments.html", {"appointments": rows})
    assert rows[0].number in html or shop.name in html
    assert "/try-on/" in html
