"""The stores API: stores with open-now, slots, appointments (guest and member), 4xx reasons."""

from datetime import timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from stores.models import Appointment, Reservation
from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.members.factories import UserFactory

from .factories import closure, days_ahead, local, tryon_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def slots_url(ref, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/stores/{ref}/slots/" + (f"?{query}" if query else "")


def booking(shop, piece, start, **extra):
    return {"store": shop.code, "starts_at": start.isoformat(), "variants": [piece.pk],
            "name": "林小姐", "phone": "138 0013 8000", "email": "lin@example.com", **extra}


def test_stores_come_with_services_and_open_now(api, shop):
    tryon_store(code="bj-test", city="北京", city_en="Beijing", latitude=39.9, longitude=116.4)
    response = api.get("/api/v1/stores/")
    assert response.status_code == 200
    codes = {row["code"]: row for row in response.json()}
    assert set(codes) == {"sh-test", "bj-test"}
    row = codes["sh-test"]
    assert row["services"] == ["tryon", "cleaning"] and row["time_zone"] == "Asia/Shanghai"
    assert isinstance(row["open_now"], bool) and row["today"]["opens"] == "10:00"
    only = api.get("/api/v1/stores/?city=Beijing").json()
    assert [r["code"] for r in only] == ["bj-test"]
    near = api.get("/api/v1/stores/?lat=39.91&lng=116.45").json()
    assert near[0]["code"] == "bj-test" and near[0]["distance_km"] < 10


def test_slots_for_a_fortnight_by_id_or_code(api, shop, piece):
    day = days_ahead(shop, 2)
    closure(shop, day + timedelta(days=1), note="盘点")
    body = api.get(slots_url(shop.pk, date=day.isoformat(), days=14, variants=piece.pk)).json()
    assert len(body["days"]) == 14 and body["pieces"][0]["here"] == 2
    assert body["days"][0]["state"] == "open" and body["days"][0]["slots"][0]["bookable"]
    assert body["days"][1] == {"date": (day + timedelta(days=1)).isoformat(), "state": "closed",
                               "opens": None, "closes": None, "note": "盘点", "free_slots": 0,
                               "slots": []}
    by_code = api.get(slots_url(shop.code, date=day.isoformat()))
    assert by_code.status_code == 200 and len(by_code.json()["days"]) == 1


@pytest.mark.parametrize("params, code", [
    ({"date": "2026-13-45"}, "bad_date"),
    ({"date": "tomorrow"}, "bad_date"),
    ({"days": "many"}, "bad_days"),
    ({"days": 90}, "bad_days"),
    ({"variants": "1,x"}, "bad_variants"),
    ({"variants": "999999"}, "unknown_variant"),
])
def test_bad_slot_requests_get_a_400_with_the_reason(api, shop, params, code):
    response = api.get(slots_url(shop.code, **params))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code and response.json()["detail"]


def test_a_past_day_and_an_unknown_store(api, shop):
    yesterday = days_ahead(shop, -1).isoformat()
    response = api.get(slots_url(shop.code, date=yesterday))
    assert (response.status_code, response.json()["code"]) == (400, "date_in_past")
    assert api.get(slots_url("nowhere")).status_code == 404


def test_a_guest_books_and_cancels_with_the_signed_token(api, shop, piece):
    start = local(shop, days_ahead(shop, 3), 15)
    response = api.post("/api/v1/appointments/", booking(shop, piece, start), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "booked" and body["store"]["code"] == shop.code
    assert body["items"][0]["sku"] == piece.sku and "/try-on/" in body["manage_url"]
    token = body["manage_url"].rstrip("/").split("/try-on/")[1]
    number = body["number"]
    assert api.post(f"/api/v1/appointments/{number}/cancel/", {"token": "forged"},
                    format="json").status_code == 404
    cancelled = api.post(f"/api/v1/appointments/{number}/cancel/", {"token": token},
                         format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert Reservation.objects.get().status == "released"


def test_a_member_books_lists_and_cancels_their_own(api, shop, piece):
    member = UserFactory(name="王静", phone="+8613900000009")
    other = UserFactory()
    api.force_login(member)
    start = local(shop, days_ahead(shop, 3), 15)
    created = api.post("/api/v1/appointments/", {"store": shop.pk, "starts_at": start.isoformat(),
                                                 "skus": [piece.sku]}, format="json")
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert Appointment.objects.get(number=number).member == member
    listed = api.get("/api/v1/appointments/").json()
    assert [a["number"] for a in listed] == [number]
    api.force_login(other)
    assert api.get("/api/v1/appointments/").json() == []
    assert api.post(f"/api/v1/appointments/{number}/cancel/", {}, format="json").status_code == 404
    api.force_login(member)
    assert api.post(f"/api/v1/appointments/{number}/cancel/", {},
                    format="json").json()["status"] == "cancelled"


def test_listing_needs_a_login(api):
    assert api.get("/api/v1/appointments/").status_code == 403


def test_booking_errors_are_4xx_with_reasons(api, shop, piece):
    day = days_ahead(shop, 3)
    closure(shop, day, note="盘点")
    cases = [
        (booking(shop, piece, local(shop, day, 15)), 400, "store_closed"),
        (booking(shop, piece, local(shop, days_ahead(shop, -1), 15)), 400, None),
        (booking(shop, piece, local(shop, days_ahead(shop, 4), 15, 20)), 400, "not_a_slot"),
        ({**booking(shop, piece, local(shop, days_ahead(shop, 4), 15)), "variants": [999999]},
         400, "unknown_variant"),
        ({**booking(shop, piece, local(shop, days_ahead(shop, 4), 15)), "skus": ["NOPE"]},
         400, "unknown_variant"),
        ({**booking(shop, piece, local(shop, days_ahead(shop, 4), 15)), "phone": "123"},
         400, "invalid_phone"),
        ({**booking(shop, piece, local(shop, days_ahead(shop, 4), 15)), "name": ""},
         400, "contact_required"),
        ({**booking(shop, piece, local(shop, days_ahead(shop, 4), 15)), "store": "nowhere"},
         404, "not_found"),
        ({**booking(shop, piece, local(shop, days_ahead(shop, 4), 15)), "variants": []},
         400, "no_pieces"),
    ]
    for payload, status, code in cases:
        response = api.post("/api/v1/appointments/", payload, format="json")
        assert response.status_code == status, (payload, response.content)
        if code:
            assert response.json()["code"] == code, response.content
        assert response.json().get("detail")
    bad_format = api.post("/api/v1/appointments/", {"store": shop.code, "starts_at": "soon"},
                          format="json")
    assert bad_format.status_code == 400 and "starts_at" in bad_format.json()["fields"]
    assert not Appointment.objects.exists()


def test_the_last_seat_taken_is_a_409(api, shop, piece):
    start = local(shop, days_ahead(shop, 3), 15)
    for _ in range(2):
        assert api.post("/api/v1/appointments/", booking(shop, piece, start),
                        format="json").status_code == 201
    other = VariantFactory()
    stock_receive(store=shop, variant=other, quantity=1)
    response = api.post("/api/v1/appointments/", {**booking(shop, piece, start),
                                                  "variants": [other.pk]}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "slot_taken"
    sold = api.post("/api/v1/appointments/", booking(shop, piece, start + timedelta(hours=1)),
                    format="json")
    assert sold.status_code == 409 and sold.json()["code"] == "sold_out"


def test_the_openapi_schema_documents_the_endpoints(api):
    schema = api.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "/api/v1/stores/" in paths and "/api/v1/stores/{ref}/slots/" in paths
    assert set(paths["/api/v1/appointments/"]) >= {"get", "post"}
    assert "/api/v1/appointments/{number}/cancel/" in paths
    params = {p["name"] for p in paths["/api/v1/stores/{ref}/slots/"]["get"]["parameters"]}
    assert {"date", "days", "variants"} <= params
    assert "400" in paths["/api/v1/appointments/"]["post"]["responses"]


@pytest.mark.django_db
def test_a_member_sees_their_try_ons_in_their_account(client):
    from stores.services import appointment_book

    store = tryon_store()
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=1)
    member = UserFactory(name="林小姐")
    appointment_book(store=store, starts_at=local(store, days_ahead(store, 2), 15),
                     variant_ids=[variant.id], contact_name="", contact_phone="",
                     member=member, notify=False)
    assert client.get("/account/try-ons/").status_code == 302  # log in first
    client.force_login(member)
    response = client.get("/account/try-ons/")
    assert response.status_code == 200
    assert [a.store for a in response.context["appointments"]] == [store]
    assert variant.product.name in response.text
    assert 'href="/account/try-ons/" aria-current="page"' in response.text
    assert 'href="/account/try-ons/"' in client.get("/account/").text  # reachable from the account
    client.force_login(UserFactory())
    assert client.get("/account/try-ons/").context["appointments"] == []


def test_a_day_beyond_the_booking_window_is_a_clear_400_even_at_year_9999(client):
    store = tryon_store()
    for day in ("9999-12-31", "9000-01-01"):
        answer = client.get(f"/api/v1/stores/{store.code}/slots/?date={day}")
        assert answer.status_code == 400 and answer.json()["code"] == "too_far"
