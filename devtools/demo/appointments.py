"""Writes the demo's try-on side: store services, holidays and special hours, and a week of
try-on appointments (past ones in every outcome, today's, upcoming ones) so the staff's
"today at my store" view is alive on the first run.

Idempotent: services are set, dated hours are found by (store, date), and appointments
are written once (an "imported" audit row with source "demo" marks them). Upcoming ones
go through the real booking service (seats, reservations, transfers); the past is
imported as it was found.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.db.models import F

from members.models import User
from stores import services
from stores.errors import SlotTaken, SlotUnavailable, SoldOut
from stores.models import (
    AppointmentEvent,
    AppointmentStatus,
    Outcome,
    Service,
    SpecialHours,
    StaffAssignment,
    StockLevel,
    Store,
    StoreKind,
)
from stores.selectors import slots_for_store

SOURCE = "demo"

# code -> (services, try-on minutes, transfer days from here)
SETUP: dict[str, tuple[list[str], int, int]] = {
    "sh-njxl": (list(Service.values), 45, 3),
    "bj-guomao": ([Service.TRYON, Service.ENGRAVING, Service.CLEANING, Service.APPRAISAL], 60, 3),
    "sz-mixc": ([Service.TRYON, Service.RESIZING, Service.CLEANING], 60, 3),
    "cd-taikooli": ([Service.TRYON, Service.ENGRAVING, Service.CLEANING], 60, 3),
    "wh-suzhou": ([], 60, 2),
}

# Fixed-date public holidays: (month, day, Chinese, English).
HOLIDAYS = [(1, 1, "元旦", "New Year's Day"), (5, 1, "劳动节", "Labour Day"),
            (10, 1, "国庆节", "National Day")]

GUESTS = ["赵女士", "钱先生", "孙小姐", "李女士", "周先生", "吴小姐", "郑女士", "王先生", "冯小姐",
          "陈女士", "褚先生", "卫小姐", "蒋女士", "沈小姐", "韩先生", "杨女士"]
NOT_BOUGHT = ["想再考虑一下", "尺寸不合适，等调货", "和家人商量后再来", "预算有变化",
              "Wants to compare with another ring"]
NOTES = ["", "", "想看看婚戒对戒", "手寸12号", "给妈妈挑生日礼物", "周年纪念", ""]


def _next_weekday(today: date, weekday: int) -> date:
    ahead = (weekday - today.weekday()) % 7 or 7
    return today + timedelta(days=ahead)


def _next_holiday(today: date) -> tuple[date, str, str]:
    candidates = []
    for year in (today.year, today.year + 1):
        for month, day, zh, en in HOLIDAYS:
            when = date(year, month, day)
            if when >= today + timedelta(days=10):
                candidates.append((when, zh, en))
    return min(candidates)


def services_load(*, stores: dict[str, Store]) -> None:
    for code, (offered, minutes, dispatch) in SETUP.items():
        store = stores.get(code)
        if store is None:
            continue
        Store.objects.filter(pk=store.pk).update(services=offered, tryon_minutes=minutes,
                                                 dispatch_days=dispatch)
        store.refresh_from_db()


def special_hours_load(*, stores: dict[str, Store], today: date) -> int:
    """A holiday ahead with short hours (the warehouse shut), one store closed next
    Tuesday, a late opening next Saturday. Returns how many dated rows were written."""
    holiday, zh, en = _next_holiday(today)
    rows = []
    for store in stores.values():
        if store.kind == StoreKind.WAREHOUSE:
            rows.append((store, holiday, True, None, None, zh, en))
        else:
            rows.append((store, holiday, False, time(12, 0), time(18, 0), zh, en))
    if "bj-guomao" in stores:
        rows.append((stores["bj-guomao"], _next_weekday(today, 1), True, None, None,
                     "店内升级改造，暂停营业一天", "Closed for refurbishment"))
    if "sz-mixc" in stores:
        rows.append((stores["sz-mixc"], _next_weekday(today, 5), False, time(10, 0),
                     time(23, 0), "周年店庆·延长营业", "Anniversary: open late"))
    for store, day, closed, opens, closes, note, note_en in rows:
        SpecialHours.objects.update_or_create(store=store, date=day, defaults={
            "closed": closed, "opens": opens, "closes": closes, "note": note, "note_en": note_en})
    return len(rows)


def tryon_load(*, now: datetime, stores: dict[str, Store], members: list[User],
               shopper: User) -> tuple[int, int]:
    """Services, dated hours and a week of appointments. Returns (dated rows, appointments)."""
    services_load(stores=stores)
    stores = {code: Store.objects.get(pk=store.pk) for code, store in stores.items()}
    shops = [s for s in stores.values() if s.kind == StoreKind.STORE]
    today = now.astimezone(shops[0].zone).date() if shops else now.date()
    dated = special_hours_load(stores=stores, today=today)
    if AppointmentEvent.objects.filter(kind="imported", data__source=SOURCE).exists():
        return dated, 0
    staff = {a.store_id: a.user for a in StaffAssignment.objects.select_related("user")
             .order_by("role", "pk")}
    made = 0
    for store in shops:
        rng = random.Random(f"2026:tryons:{store.code}")
        stock = list(StockLevel.objects.filter(store=store, on_hand__gt=F("reserved"))
                     .select_related("variant__product").order_by("variant__sku"))
        elsewhere = list(StockLevel.objects.filter(store__kind=StoreKind.WAREHOUSE,
                                                   on_hand__gt=F("reserved") + 2)
                         .exclude(variant__in=[level.variant for level in stock])
                         .select_related("variant").order_by("variant__sku")[:20])
        if not stock:
            continue
        for offset in range(-4, 5):
            day = today + timedelta(days=offset)
            made += _day_load(store=store, day=day, offset=offset, now=now, rng=rng, stock=stock,
                              elsewhere=elsewhere, staff=staff.get(store.pk), members=members,
                              shopper=shopper)
    return dated, made


def _contact(rng: random.Random, members: list[User]) -> dict:
    if members and rng.random() < 0.45:
        member = rng.choice(members)
        return {"member": member, "contact_name": member.name, "contact_phone": member.phone,
                "contact_email": member.email or ""}
    return {"member": None, "contact_name": rng.choice(GUESTS),
            "contact_phone": f"+86139{rng.randrange(10**8):08d}", "contact_email": ""}


def _day_load(*, store: Store, day: date, offset: int, now: datetime, rng: random.Random,
              stock: list, elsewhere: list, staff: User | None, members: list[User],
              shopper: User) -> int:
    view = slots_for_store(store=store, first_day=max(day, now.astimezone(store.zone).date()),
                           days=1, now=now) if offset >= 0 else None
    hours = store.hours.filter(weekday=day.weekday()).first()
    if hours is None:
        return 0
    grid = []
    start = datetime.combine(day, hours.opens, tzinfo=store.zone)
    close = datetime.combine(day, hours.closes, tzinfo=store.zone)
    while start + timedelta(minutes=store.tryon_minutes) <= close:
        grid.append(start)
        start += timedelta(minutes=store.tryon_minutes)
    picks = sorted(rng.sample(grid, k=min(len(grid), rng.randint(3, 6))))
    made = 0
    for index, starts_at in enumerate(picks):
        pieces = [level.variant for level in rng.sample(stock, k=min(len(stock), rng.randint(1, 3)))]
        who = _contact(rng, members)
        if store.code == "sh-njxl" and offset in (-3, 2) and index == 0:
            who = {"member": shopper, "contact_name": shopper.name, "contact_phone": shopper.phone,
                   "contact_email": shopper.email or ""}
        note = rng.choice(NOTES)
        ends_at = starts_at + timedelta(minutes=store.tryon_minutes)
        try:
            if ends_at <= now:  # the past, imported with how it went
                roll = rng.random()
                if roll < 0.45:
                    status, outcome = AppointmentStatus.COMPLETED, Outcome.BOUGHT
                elif roll < 0.75:
                    status, outcome = AppointmentStatus.COMPLETED, Outcome.NOT_BOUGHT
                elif roll < 0.88:
                    status, outcome = AppointmentStatus.NO_SHOW, Outcome.NONE
                else:
                    status, outcome = AppointmentStatus.CANCELLED, Outcome.NONE
                services.appointment_create_historical(
                    store=store, starts_at=starts_at, status=status, variants=pieces, note=note,
                    staff=staff if status == AppointmentStatus.COMPLETED else None,
                    outcome=outcome, source=SOURCE,
                    outcome_reason=rng.choice(NOT_BOUGHT) if outcome == Outcome.NOT_BOUGHT else "",
                    order_reference=f"O{day:%y%m%d}{rng.randrange(10**5):05d}"
                    if outcome == Outcome.BOUGHT and rng.random() < 0.7 else "",
                    cancel_reason="行程有变" if status == AppointmentStatus.CANCELLED else "",
                    booked_at=starts_at - timedelta(days=rng.randint(1, 6)), **who)
            elif starts_at <= now:  # in progress: the shopper is in the store
                services.appointment_create_historical(
                    store=store, starts_at=starts_at, status=AppointmentStatus.CHECKED_IN,
                    variants=pieces, note=note, staff=staff, source=SOURCE,
                    booked_at=starts_at - timedelta(days=1), **who)
            else:
                slot = next((s for s in view.days[0].slots if s.starts_at == starts_at), None)
                if slot is None or not slot.bookable:
                    continue
                if elsewhere and offset >= 3 and index == len(picks) - 1:
                    pieces = [rng.choice(elsewhere).variant]  # it comes by transfer
                appointment = services.appointment_book(
                    store=store, starts_at=starts_at, variant_ids=[p.pk for p in pieces],
                    contact_name=who["contact_name"], contact_phone=who["contact_phone"],
                    contact_email=who["contact_email"], member=who["member"], note=note,
                    now=now, notify=False)
                AppointmentEvent.objects.create(appointment=appointment, kind="imported",
                                                at=now, data={"source": SOURCE})
                if offset >= 1 and index == 1 and rng.random() < 0.5:
                    services.appointment_cancel(appointment=appointment, by_shopper=True,
                                                reason="时间冲突", now=now, notify=False)
        except (SlotTaken, SlotUnavailable, SoldOut):
            continue
        made += 1
    return made
