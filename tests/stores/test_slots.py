"""Slot computation: hours, closures and special hours, the store's time zone, lead times,
seats and transfer lead times; a fixed number of queries for a fortnight."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from stores.errors import SlotTaken, SlotUnavailable, UnknownVariant
from stores.hours import open_status, specials_by_date, weekly_hours
from stores.models import Appointment
from stores.selectors import slots_for_store
from stores.services import stock_receive
from stores.slots import DayState, SlotState, slot_check
from tests.catalog.factories import VariantFactory

from .factories import closure, local, tryon_store

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # Monday 09:00 in Shanghai = 01:00 UTC


def book_raw(store, start, seat=1, status="booked"):
    return Appointment.objects.create(
        number=f"A{Appointment.objects.count():07d}", store=store, starts_at=start,
        ends_at=start + timedelta(minutes=store.tryon_minutes), seat=seat, status=status,
        contact_name="x", contact_phone="+8613800138000")


def test_a_day_is_a_grid_of_try_on_lengths_within_the_hours(shop):
    view = slots_for_store(store=shop, first_day=MONDAY, days=1, now=NOW)
    day = view.days[0]
    assert day.state == DayState.OPEN
    assert [s.label for s in day.slots] == [f"{h}:00" for h in range(10, 22)]
    assert all(s.starts_at.tzinfo == SHANGHAI for s in day.slots)
    assert day.slots[0].starts_at == datetime(2026, 3, 2, 2, 0, tzinfo=ZoneInfo("UTC"))


def test_a_slot_never_runs_past_closing():
    store = tryon_store(opens=time(10, 0), closes=time(12, 30), minutes=45)
    day = slots_for_store(store=store, first_day=MONDAY, days=1, now=NOW).days[0]
    assert [s.label for s in day.slots] == ["10:00", "10:45", "11:30"]  # 12:15 would end 13:00


def test_the_lead_time_and_the_past_are_not_bookable(shop):
    now = datetime(2026, 3, 2, 12, 30, tzinfo=SHANGHAI)
    slots = slots_for_store(store=shop, first_day=MONDAY, days=1, now=now).days[0].slots
    states = {s.label: s.state for s in slots}
    assert states["12:00"] == SlotState.PAST
    assert states["13:00"] == SlotState.TOO_SOON and states["14:00"] == SlotState.TOO_SOON
    assert states["15:00"] == SlotState.FREE  # 12:30 + 120 minutes = 14:30


def test_hours_are_read_in_the_store_time_zone_not_utc(shop):
    # 23:30 UTC on Sunday is 07:30 Monday in Shanghai: Monday's slots are all ahead.
    now = datetime(2026, 3, 1, 23, 30, tzinfo=ZoneInfo("UTC"))
    view = slots_for_store(store=shop, first_day=MONDAY, days=1, now=now)
    assert view.days[0].free_slots == 12
    with pytest.raises(SlotUnavailable) as exc:
        slots_for_store(store=shop, first_day=MONDAY - timedelta(days=1), days=1, now=now)
    assert exc.value.code == "date_in_past"


def test_a_closure_closes_the_day_and_special_hours_replace_the_week(shop):
    closure(shop, MONDAY + timedelta(days=1), note="店庆")
    closure(shop, MONDAY + timedelta(days=2), opens=time(12, 0), closes=time(15, 0), note="春节")
    days = slots_for_store(store=shop, first_day=MONDAY, days=3, now=NOW).days
    assert days[1].state == DayState.CLOSED and days[1].slots == []
    assert days[1].hours.note == "店庆"
    assert [s.label for s in days[2].slots] == ["12:00", "13:00", "14:00"]
    with pytest.raises(SlotUnavailable) as exc:
        slot_check(store=shop, day=days[1], starts_at=local(shop, days[1].date, 11))
    assert exc.value.code == "store_closed" and "店庆" in exc.value.message


def test_a_weekday_without_hours_is_closed(shop):
    shop.hours.filter(weekday=MONDAY.weekday()).delete()
    assert slots_for_store(store=shop, first_day=MONDAY, days=1, now=NOW).days[0].state == "closed"


def test_seats_fill_and_only_live_appointments_hold_one(shop):
    start = local(shop, MONDAY, 15)
    book_raw(shop, start, seat=1)
    day = slots_for_store(store=shop, first_day=MONDAY, days=1, now=NOW).days[0]
    assert next(s for s in day.slots if s.starts_at == start).free == 1
    book_raw(shop, start, seat=2, status="cancelled")
    book_raw(shop, start, seat=2, status="no_show")
    day = slots_for_store(store=shop, first_day=MONDAY, days=1, now=NOW).days[0]
    assert next(s for s in day.slots if s.starts_at == start).state == SlotState.FREE
    book_raw(shop, start, seat=2, status="checked_in")
    day = slots_for_store(store=shop, first_day=MONDAY, days=1, now=NOW).days[0]
    slot = next(s for s in day.slots if s.starts_at == start)
    assert slot.state == SlotState.FULL and slot.free == 0
    with pytest.raises(SlotTaken):
        slot_check(store=shop, day=day, starts_at=start)


def test_an_appointment_off_the_grid_blocks_every_slot_it_overlaps(shop):
    book_raw(shop, local(shop, MONDAY, 15, 30), seat=1)
    book_raw(shop, local(shop, MONDAY, 15, 30), seat=2)
    states = {s.label: s.state for s in
              slots_for_store(store=shop, first_day=MONDAY, days=1, now=NOW).days[0].slots}
    assert states["15:00"] == states["16:00"] == SlotState.FULL
    assert states["14:00"] == states["17:00"] == SlotState.FREE


def test_a_piece_only_at_the_warehouse_is_offered_after_its_transfer_time(shop, depot):
    variant = VariantFactory()
    stock_receive(store=depot, variant=variant, quantity=2)
    view = slots_for_store(store=shop, first_day=MONDAY, days=4, variant_ids=[variant.pk], now=NOW)
    assert view.pieces[0].source == depot and view.pieces[0].ready_on == MONDAY + timedelta(days=2)
    assert [d.free_slots for d in view.days] == [0, 0, 12, 12]
    assert {s.state for s in view.days[1].slots} == {SlotState.WAITING}
    with pytest.raises(SlotUnavailable) as exc:
        slot_check(store=shop, day=view.days[1], starts_at=view.days[1].slots[5].starts_at)
    assert exc.value.code == "pieces_not_ready"


def test_a_piece_in_the_store_needs_no_wait(shop, depot):
    variant = VariantFactory()
    stock_receive(store=shop, variant=variant, quantity=1)
    stock_receive(store=depot, variant=variant, quantity=5)
    view = slots_for_store(store=shop, first_day=MONDAY, days=1, variant_ids=[variant.pk], now=NOW)
    assert view.pieces[0].here == 1 and view.pieces[0].source is None
    assert view.days[0].free_slots == 11  # all but 10:00, inside the lead time


def test_days_beyond_the_booking_horizon_are_not_offered(shop):
    shop.booking_days = 3
    view = slots_for_store(store=shop, first_day=MONDAY, days=5, now=NOW)
    assert [d.state for d in view.days] == ["open", "open", "open", "beyond", "beyond"]


def test_unknown_variants_and_bad_spans_are_refused(shop):
    with pytest.raises(UnknownVariant):
        slots_for_store(store=shop, first_day=MONDAY, days=1, variant_ids=[999999], now=NOW)
    with pytest.raises(SlotUnavailable) as exc:
        slots_for_store(store=shop, first_day=MONDAY, days=60, now=NOW)
    assert exc.value.code == "bad_days"


def test_a_fortnight_of_slots_costs_a_fixed_small_number_of_queries(shop, depot,
                                                                    django_assert_max_num_queries):
    variants = VariantFactory.create_batch(3)
    for v in variants:
        stock_receive(store=depot, variant=v, quantity=2)
    stock_receive(store=shop, variant=variants[0], quantity=1)
    for offset in range(14):
        book_raw(shop, local(shop, MONDAY + timedelta(days=offset), 11), seat=1)
    closure(shop, MONDAY + timedelta(days=5))
    with django_assert_max_num_queries(5):
        view = slots_for_store(store=shop, first_day=MONDAY, days=14,
                               variant_ids=[v.pk for v in variants], now=NOW)
    assert len(view.days) == 14 and view.days[5].state == "closed"


def test_open_now_follows_the_store_clock(shop):
    closure(shop, MONDAY + timedelta(days=1), note="休息")
    weekly = weekly_hours(shop.hours.all())
    specials = specials_by_date(shop.special_hours.all())
    assert open_status(shop, weekly, specials, NOW).is_open is False
    assert open_status(shop, weekly, specials, NOW).next_opening == local(shop, MONDAY, 10)
    noon = datetime(2026, 3, 2, 4, 0, tzinfo=ZoneInfo("UTC"))  # 12:00 in Shanghai
    status = open_status(shop, weekly, specials, noon)
    assert status.is_open and status.closes_at == local(shop, MONDAY, 22)
    late = local(shop, MONDAY, 22, 30)
    # Tuesday is closed: the next opening is Wednesday's.
    assert open_status(shop, weekly, specials, late).next_opening == local(
        shop, MONDAY + timedelta(days=2), 10)
