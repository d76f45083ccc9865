"""Shopper pages: the store finder, a store's page, booking a try-on and managing it.

Thin: parse the request, call a selector or a service, render. Booking rules and their
error messages come from stores.services (the API calls the same functions).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.models import Product, Variant
from o2o.errors import reported

from . import selectors, services
from .errors import BadLink
from .forms import BookingForm, CancelForm, RescheduleForm
from .ics import appointment_ics
from .models import Appointment, AppointmentStatus, OpeningHours, Service
from .slots import DayState, SlotState
from .tokens import appointment_manage_path, appointment_number_from_token

PICKER_DAYS = 14


def store_list(request):
    """Shops by city, with open-now; nearest first when the browser shared a position."""
    city = request.GET.get("city", "").strip()[:40]
    service = request.GET.get("service", "")
    service = service if service in Service.values else ""
    lat = selectors.coordinate(request.GET.get("lat"), 90)
    lng = selectors.coordinate(request.GET.get("lng"), 180)
    if lat is None or lng is None:
        lat = lng = None
    cards = selectors.stores_for_finder(city=city, service=service, lat=lat, lng=lng)
    return render(request, "stores/store_list.html", {
        "cards": cards, "city": city, "service": service, "services": Service.choices,
        "cities": selectors.store_cities(), "located": lat is not None,
    })


def store_detail(request, code):
    store = selectors.store_by_code(code)
    if store is None:
        raise Http404(_("There is no such store."))
    card = selectors.store_card(store, days=60)
    today = timezone.now().astimezone(store.zone).date()
    week = []
    for weekday in range(7):
        hours = card.weekly.get(weekday)
        week.append({"weekday": weekday, "label": OpeningHours.Weekday(weekday).label,
                     "opens": hours[0] if hours else None,
                     "closes": hours[1] if hours else None,
                     "today": weekday == today.weekday()})
    special = sorted((s for d, s in card.specials.items() if d >= today), key=lambda s: s.date)
    return render(request, "stores/store_detail.html", {
        "store": store, "card": card, "week": week, "special_days": special, "today": today,
        "services": [(value, label) for value, label in Service.choices if store.offers(value)],
        "products": selectors.products_in_stock_at(store),
    })


# --- Booking -------------------------------------------------------------------------------


def _ids(values) -> list[int]:
    ids = []
    for value in values:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return list(dict.fromkeys(ids))[:selectors.MAX_PIECES]


def _picker(view: selectors.SlotsView, chosen_day: str | None, chosen_slot=None) -> dict:
    """Days across the top, times as buttons: which day is open, and why a time is not."""
    days = view.days
    selected = next((d for d in days if d.date.isoformat() == chosen_day), None)
    if chosen_slot is not None:
        selected = next((d for d in days if d.date == chosen_slot.astimezone(
            view.store.zone).date()), selected)
    if selected is None:
        selected = next((d for d in days if d.bookable), days[0] if days else None)
    return {"days": days, "selected_day": selected, "chosen_slot": chosen_slot,
            "DayState": DayState, "SlotState": SlotState, "store": view.store,
            "ready_at": view.ready_at}


def appointment_book(request):
    """Book a try-on: pieces and store (a GET form), then a time and contact details (POST).

    Entry: ``?product=<slug>`` (a product page) and/or ``?store=<code>`` (a store page).
    """
    product = None
    if slug := request.GET.get("product", "").strip():
        product = Product.objects.active().filter(slug=slug).first()
        if product is None:
            raise Http404(_("This piece is not in the catalogue."))
    stores = selectors.tryon_stores()
    store_code = request.POST.get("store") or request.GET.get("store", "")
    store = next((s for s in stores if s.code == store_code), None)
    chosen = _ids(request.POST.getlist("variant") or request.GET.getlist("variant"))

    # The pieces to choose from: the product's, else what the chosen store has.
    if product is not None:
        candidates = list(product.variants.filter(is_active=True).select_related("product"))
    elif store is not None:
        candidates = selectors.variants_in_stock_at(store)
    else:
        candidates = []
    known = {v.pk for v in candidates}
    extra = list(Variant.objects.filter(pk__in=[c for c in chosen if c not in known],
                                               is_active=True).select_related("product"))
    candidates += extra
    if not chosen and len(candidates) == 1:
        chosen = [candidates[0].pk]
    chosen = [c for c in chosen if c in {v.pk for v in candidates}]

    availability = selectors.availability_for_variants(v.pk for v in candidates)
    store_rows = []
    for s in stores:
        here = [vid for vid in chosen if any(place.pk == s.pk for place, _n in availability.get(vid, []))]
        store_rows.append({"store": s, "here": len(here), "all_here": bool(chosen) and len(here) == len(chosen)})
    piece_rows = [{"variant": v, "available": bool(availability.get(v.pk)),
                   "here": store is not None and any(p.pk == store.pk for p, _n in availability.get(v.pk, [])),
                   "checked": v.pk in chosen} for v in candidates]

    form = None
    picker = None
    error = None
    if store is not None and chosen:
        initial = {"store": store.code, "variant": chosen}
        user = request.user
        if user.is_authenticated:
            initial.update(name=user.name, phone=user.phone or "", email=user.email or "")
        if request.method == "POST":
            form = BookingForm(request.POST, initial=initial)
            if form.is_valid():
                data = form.cleaned_data
                with reported() as outcome:
                    appointment = services.appointment_book(
                        store=store, starts_at=data["slot"], variant_ids=data["variant"],
                        contact_name=data["name"], contact_phone=data["phone"],
                        contact_email=data["email"], note=data["note"],
                        member=user if user.is_authenticated else None,
                        language="" if user.is_authenticated else get_language())
                error = outcome.error
                if outcome.ok:
                    return redirect(appointment_manage_path(appointment, language=get_language())
                                    + "?booked=1")
        else:
            form = BookingForm(initial=initial)
        with reported() as outcome:
            view = selectors.slots_for_store(store=store, first_day=timezone.now().astimezone(
                store.zone).date(), days=PICKER_DAYS, variant_ids=chosen)
        error = error or outcome.error
        if outcome.ok:
            slot = form.cleaned_data.get("slot") if form.is_bound and hasattr(form, "cleaned_data") else None
            picker = _picker(view, request.GET.get("day"), slot)
            picker["pieces"] = view.pieces

    return render(request, "stores/appointment_book.html", {
        "product": product, "store": store, "store_rows": store_rows, "piece_rows": piece_rows,
        "chosen": chosen, "form": form, "picker": picker, "error": error,
        "max_pieces": selectors.MAX_PIECES,
    })


def _appointment_from_token(token: str) -> tuple[Appointment, str]:
    try:
        number = appointment_number_from_token(token)
    except BadLink:
        raise Http404(_("This link is not valid or has expired.")) from None
    appointment = selectors.appointment_for_page(number)
    if appointment is None:
        raise Http404(_("This appointment no longer exists."))
    return appointment, token


def appointment_manage(request, token):
    """The booking's own page (the confirmation after booking): see, change or cancel."""
    appointment, token = _appointment_from_token(token)
    can_change = (appointment.status == AppointmentStatus.BOOKED
                  and appointment.starts_at > timezone.now())
    return render(request, "stores/appointment_manage.html", {
        "appointment": appointment, "token": token, "can_change": can_change,
        "just_booked": request.GET.get("booked") == "1", "cancel_form": CancelForm(),
        "calendar_url": reverse("stores:appointment_calendar", kwargs={"token": token}),
    })


