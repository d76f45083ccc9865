"""Try-on slots: which times of which days a store can still seat a shopper.

A store offers a grid of ``tryon_minutes`` from its opening; a slot ends at or before
closing. A slot is bookable when it is not past, not inside the booking lead time, not
before the chosen pieces can be in the store (transfers), and a seat is free (live
appointments overlapping it are fewer than ``tryon_seats``).

Pure functions: stores.selectors.slots_for_store fetches the rows in a fixed number of
queries; stores.services.appointment_book calls ``slot_check`` on rows read under the
store's lock, so the page, the API and the booking agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .errors import SlotTaken, SlotUnavailable
from .hours import DayHours, Specials, Weekly, day_hours
from .models import Store

# An appointment as the slot maths sees it: (starts_at, ends_at, seat).
Busy = tuple[datetime, datetime, int]


class SlotState(StrEnum):
    FREE = "free"
    FULL = "full"
    PAST = "past"
    TOO_SOON = "too_soon"
    WAITING = "waiting"  # a chosen piece reaches the store only later (transfer)


class DayState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    BEYOND = "beyond"  # further ahead than the store takes bookings


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # aware, in the store's zone
    ends_at: datetime
    seats: int
    taken: int
    state: SlotState

    @property
    def free(self) -> int:
        return max(self.seats - self.taken, 0)

    @property
    def bookable(self) -> bool:
        return self.state == SlotState.FREE

    @property
    def iso(self) -> str:
        """The value the picker posts: local time with its offset."""
        return self.starts_at.isoformat()

    @property
    def label(self) -> str:
        return self.starts_at.strftime("%H:%M")


@dataclass(frozen=True)
class Day:
    date: date
    hours: DayHours
    state: DayState
    slots: list[Slot] = field(default_factory=list)

    @property
    def free_slots(self) -> int:
        return sum(1 for slot in self.slots if slot.bookable)

    @property
    def bookable(self) -> bool:
        return self.free_slots > 0


def _grid(store: Store, hours: DayHours) -> list[tuple[datetime, datetime]]:
    bounds = hours.bounds(store.zone)
    if bounds is None:
        return []
    opens, closes = bounds
    step = timedelta(minutes=store.tryon_minutes)
    starts = []
    start = opens
    while start + step <= closes:
        starts.append((start, start + step))
        start += step
    return starts


def local_today(store: Store, now: datetime) -> date:
    return now.astimezone(store.zone).date()


def last_bookable_day(store: Store, now: datetime) -> date:
    return local_today(store, now) + timedelta(days=store.booking_days - 1)


def compute_days(*, store: Store, first_day: date, days: int, weekly: Weekly,
                 specials: Specials, busy: Iterable[Busy], now: datetime,
                 ready_at: datetime | None = None) -> list[Day]:
    """``days`` consecutive days from ``first_day`` with every slot and its state."""
    zone = store.zone
    # Every moment in the store's zone: same-tzinfo comparisons are plain comparisons.
    now = now.astimezone(zone)
    lead_until = now + timedelta(minutes=store.booking_lead_minutes)
    ready = ready_at.astimezone(zone) if ready_at is not None else None
    horizon = last_bookable_day(store, now)
    seats = store.tryon_seats
    busy_by_day: dict[date, list[tuple[datetime, datetime]]] = defaultdict(list)
    for b_start, b_end, _seat in busy:
        b_start = b_start.astimezone(zone)
        # An appointment never spans midnight (stores close), so a day's list is enough.
        busy_by_day[b_start.date()].append((b_start, b_end.astimezone(zone)))

    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        hours = day_hours(day, weekly, specials)
        if hours.closed:
            result.append(Day(day, hours, DayState.CLOSED))
            continue
        if day > horizon:
            result.append(Day(day, hours, DayState.BEYOND))
            continue
        todays = busy_by_day.get(day, ())
        slots = []
        for start, end in _grid(store, hours):
            taken = sum(1 for b_start, b_end in todays if b_start < end and b_end > start)
            if start <= now:
                state = SlotState.PAST
            elif start < lead_until:
                state = SlotState.TOO_SOON
            elif ready is not None and start < ready:
                state = SlotState.WAITING
            elif taken >= seats:
                state = SlotState.FULL
            else:
                state = SlotState.FREE
            slots.append(Slot(start, end, seats, taken, state))
        result.append(Day(day, hours, DayState.OPEN, slots))
    return result


def slot_check(*, store: Store, day: Day, starts_at: datetime) -> Slot:
    """The bookable slot of ``day`` starting at ``starts_at``, or the reason it is not.

    Raises SlotUnavailable (400, with a code saying why) or SlotTaken (409, full).
    """
    when = date_format(starts_at.astimezone(store.zone), "DATETIME_FORMAT")
    if day.state == DayState.CLOSED:
        note = day.hours.note
        raise SlotUnavailable(
            _("The store is closed on %(date)s%(note)s.") % {
                "date": date_format(day.date, "DATE_FORMAT"), "note": f" ({note})" if note else ""},
            code="store_closed")
    if day.state == DayState.BEYOND:
        raise SlotUnavailable(
            _("The store takes bookings up to %(days)s days ahead.") % {"days": store.booking_days},
            code="too_far")
    slot = next((s for s in day.slots if s.starts_at == starts_at), None)
    if slot is None:
        raise SlotUnavailable(
            _("%(when)s is not one of the store's try-on times.") % {"when": when},
            code="not_a_slot")
    if slot.state == SlotState.PAST:
        raise SlotUnavailable(_("%(when)s has already passed.") % {"when": when},
                              code="slot_in_past")
    if slot.state == SlotState.TOO_SOON:
        raise SlotUnavailable(
            _("Please book at least %(minutes)s minutes ahead.")
            % {"minutes": store.booking_lead_minutes}, code="too_soon")
    if slot.state == SlotState.WAITING:
        raise SlotUnavailable(
            _("A piece you chose reaches this store only later; please pick a later day."),
            code="pieces_not_ready")
    if slot.state == SlotState.FULL:
        raise SlotTaken()
    return slot


def seat_free(*, store: Store, starts_at: datetime, ends_at: datetime,
              busy: Sequence[Busy]) -> int | None:
    """The lowest seat number no live appointment holds during [starts_at, ends_at)."""
    held = {seat for b_start, b_end, seat in busy if b_start < ends_at and b_end > starts_at}
    return next((seat for seat in range(1, store.tryon_seats + 1) if seat not in held), None)
