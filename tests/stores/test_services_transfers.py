"""Transfers: stock moves with each step, is never counted twice, and every step is audited."""

import pytest

from stores.errors import NotYourStore, SoldOut, TransitionNotAllowed
from stores.models import Reservation, StaffAssignment, StockLevel, TransferEvent
from stores.selectors import in_transit_to
from stores.services import (
    stock_receive,
    transfer_cancel,
    transfer_create,
    transfer_receive,
    transfer_ship,
)
from tests.members.factories import StaffFactory

pytestmark = pytest.mark.django_db


def counts(store, variant):
    row = StockLevel.objects.filter(store=store, variant=variant).first()
    return (row.on_hand, row.reserved) if row else (0, 0)


@pytest.fixture
def manager(shop):
    user = StaffFactory()
    StaffAssignment.objects.create(user=user, store=shop, role="manager")
    return user


@pytest.fixture
def depot_staff(depot):
    user = StaffFactory()
    StaffAssignment.objects.create(user=user, store=depot)
    return user


def test_a_transfer_moves_pieces_step_by_step_and_nothing_is_counted_twice(
        shop, depot, variant, manager, depot_staff):
    stock_receive(store=depot, variant=variant, quantity=5)
    transfer = transfer_create(source=depot, destination=shop, lines=[(variant, 2)], actor=manager)
    assert transfer.status == "requested" and transfer.expected_on
    # Requested: still on hand at the source, but set aside.
    assert counts(depot, variant) == (5, 2) and counts(shop, variant) == (0, 0)
    assert in_transit_to(shop) == {}

    transfer_ship(transfer=transfer, actor=depot_staff)
    assert counts(depot, variant) == (3, 0)
    assert in_transit_to(shop) == {variant.pk: 2}  # the only place the 2 pieces are counted
    assert counts(shop, variant) == (0, 0)

    transfer_receive(transfer=transfer, actor=manager)
    assert counts(shop, variant) == (2, 0) and counts(depot, variant) == (3, 0)
    assert in_transit_to(shop) == {}
    transfer.refresh_from_db()
    assert transfer.status == "received" and transfer.shipped_at and transfer.received_at
    events = list(TransferEvent.objects.filter(transfer=transfer).values_list("kind", "actor"))
    assert events == [("created", manager.pk), ("shipped", depot_staff.pk),
                      ("received", manager.pk)]
    assert list(Reservation.objects.values_list("status", flat=True)) == ["committed"]


def test_steps_follow_the_transition_table(shop, depot, variant):
    stock_receive(store=depot, variant=variant, quantity=1)
    transfer = transfer_create(source=depot, destination=shop, lines=[(variant, 1)], actor=None)
    with pytest.raises(TransitionNotAllowed):
        transfer_receive(transfer=transfer, actor=None)  # not shipped yet
    transfer_ship(transfer=transfer, actor=None)
    with pytest.raises(TransitionNotAllowed):
        transfer_ship(transfer=transfer, actor=None)  # twice
    with pytest.raises(TransitionNotAllowed):
        transfer_cancel(transfer=transfer, actor=None)  # on its way: it will arrive
    transfer_receive(transfer=transfer, actor=None)
    with pytest.raises(TransitionNotAllowed):
        transfer_receive(transfer=transfer, actor=None)
    assert counts(shop, variant) == (1, 0)


def test_cancelling_a_requested_transfer_releases_the_source(shop, depot, variant):
    stock_receive(store=depot, variant=variant, quantity=1)
    transfer = transfer_create(source=depot, destination=shop, lines=[(variant, 1)], actor=None)
    transfer_cancel(transfer=transfer, actor=None, reason="not needed")
    assert counts(depot, variant) == (1, 0)
    assert TransferEvent.objects.filter(transfer=transfer, kind="cancelled",
                                        data__reason="not needed").exists()


def test_a_transfer_of_more_than_is_available_is_refused_whole(shop, depot, variant):
    from tests.catalog.factories import VariantFactory

    other = VariantFactory()
    stock_receive(store=depot, variant=variant, quantity=3)
    stock_receive(store=depot, variant=other, quantity=1)
    with pytest.raises(SoldOut):
        transfer_create(source=depot, destination=shop, lines=[(variant, 1), (other, 2)],
                        actor=None)
    assert counts(depot, variant) == (3, 0) and counts(depot, other) == (1, 0)