def appointment_calendar(request, token):
    """The appointment as an .ics file, for the "add to calendar" link."""
    appointment, _token = _appointment_from_token(token)
    ics = appointment_ics(appointment, summary=_("Try-on at %(store)s") % {
        "store": appointment.store.title}, description=appointment.number,
        cancelled=appointment.status == AppointmentStatus.CANCELLED)
    response = HttpResponse(ics, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tryon-{appointment.number}.ics"'
    return response


@require_POST
def appointment_cancel(request, token):
    appointment, token = _appointment_from_token(token)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    with reported(request) as outcome:
        services.appointment_cancel(appointment=appointment, reason=reason, by_shopper=True,
                                    actor=request.user if request.user.is_authenticated else None)
    if outcome.ok:
        messages.success(request, _("Your try-on is cancelled. We hope to see you another time."))
    return redirect("stores:appointment_manage", token=token)


def appointment_reschedule(request, token):
    appointment, token = _appointment_from_token(token)
    if appointment.status != AppointmentStatus.BOOKED or appointment.starts_at <= timezone.now():
        messages.error(request, _("This appointment can no longer be moved."))
        return redirect("stores:appointment_manage", token=token)
    form = RescheduleForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        with reported() as outcome:
            services.appointment_reschedule(appointment=appointment,
                                            starts_at=form.cleaned_data["slot"])
        error = outcome.error
        if outcome.ok:
            messages.success(request, _("Your try-on has a new time."))
            return redirect("stores:appointment_manage", token=token)
    store = appointment.store
    view = selectors.slots_for_store(
        store=store, first_day=timezone.now().astimezone(store.zone).date(), days=PICKER_DAYS,
        exclude=appointment, ready=selectors.appointment_ready_at(appointment))
    picker = _picker(view, request.GET.get("day") or appointment.local_start.date().isoformat())
    picker["current"] = appointment.starts_at
    return render(request, "stores/appointment_reschedule.html", {
        "appointment": appointment, "token": token, "form": form, "picker": picker,
        "error": error,
    })



@login_required
def my_appointments(request):
    """The member's try-ons, in their account (members knows nothing of stores)."""
    return render(request, "stores/my_appointments.html",
                  {"appointments": selectors.appointments_for_member(request.user)})
