"""Booking and the appointment life cycle: seats, reservations, transfers, audit rows."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from o2o.models import OutboxMessage
from stores.errors import (
    BookingInvalid,
    NotYourStore,
    SlotTaken,
    SlotUnavailable,
    SoldOut,
    TransitionNotAllowed,
)
from stores.models import (
    Appointment,
    AppointmentEvent,
    Reservation,
    StaffAssignment,
    StockLevel,
    Transfer,
)
from stores.services import (
    APPOINTMENT_TRANSITIONS,
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_no_show,
    appointment_reschedule,
    stock_receive,
    transfer_receive,
    transfer_ship,
)
from tests.catalog.factories import VariantFactory
from tests.members.factories import StaffFactory, UserFactory

from .factories import closure, days_ahead, local, tryon_store

pytestmark = pytest.mark.django_db


def book(store, start, variants, **kwargs):
    kwargs.setdefault("contact_name", "林小姐")
    kwargs.setdefault("contact_phone", "138 0013 8000")
    return appointment_book(store=store, starts_at=start, variant_ids=[v.pk for v in variants],
                            notify=False, **kwargs)


def reserved(store, variant):
    row = StockLevel.objects.filter(store=store, variant=variant).first()
    return row.reserved if row else 0


@pytest.fixture
def staff(shop):
    user = StaffFactory()
    StaffAssignment.objects.create(user=user, store=shop)
    return user


@pytest.fixture
def piece(shop):
    variant = VariantFactory()
    stock_receive(store=shop, variant=variant, quantity=1)
    return variant


def test_booking_reserves_the_pieces_at_the_store_for_the_slot(shop, piece):
    start = local(shop, days_ahead(shop, 3), 15)
    appointment = book(shop, start, [piece], contact_email="Lin@Example.com", note="手寸12")
    assert appointment.status == "booked" and appointment.seat == 1
    assert appointment.starts_at == start and appointment.ends_at == start + timedelta(hours=1)
    assert appointment.contact_phone == "+8613800138000"
    assert appointment.contact_email == "lin@example.com"
    assert reserved(shop, piece) == 1
    reservation = Reservation.objects.get(appointment=appointment)
    assert (reservation.purpose, reservation.reference) == ("appointment", appointment.number)
    assert reservation.expires_at == appointment.ends_at + timedelta(hours=2)
    event = AppointmentEvent.objects.get(appointment=appointment)
    assert event.kind == "booked" and event.data["skus"] == [piece.sku]


def test_a_member_is_filled_in_and_gets_the_booking_in_their_language(shop, piece):
    member = UserFactory(name="王静", phone="+8613900000001", language="en")
    appointment = book(shop, local(shop, days_ahead(shop, 2), 11), [piece], member=member,
                       contact_name="", contact_phone="")
    assert (appointment.member, appointment.contact_name) == (member, "王静")
    assert appointment.contact_phone == "+8613900000001" and appointment.language == "en"
    assert AppointmentEvent.objects.get(appointment=appointment).actor == member


def test_a_piece_the_store_lacks_comes_by_transfer_and_only_later_days_are_offered(
        shop, depot):
    variant = VariantFactory()
    stock_receive(store=depot, variant=variant, quantity=2)
    with pytest.raises(SlotUnavailable) as exc:
        book(shop, local(shop, days_ahead(shop, 1), 15), [variant])
    assert exc.value.code == "pieces_not_ready"
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), [variant])
    transfer = Transfer.objects.get(appointment=appointment)
    assert (transfer.source, transfer.destination, transfer.status) == (depot, shop, "requested")
    assert transfer.expected_on == days_ahead(shop, 2)
    assert appointment.items.get().transfer == transfer
    assert reserved(depot, variant) == 1 and reserved(shop, variant) == 0
    # The piece travels; on arrival it is reserved for the appointment at once.
    transfer_ship(transfer=transfer, actor=None)
    transfer_receive(transfer=transfer, actor=None)
    stock = StockLevel.objects.get(store=shop, variant=variant)
    assert (stock.on_hand, stock.reserved) == (1, 1)
    assert Reservation.objects.get(appointment=appointment, store=shop).status == "active"


def test_booking_rules_give_reasons(shop, piece):
    day = days_ahead(shop, 3)
    closure(shop, day + timedelta(days=1), note="盘点")
    cases = [
        (local(shop, day + timedelta(days=1), 15), "store_closed"),
        (local(shop, day, 15, 30), "not_a_slot"),
        (local(shop, day, 23), "not_a_slot"),
        (timezone.now() + timedelta(minutes=30), None),  # too soon or past, depending on time
        (local(shop, days_ahead(shop, 45), 15), "too_far"),
    ]
    for start, code in cases:
        with pytest.raises(SlotUnavailable) as exc:
            book(shop, start, [piece])
        if code:
            assert exc.value.code == code, start
    yesterday = local(shop, days_ahead(shop, -1), 15)
    with pytest.raises(SlotUnavailable) as exc:
        book(shop, yesterday, [piece])
    assert exc.value.code in {"date_in_past", "slot_in_past"}
    with pytest.raises(BookingInvalid) as exc:
        book(shop, local(shop, day, 15), [])
    assert exc.value.code == "no_pieces"
    with pytest.raises(BookingInvalid) as exc:
        book(shop, local(shop, day, 15), [piece], contact_phone="12345")
    assert exc.value.code == "invalid_phone"
    assert not Appointment.objects.exists() and reserved(shop, piece) == 0


def test_a_store_without_try_on_takes_no_booking(piece):
    store = tryon_store(services=["cleaning"])
    stock_receive(store=store, variant=piece, quantity=1)
    with pytest.raises(BookingInvalid) as exc:
        book(store, local(store, days_ahead(store, 3), 15), [piece])
    assert exc.value.code == "no_tryon"


def test_a_full_slot_is_taken_and_seats_are_numbered(shop):
    variants = VariantFactory.create_batch(3)
    for v in variants:
        stock_receive(store=shop, variant=v, quantity=1)
    start = local(shop, days_ahead(shop, 3), 15)
    assert book(shop, start, [variants[0]]).seat == 1
    assert book(shop, start, [variants[1]]).seat == 2
    with pytest.raises(SlotTaken) as exc:
        book(shop, start, [variants[2]])
    assert exc.value.status == 409 and exc.value.code == "slot_taken"
    assert reserved(shop, variants[2]) == 0  # nothing half-written


def test_sold_out_everywhere_is_refused(shop):
    with pytest.raises(SoldOut):
        book(shop, local(shop, days_ahead(shop, 3), 15), [VariantFactory()])


def test_check_in_then_complete_bought_keeps_the_piece_for_the_sale(shop, piece, staff):
    other = VariantFactory()
    stock_receive(store=shop, variant=other, quantity=1)
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), [piece, other])
    appointment_check_in(appointment=appointment, actor=staff)
    done = appointment_complete(appointment=appointment, actor=staff, outcome="bought",
                                bought_variant_ids=[piece.pk])
    assert (done.status, done.outcome, done.order_reference) == ("completed", "bought", "")
    assert done.staff == staff and done.checked_in_at and done.completed_at
    # Held under the appointment's own number (never an order's) until the sale takes it.
    kept = Reservation.objects.get(variant=piece)
    assert (kept.status, kept.purpose, kept.reference) == ("active", "appointment",
                                                           appointment.number)
    assert reserved(shop, piece) == 1 and reserved(shop, other) == 0
    kinds = list(AppointmentEvent.objects.filter(appointment=appointment)
                 .values_list("kind", "actor"))
    assert kinds == [("booked", None), ("checked_in", staff.pk), ("completed", staff.pk)]


def test_complete_not_bought_releases_everything_with_the_reason(shop, piece, staff):
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), [piece])
    done = appointment_complete(appointment=appointment, actor=staff, outcome="not_bought",
                                reason="尺寸不合适")
    assert done.outcome_reason == "尺寸不合适" and reserved(shop, piece) == 0
    event = AppointmentEvent.objects.get(appointment=appointment, kind="completed")
    assert event.data["released"] == 1 and event.data["reason"] == "尺寸不合适"
    with pytest.raises(TransitionNotAllowed):
        appointment_complete(appointment=appointment, actor=staff, outcome="bought")


def test_complete_needs_an_outcome(shop, piece, staff):
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), [piece])
    with pytest.raises(BookingInvalid) as exc:
        appointment_complete(appointment=appointment, actor=staff, outcome="")
    assert exc.value.code == "outcome_required"


def test_no_show_only_once_it_has_begun_and_cancel_releases_and_calls_off_transfers(
        shop, depot, piece, staff):
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), [piece])
    with pytest.raises(TransitionNotAllowed) as exc:
        appointment_no_show(appointment=appointment, actor=staff)
    assert exc.value.code == "not_started"
    appointment_no_show(appointment=appointment, actor=staff,
                        now=appointment.starts_at + timedelta(minutes=20))
    assert reserved(shop, piece) == 0

    far = VariantFactory()
    stock_receive(store=depot, variant=far, quantity=1)
    second = book(shop, local(shop, days_ahead(shop, 4), 15), [far])
    cancelled = appointment_cancel(appointment=second, by_shopper=True, reason="有事")
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "有事"
    assert reserved(depot, far) == 0
    assert Transfer.objects.get(appointment=second).status == "cancelled"
    with pytest.raises(TransitionNotAllowed):
        appointment_check_in(appointment=second, actor=staff)


def test_every_transition_follows_the_table(shop, piece, staff):
    assert APPOINTMENT_TRANSITIONS["completed"] == frozenset()
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), [piece])
    appointment_check_in(appointment=appointment, actor=staff)
    for call in (lambda: appointment_check_in(appointment=appointment, actor=staff),
                 lambda: appointment_cancel(appointment=appointment, actor=staff),
                 lambda: appointment_no_show(appointment=appointment, actor=staff,
                                             now=appointment.starts_at + timedelta(hours=1))):
        with pytest.raises(TransitionNotAllowed):
            call()


def test_staff_act_only_at_their_own_store(shop, piece):
    other = tryon_store(code="other")
    outsider = StaffFactory()
    StaffAssignment.objects.create(user=outsider, store=other)
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), [piece])
    for call in (appointment_check_in, appointment_cancel):
        with pytest.raises(NotYourStore):
            call(appointment=appointment, actor=outsider)
    assert Appointment.objects.get(pk=appointment.pk).status == "booked"


def test_reschedule_moves_the_seat_the_holds_and_restarts_reminders(shop, piece):
    appointment = book(shop, local(shop, days_ahead(shop, 3), 15), [piece],
                       contact_email="lin@example.com")
    new = local(shop, days_ahead(shop, 5), 11)
    moved = appointment_reschedule(appointment=appointment, starts_at=new, notify=False)
    assert moved.starts_at == new and moved.sequence == 1
    # The reminders of the old time are withdrawn; the new time's are due before it.
    reminders = OutboxMessage.objects.filter(about=f"stores.appointment:{appointment.pk}",
                                             payload__kind__startswith="reminder")
    assert {(r.payload["sequence"], r.state) for r in reminders} == {
        (0, "cancelled"), (1, "pending")}
    assert {r.due_at for r in reminders if r.state == "pending"} == {
        new - timedelta(hours=24), new - timedelta(hours=2)}
    assert Reservation.objects.get(appointment=appointment).expires_at == moved.ends_at + timedelta(hours=2)
    event = AppointmentEvent.objects.get(appointment=appointment, kind="rescheduled")
    assert event.data["after"] == new.isoformat()
    # Its own old seat does not block moving within the same slot, a full one does.
    other = VariantFactory()
    stock_receive(store=shop, variant=other, quantity=2)
    book(shop, local(shop, days_ahead(shop, 6), 11), [other])
    book(shop, local(shop, days_ahead(shop, 6), 11), [other])
    with pytest.raises(SlotTaken):
        appointment_reschedule(appointment=moved, starts_at=local(shop, days_ahead(shop, 6), 11),
                               notify=False)


@pytest.mark.django_db(transaction=True)
def test_parallel_bookings_for_the_last_seat_give_exactly_one():
    """16 shoppers, each on a connection of their own, race for the last seat."""
    store = tryon_store(code="last-seat", seats=2)
    variants = VariantFactory.create_batch(17)
    for v in variants:
        stock_receive(store=store, variant=v, quantity=1)
    start = local(store, days_ahead(store, 3), 15)
    book(store, start, [variants[0]])  # one seat of two is gone
    racers, barrier = 16, threading.Barrier(16)
    won, taken, errors = [], [], []

    def shopper(i):
        try:
            barrier.wait(timeout=10)
            won.append(book(store, start, [variants[i + 1]]).number)
        except SlotTaken as exc:
            taken.append(str(exc.message))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    pool = [threading.Thread(target=shopper, args=(i,)) for i in range(racers)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert errors == []
    assert len(won) == 1 and len(taken) == 15
    assert set(taken) == {str(SlotTaken().message)}  # "That time was just taken..."
    live = Appointment.objects.filter(store=store, starts_at=start, status="booked")
    assert sorted(live.values_list("seat", flat=True)) == [1, 2]
    # Only the winner's piece (and the first booking's) is held.
    assert sum(StockLevel.objects.filter(store=store).values_list("reserved", flat=True)) == 2
    connections.close_all()
