"""Slots cached per store and day; a booking, a move or a cancel shows at once."""

import warnings
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.cache.backends.base import CacheKeyWarning
from rest_framework.test import APIClient

from stores.services import appointment_cancel, appointment_reschedule, stock_receive
from stores.slots_cache import store_by_ref_cached
from tests.catalog.factories import VariantFactory

from .factories import days_ahead, local, tryon_store
from .test_services_appointments import book

pytestmark = pytest.mark.django_db


def _slot(body, start):
    return next(slot for day in body["days"] for slot in day["slots"]
                if slot["start"] == start.isoformat())


def _get(api, store, day):
    response = api.get(f"/api/v1/stores/{store.code}/slots/?date={day.isoformat()}&days=14")
    assert response.status_code == 200
    return response.json()


def test_slots_are_cached_and_a_booking_shows_at_once(
        shop, django_capture_on_commit_callbacks, django_assert_max_num_queries):
    api = APIClient()
    other = tryon_store(code="bj-test", seats=1)
    piece = VariantFactory()
    stock_receive(store=shop, variant=piece, quantity=3)
    stock_receive(store=other, variant=piece, quantity=3)
    day = days_ahead(shop, 2)
    start = local(shop, day, 15)
    first = _get(api, shop, day)
    assert _slot(first, start)["state"] == "free"
    with django_assert_max_num_queries(0):  # the store and the days from the cache
        assert _get(api, shop, day) == first

    with django_capture_on_commit_callbacks(execute=True):
        book(shop, start, [piece])
        book(shop, start, [piece], contact_phone="138 0013 8001")
    assert _slot(_get(api, shop, day), start)["state"] == "full"

    # A booking at another store leaves this store's cached days alone.
    with django_capture_on_commit_callbacks(execute=True):
        book(other, local(other, day, 15), [piece])
    with django_assert_max_num_queries(0):
        assert _slot(_get(api, shop, day), start)["state"] == "full"


def test_a_store_edit_shows_at_once(shop, django_capture_on_commit_callbacks):
    """The store itself is cached with the answers, per catalog version: an edit in the
    admin (which moves the version) shows at the next request."""
    from catalog.cache import catalog_changed

    api = APIClient()
    day = days_ahead(shop, 2)
    _get(api, shop, day)
    shop.tryon_seats = 0
    with django_capture_on_commit_callbacks(execute=True):
        shop.save(update_fields=["tryon_seats"])
        catalog_changed()
    assert api.get(f"/api/v1/stores/{shop.code}/slots/?days=14").status_code == 404


def test_a_cancel_and_a_move_free_the_seat_at_once(shop, django_capture_on_commit_callbacks):
    api = APIClient()
    piece = VariantFactory()
    stock_receive(store=shop, variant=piece, quantity=3)
    day = days_ahead(shop, 2)
    start, later = local(shop, day, 15), local(shop, day + timedelta(days=1), 11)
    with django_capture_on_commit_callbacks(execute=True):
        one = book(shop, start, [piece])
        book(shop, start, [piece], contact_phone="138 0013 8001")
    assert _slot(_get(api, shop, day), start)["state"] == "full"
    with django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(appointment=one, starts_at=later, notify=False)
    body = _get(api, shop, day)
    assert _slot(body, start)["state"] == "free" and _slot(body, later)["free"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=one, notify=False)
    assert _slot(_get(api, shop, day), later)["free"] == 2


@pytest.mark.parametrize("ref", ["Try-on at %(store)s", "门店", "a" * 65, "sh njxl", "x\x7f"])
def test_a_reference_no_store_could_have_is_looked_up_but_never_kept(ref, django_assert_num_queries):
    # Anything typed into the slots URL is answered from the database ("no such store"),
    # with no cache key made of it (Django warns of keys with spaces or control
    # characters: an error here); a store's code or id is kept per catalog version.
    store = tryon_store()
    with django_assert_num_queries(1), warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        assert store_by_ref_cached(ref) is None
    assert not list(cache._cache.get_client().scan_iter("*stores:by-ref:*"))
    assert store_by_ref_cached(store.code) == store
    with django_assert_num_queries(0):
        assert store_by_ref_cached(store.code) == store