def test_staff_ship_only_from_and_receive_only_at_their_own_stores(shop, depot, variant,
                                                                    manager, depot_staff):
    stock_receive(store=depot, variant=variant, quantity=1)
    transfer = transfer_create(source=depot, destination=shop, lines=[(variant, 1)], actor=manager)
    with pytest.raises(NotYourStore):
        transfer_ship(transfer=transfer, actor=manager)  # the shop cannot ship the depot's
    transfer_ship(transfer=transfer, actor=depot_staff)
    with pytest.raises(NotYourStore):
        transfer_receive(transfer=transfer, actor=depot_staff)
    outsider = StaffFactory()
    with pytest.raises(NotYourStore):
        transfer_create(source=depot, destination=shop, lines=[(variant, 1)], actor=outsider)


# --- Transfers for an order (a reference string; stores never looks at orders) -------------


def test_a_transfer_with_a_reference_reserves_its_pieces_for_it_on_arrival(
        shop, depot, variant, manager, depot_staff):
    from stores.models import ReservationPurpose, ReservationStatus, TransferStatus
    from stores.services import transfer_create_locked, transfers_release_for

    stock_receive(store=depot, variant=variant, quantity=3)
    transfer, _holds = transfer_create_locked(source=depot, destination=shop,
                                              lines=[(variant, 2)], actor=None,
                                              reference="O261123ABCDEF")
    assert transfer.reference == "O261123ABCDEF" and counts(depot, variant) == (3, 2)
    transfer_ship(transfer=transfer, actor=depot_staff)
    transfer_receive(transfer=transfer, actor=manager)
    held = Reservation.objects.get(store=shop, variant=variant)
    assert (held.purpose, held.reference, held.quantity, held.expires_at, held.status) == (
        ReservationPurpose.ORDER, "O261123ABCDEF", 2, None, ReservationStatus.ACTIVE)
    assert counts(shop, variant) == (2, 2)
    event = TransferEvent.objects.get(transfer=transfer, kind="received")
    assert event.data["reserved_for_order"] == "O261123ABCDEF"
    # Received transfers are left alone.
    assert transfers_release_for(reference="O261123ABCDEF", reason="test") == 0
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED


def test_releasing_a_reference_cancels_requested_and_detaches_shipped_transfers(
        shop, depot, variant, manager, depot_staff):
    from stores.models import TransferStatus
    from stores.services import transfer_create_locked, transfers_release_for

    stock_receive(store=depot, variant=variant, quantity=3)
    requested, _h = transfer_create_locked(source=depot, destination=shop, lines=[(variant, 1)],
                                           actor=None, reference="O1")
    shipped, _h = transfer_create_locked(source=depot, destination=shop, lines=[(variant, 1)],
                                         actor=None, reference="O1")
    other, _h = transfer_create_locked(source=depot, destination=shop, lines=[(variant, 1)],
                                       actor=None, reference="O2")
    transfer_ship(transfer=shipped, actor=depot_staff)
    assert counts(depot, variant) == (2, 2)

    assert transfers_release_for(reference="O1", actor=manager, reason="order cancelled") == 2
    assert transfers_release_for(reference="O1", reason="again") == 0  # idempotent
    assert transfers_release_for(reference="", reason="nothing") == 0
    requested.refresh_from_db()
    shipped.refresh_from_db()
    other.refresh_from_db()
    assert requested.status == TransferStatus.CANCELLED
    assert (shipped.status, shipped.reference) == (TransferStatus.SHIPPED, "")
    assert (other.status, other.reference) == (TransferStatus.REQUESTED, "O2")
    assert counts(depot, variant) == (2, 1)  # only O2's piece is still set aside
    detached = TransferEvent.objects.get(transfer=shipped, kind="detached")
    assert (detached.actor, detached.data["reference"]) == (manager, "O1")
    # On arrival the detached pieces simply join the shop's stock.
    transfer_receive(transfer=shipped, actor=manager)
    assert counts(shop, variant) == (1, 0)
    assert not Reservation.objects.filter(store=shop).exists()
