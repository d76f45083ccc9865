"""Try-on slots cached per store and day (the slots API asks for up to MAX_SLOT_DAYS).

Seats change only by the appointment services, so each (store, day) has a token that
they move after commit (``slots_changed``): a booking, a move (both days), a cancel, a
no-show or a completion. A cached answer records the tokens of the days it covers
(catalog.cache's dependencies) and the catalog version (a store's hours and settings are
saved through the admin, which moves it), and is served while they stand and until the
clock changes a slot's state: the next start to pass or to come inside the booking lead
time, or the store's midnight, whichever is first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.core.validators import slug_re
from django.db import transaction
from django.utils.translation import get_language

from catalog.cache import Entry, catalog_version, collecting, depend_on, fresh, single_flight

from .models import Store
from .selectors import store_by_ref
from .slots import Day, SlotState

DAY_KEY = "stores:slots:{store}:{day}"
TIMEOUT = 3600


def slots_changed(*, store_id: int, moments: Iterable[datetime], zone) -> None:
    """After commit, move the tokens of the days (in the store's ``zone``) of ``moments``."""
    keys = {DAY_KEY.format(store=store_id, day=m.astimezone(zone).date()) for m in moments}
    transaction.on_commit(lambda: cache.set_many(dict.fromkeys(keys, time.time_ns()),
                                                 timeout=None))


def store_by_ref_cached(ref: str, *, version: int | None = None) -> Store | None:
    """``selectors.store_by_ref`` kept per catalog version (a store's edits in the admin
    move it, as they do for the cached answers): a cached slots answer then costs no
    query at all. Only a reference a store could have (a slug, as ``Store.code``, or an
    id) is looked up and kept: anything else typed into the URL goes to the database and
    makes no cache key. ``version``: the catalog version the caller read already (one
    Redis read less)."""
    if len(ref) > 64 or not slug_re.match(ref):
        return store_by_ref(ref)
    key = f"stores:by-ref:{catalog_version() if version is None else version}:{ref}"
    found = cache.get(key)
    if found is None:
        found = store_by_ref(ref)
        if found is not None:
            cache.set(key, found, TIMEOUT)
    return found


def _valid_until(store: Store, days: list[Day], now: datetime) -> float:
    """The first moment the clock changes one of ``days``' slots (a POSIX timestamp)."""
    lead = timedelta(minutes=store.booking_lead_minutes)
    local = now.astimezone(store.zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=store.zone)
    moments = [midnight]
    for day in days:
        for slot in day.slots:
            if slot.state in (SlotState.FREE, SlotState.FULL, SlotState.TOO_SOON):
                moments += [m for m in (slot.starts_at - lead, slot.starts_at) if m > now]
    return min(moments).timestamp()


def slots_cached(*, store: Store, first_day: date, days: int, now: datetime,
                 build: Callable[[], tuple[list[Day], Any]], version: int | None = None) -> Any:
    """``build()``'s answer (it returns the days and the answer made of them), cached for
    ``store`` and the days from ``first_day`` as the module says (``version`` as for
    ``store_by_ref_cached``)."""
    tokens = [DAY_KEY.format(store=store.pk, day=first_day + timedelta(days=n))
              for n in range(days)]
    version = catalog_version() if version is None else version
    key = f"stores:slots:{version}:{get_language()}:{store.pk}:{first_day}:{days}"
    entry = cache.get(key)
    if fresh(entry) and now.timestamp() < entry.value[0]:
        return entry.value[1]
    with single_flight(key) as builder:
        if not builder:
            entry = cache.get(key)
            if fresh(entry) and now.timestamp() < entry.value[0]:
                return entry.value[1]
        with collecting() as deps:
            found = cache.get_many(tokens)  # before the reads, as catalog.cache says
            depend_on({token: found.get(token) for token in tokens})
            computed, answer = build()
        cache.set(key, Entry((_valid_until(store, computed, now), answer), deps), TIMEOUT)
    return answer
