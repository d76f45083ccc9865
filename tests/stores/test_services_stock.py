"""Reservations: reserve, release, commit, expire; and no oversell under real concurrency."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from stores.errors import SoldOut, TransitionNotAllowed
from stores.models import Reservation, StockLevel
from stores.services import (
    reservation_commit,
    reservation_release,
    reservations_expire,
    stock_receive,
    stock_reserve,
)
from tests.catalog.factories import VariantFactory

from .factories import tryon_store


def level(store, variant):
    return StockLevel.objects.get(store=store, variant=variant)


def reserve(store, variant, n=1, minutes=30, reference="O1"):
    return stock_reserve(store=store, variant=variant, quantity=n,
                         expires_at=timezone.now() + timedelta(minutes=minutes),
                         purpose="order", reference=reference)


@pytest.mark.django_db
def test_reserving_sets_pieces_aside_until_none_are_available(shop, variant):
    stock_receive(store=shop, variant=variant, quantity=2)
    first = reserve(shop, variant)
    assert (level(shop, variant).on_hand, level(shop, variant).reserved) == (2, 1)
    assert first.status == "active" and first.reference == "O1"
    reserve(shop, variant)
    with pytest.raises(SoldOut) as exc:
        reserve(shop, variant)
    assert exc.value.code == "sold_out" and exc.value.status == 409
    assert variant.sku in exc.value.message
    assert level(shop, variant).reserved == 2 and Reservation.objects.count() == 2


@pytest.mark.django_db
def test_a_place_without_the_piece_is_sold_out(shop, variant):
    with pytest.raises(SoldOut):
        reserve(shop, variant)


@pytest.mark.django_db
def test_release_gives_pieces_back_and_is_idempotent(shop, variant):
    stock_receive(store=shop, variant=variant, quantity=1)
    reservation = reserve(shop, variant)
    released = reservation_release(reservation=reservation, reason="order cancelled")
    assert released.status == "released" and released.close_reason == "order cancelled"
    assert level(shop, variant).reserved == 0
    reservation_release(reservation=reservation, reason="again")
    assert level(shop, variant).reserved == 0
    reserve(shop, variant)  # available again


@pytest.mark.django_db
def test_commit_takes_the_piece_out_of_the_stock(shop, variant):
    stock_receive(store=shop, variant=variant, quantity=3)
    reservation = reserve(shop, variant, n=2)
    reservation_commit(reservation=reservation)
    assert (level(shop, variant).on_hand, level(shop, variant).reserved) == (1, 0)
    reservation.refresh_from_db()
    assert reservation.status == "committed" and reservation.closed_at
    with pytest.raises(TransitionNotAllowed):
        reservation_commit(reservation=reservation)
    other = reserve(shop, variant)
    reservation_release(reservation=other, reason="x")
    with pytest.raises(TransitionNotAllowed):
        reservation_commit(reservation=other)
    assert level(shop, variant).on_hand == 1


@pytest.mark.django_db
def test_expiry_releases_only_what_ran_out_in_batches_and_twice_is_harmless(shop):
    variants = VariantFactory.create_batch(5)
    for v in variants:
        stock_receive(store=shop, variant=v, quantity=1)
    expired = [reserve(shop, v, minutes=-1) for v in variants[:4]]
    alive = reserve(shop, variants[4], minutes=60)
    assert reservations_expire(batch_size=3) == 4
    assert reservations_expire(batch_size=3) == 0
    assert {r.status for r in Reservation.objects.filter(pk__in=[e.pk for e in expired])} == {"expired"}
    assert Reservation.objects.get(pk=alive.pk).status == "active"
    assert sum(StockLevel.objects.filter(store=shop).values_list("reserved", flat=True)) == 1


@pytest.mark.django_db
def test_a_reservation_without_expiry_is_never_expired(shop, variant):
    stock_receive(store=shop, variant=variant, quantity=1)
    stock_reserve(store=shop, variant=variant, quantity=1, expires_at=None, purpose="transfer",
                  reference="T1")
    assert reservations_expire(now=timezone.now() + timedelta(days=365)) == 0


@pytest.mark.django_db
def test_quantities_must_be_positive(shop, variant):
    stock_receive(store=shop, variant=variant, quantity=1)
    with pytest.raises(Exception) as exc:
        reserve(shop, variant, n=0)
    assert getattr(exc.value, "code", "") == "quantity_not_positive"


@pytest.mark.django_db(transaction=True)
def test_parallel_reservations_never_oversell():
    """24 threads, each on its own connection, race for 5 pieces: exactly 5 win."""
    store = tryon_store(code="race")
    variant = VariantFactory()
    stock_receive(store=store, variant=variant, quantity=5)
    threads, start = 24, threading.Barrier(24)
    won, lost, errors = [], [], []

    def worker():
        try:
            start.wait(timeout=10)
            reserve(store, variant)
            won.append(1)
        except SoldOut:
            lost.append(1)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert errors == []
    assert (len(won), len(lost)) == (5, 19)
    stock = level(store, variant)
    assert (stock.on_hand, stock.reserved) == (5, 5)
    assert Reservation.objects.filter(status="active").count() == 5
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_parallel_reserve_release_and_expire_keep_the_counter_exact():
    """Reservations, releases and expiry runs interleaved: reserved always equals the sum
    of the active reservations, and no run fails (lock order, SKIP LOCKED)."""
    store = tryon_store(code="churn")
    variants = VariantFactory.create_batch(3)
    for v in variants:
        stock_receive(store=store, variant=v, quantity=4)
    errors = []
    barrier = threading.Barrier(10)  # 8 shoppers and 2 sweepers start together

    def shopper(i):
        try:
            barrier.wait(timeout=20)
            for n in range(6):
                v = variants[(i + n) % 3]
                try:
                    r = reserve(store, v, minutes=-1 if n % 2 else 30)
                except SoldOut:
                    continue
                if n % 3 == 0:
                    reservation_release(reservation=r, reason="changed mind")
        except Exception as exc:  # pragma: no cover
            errors.append(repr(exc))
        finally:
            connection.close()

    def sweeper():
        try:
            barrier.wait(timeout=20)
            for _ in range(5):
                reservations_expire(batch_size=2)
        except Exception as exc:  # pragma: no cover
            errors.append(repr(exc))
        finally:
            connection.close()

    pool = [threading.Thread(target=shopper, args=(i,)) for i in range(8)]
    pool += [threading.Thread(target=sweeper) for _ in range(2)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in pool)
    reservations_expire()
    assert errors == []
    for v in variants:
        active = sum(Reservation.objects.filter(store=store, variant=v, status="active")
                     .values_list("quantity", flat=True))
        assert level(store, v).reserved == active <= 4
    connections.close_all()


@pytest.mark.django_db
def test_availability_by_store_id_is_availability_for_variants_without_the_store_rows(
        shop, depot, variant, django_assert_num_queries):
    from stores.selectors import availability_by_store_id, availability_for_variants

    other, closed, none_left = VariantFactory(), tryon_store(code="sh-shut"), VariantFactory()
    stock_receive(store=depot, variant=variant, quantity=3)
    stock_receive(store=shop, variant=variant, quantity=2)
    stock_receive(store=shop, variant=other, quantity=1)
    stock_receive(store=closed, variant=other, quantity=4)
    closed.is_active = False
    closed.save(update_fields=["is_active"])
    stock_receive(store=shop, variant=none_left, quantity=1)
    reserve(shop, none_left)
    ids = [variant.pk, other.pk, none_left.pk]
    with django_assert_num_queries(1):
        found = availability_by_store_id(ids)
    assert found == {variant.pk: {shop.pk: 2, depot.pk: 3}, other.pk: {shop.pk: 1}}
    assert {v: [(s.pk, n) for s, n in places]
            for v, places in availability_for_variants(ids).items()} == {
        v: list(places.items()) for v, places in found.items()}  # same order: shops first
    assert availability_by_store_id([]) == {}
