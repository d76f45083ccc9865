"""Opening hours as a store keeps them: a week of hours, overridden by dated closures and
special hours, read in the store's own time zone (``Store.zone``).

Pure functions over rows the caller already fetched (stores.selectors fetches them in a
fixed number of queries), so the finder, the store page, the slot picker and the API
agree on one reading of "open".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .models import OpeningHours, SpecialHours, Store

Weekly = dict[int, tuple[time, time]]  # weekday (Monday 0) -> (opens, closes)
Specials = dict[date, SpecialHours]


@dataclass(frozen=True)
class DayHours:
    """What a store keeps on one date; ``opens`` is None on a closed day."""

    date: date
    opens: time | None
    closes: time | None
    special: SpecialHours | None = None

    @property
    def closed(self) -> bool:
        return self.opens is None

    @property
    def note(self) -> str:
        return self.special.note_title if self.special else ""

    def bounds(self, zone) -> tuple[datetime, datetime] | None:
        """Opening and closing as aware datetimes in ``zone``; None when closed."""
        if self.opens is None or self.closes is None:
            return None
        return (datetime.combine(self.date, self.opens, tzinfo=zone),
                datetime.combine(self.date, self.closes, tzinfo=zone))


def weekly_hours(rows: Iterable[OpeningHours]) -> Weekly:
    return {row.weekday: (row.opens, row.closes) for row in rows}


def specials_by_date(rows: Iterable[SpecialHours]) -> Specials:
    return {row.date: row for row in rows}


def day_hours(day: date, weekly: Weekly, specials: Specials) -> DayHours:
    """A dated closure or special hours win over the week's hours; no row means closed."""
    special = specials.get(day)
    if special is not None:
        if special.closed:
            return DayHours(day, None, None, special)
        return DayHours(day, special.opens, special.closes, special)
    hours = weekly.get(day.weekday())
    if hours is None:
        return DayHours(day, None, None)
    return DayHours(day, hours[0], hours[1])


@dataclass(frozen=True)
class OpenStatus:
    is_open: bool
    today: DayHours
    closes_at: datetime | None  # when open: today's closing
    next_opening: datetime | None  # when closed: the next opening within a fortnight


def open_status(store: Store, weekly: Weekly, specials: Specials, now: datetime) -> OpenStatus:
    """Is ``store`` open at ``now``, read on the store's wall clock."""
    local = now.astimezone(store.zone)
    today = day_hours(local.date(), weekly, specials)
    bounds = today.bounds(store.zone)
    if bounds and bounds[0] <= local < bounds[1]:
        return OpenStatus(True, today, bounds[1], None)
    next_opening = None
    if bounds and local < bounds[0]:
        next_opening = bounds[0]
    else:
        for ahead in range(1, 15):
            later = day_hours(local.date() + timedelta(days=ahead), weekly, specials)
            if (later_bounds := later.bounds(store.zone)) is not None:
                next_opening = later_bounds[0]
                break
    return OpenStatus(False, today, None, next_opening)
