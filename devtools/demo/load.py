"""Runs the demo writers in dependency order, in one transaction."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from catalog import services as catalog_services
from catalog.facet_counts import facets_rebuild
from catalog.floor import floor_rebuild

from . import (
    appointments,
    catalog,
    dashboards,
    feedback,
    journeys,
    loyalty,
    marketing,
    orders,
    people,
    stores,
)

# What a full and a small demo hold.
FULL = {"members": 600, "orders_per_day": 4.2}
SMALL = {"members": 40, "orders_per_day": 0.5}

# The models the summary counts, in the order it prints them.
COUNTED = [
    "catalog.Category", "catalog.Collection", "catalog.Product", "catalog.Variant",
    "catalog.Certificate", "catalog.ProductImage", "catalog.MetalRate",
    "stores.Store", "stores.OpeningHours", "stores.StockLevel",
    "members.User", "members.MemberProfile", "stores.StaffAssignment",
    "orders.Order", "orders.OrderLine", "orders.Payment", "orders.OrderEvent",
    "members.PointsEntry", "members.Consent", "members.CouponDefinition",
    "members.CouponBatch", "members.Coupon", "members.Redemption",
    "feedback.Survey", "feedback.SurveyInvitation", "feedback.SurveyResponse",
    "feedback.FeedbackCase",
    "marketing.Segment", "marketing.Campaign", "marketing.Touch", "marketing.MemberView",
    "journeys.Journey", "journeys.JourneyEnrolment", "journeys.GoldPriceAlert",
]


@dataclass
class Report:
    steps: list[tuple[str, str, float]] = field(default_factory=list)

    def step(self, name: str, detail: str, started: float) -> None:
        self.steps.append((name, detail, time.monotonic() - started))


def row_counts() -> dict[str, int]:
    """Rows of every model the demo writes: the loader's idempotence is checked with it."""
    return {label: apps.get_model(label).objects.count() for label in COUNTED}


@transaction.atomic
def demo_load(*, small: bool = False, log: Callable[[str], None] = lambda _line: None) -> Report:
    """Load (or complete) the demo shop. Idempotent: rows are found by natural keys, so a
    second run adds none. All or nothing: one transaction (photo files of a failed run
    stay on disk and are overwritten by the next)."""
    size = SMALL if small else FULL
    now = timezone.now()
    report = Report()

    started = time.monotonic()
    categories = catalog.categories_load()
    collections = catalog.collections_load()
    new_rates = catalog.metal_rates_load(now=now)
    report.step("metal rates", f"{new_rates} new", started)

    started = time.monotonic()
    specs, numbers = catalog.demo_specs(small=small)
    products = catalog.products_load(specs=specs, numbers=numbers, categories=categories,
                                     collections=collections)
    report.step("catalogue", f"{len(products)} products", started)

    started = time.monotonic()
    total = len(products)

    def photo_progress(done: int) -> None:
        if done % 25 == 0:
            log(f"  photos: {done}/{total} products")

    # The small demo runs inside test processes: no worker processes there.
    photos, renditions = catalog.images_load(products=products, parallel=not small,
                                             progress=photo_progress)
    report.step("photos", f"{photos} new, {renditions} rendition sets", started)

    started = time.monotonic()
    searchable = catalog_services.product_search_refresh()
    repriced = catalog_services.prices_refresh(reason="demo")
    report.step("search and prices", f"{searchable} indexed, {repriced} repriced", started)

    started = time.monotonic()
    places = stores.stores_load()
    receipts = stores.stock_load(products=products, stores=places)
    report.step("stores and stock", f"{len(places)} places, {receipts} receipts", started)

    started = time.monotonic()
    staff = people.staff_load(stores=places)
    shopper = people.demo_shopper_load()
    members = people.members_load(count=size["members"], now=now)
    report.step("people", f"{len(staff)} staff, {len(members) + 1} members", started)

    started = time.monotonic()
    dated, tryons = appointments.tryon_load(now=now, stores=places, members=members, shopper=shopper)
    report.step("try-ons", f"{dated} dated hours, {tryons} appointments", started)

    started = time.monotonic()
    counter_staff: dict[str, list] = {}
    for spec in people.STAFF:
        if spec.store:
            counter_staff.setdefault(spec.store, []).append(staff[spec.email])
    created = orders.orders_load(now=now, members=members, shopper=shopper, stores=places,
                                 staff=counter_staff, products=products,
                                 per_day=size["orders_per_day"])
    report.step("orders", f"{created} new" if created else "already there", started)

    # Loyalty: members in every tier (big purchases in the history), points for what
    # reached them, consents and coupons; today's orders then use them.
    started = time.monotonic()
    big = loyalty.top_spenders_load(now=now, members=members, shopper=shopper, stores=places,
                                    staff=counter_staff, products=products, small=small)
    report.step("top spenders", f"{big} orders" if big else "already there", started)

    # Two years for the dashboards: older sales, visits, try-ons, places, stock ages. After
    # the top spenders (they look at the last months' spend), before the points (earned
    # on the older sales too).
    started = time.monotonic()
    story = dashboards.dashboards_load(now=now, members=members, stores=places,
                                       staff=counter_staff, products=products,
                                       per_day=size["orders_per_day"], small=small)
    report.step("dashboards", str(story), started)

    started = time.monotonic()
    points = loyalty.points_history_load(now=now, shopper=shopper)
    report.step("points and tiers", (f"{points.earned} earned, {points.redeemed} redeemed; "
                                     if points.earned else "") + loyalty.tiers_summary(), started)

    started = time.monotonic()
    consents = loyalty.consents_load(now=now, members=members, shopper=shopper, stores=places,
                                     staff=counter_staff)
    report.step("consents", f"{consents} new" if consents else "already there", started)

    started = time.monotonic()
    coupons = loyalty.coupons_load(now=now, members=members, shopper=shopper,
                                   marketer=staff.get("marketer@o2o.example"))
    report.step("coupons", f"{coupons.definitions} offers, {coupons.issued} coupons issued"
                if coupons.issued else "already there", started)

    started = time.monotonic()
    live = orders.live_orders_load(stores=places, staff=counter_staff, shopper=shopper,
                                   members=members)
    report.step("live orders", f"{live.created} new, {live.waiting} pickups waiting"
                if live.created else "already there", started)

    started = time.monotonic()
    used = loyalty.loyalty_orders_load(stores=places, staff=counter_staff, shopper=shopper,
                                       members=members, products=products)
    report.step("coupons used", (f"{used.online} online, {used.counter} at counters: "
                                 if used.online or used.counter else "already there: ")
                + loyalty.loyalty_summary(), started)

    # Marketing: segments, a campaign sent four days ago (holdout, redemptions online and
    # at counters), one scheduled, a draft. Before the surveys are published, as the live
    # orders are: its redemptions are sales of the last days, not moments to survey now
    # (a counter sale after the surveys would queue a real invitation to a made-up member).
    started = time.monotonic()
    reached = marketing.marketing_load(now=now, stores=places, staff=counter_staff,
                                       members=members, products=products,
                                       marketer=staff.get("marketer@o2o.example"))
    report.step("marketing", (f"{reached.segments} segments; a campaign sent to {reached.sent}"
                              f" ({reached.held_out} held out), redeemed "
                              f"{reached.redeemed_online} online and {reached.redeemed_counter}"
                              " at counters" if reached.sent else "already there"), started)

    # Feedback: surveys for every moment, ten weeks of answers and some open cases.
    started = time.monotonic()
    answers = feedback.feedback_load(now=now, stores=places, staff=counter_staff,
                                     shopper=shopper)
    report.step("feedback", (f"{answers.invited} invited, {answers.answered} answered, "
                             f"{answers.cases_open} cases open" if answers.invited
                             else "already there"), started)
    if answers.shopper_link:
        log(f"  the demo shopper's survey: {answers.shopper_link}")

    # What members viewed (the segments' "viewed" rule) and a segment that uses it.
    started = time.monotonic()
    looked = marketing.views_load(now=now, members=members, shopper=shopper, products=products,
                                  marketer=staff.get("marketer@o2o.example"))
    report.step("viewed", (f"{looked.pairs} pieces viewed by {looked.members} members; "
                           f"{looked.segment_members} in “{marketing.VIEWED_NAME}”"
                           if looked.pairs else "already there"), started)

    # Journeys: the built-ins on, today's entries and first messages, 林小姐's gold alert.
    started = time.monotonic()
    moments = journeys.journeys_load(now=now, shopper=shopper)
    report.step("journeys", f"{moments.entered} members entered, {moments.sent} messages"
                if moments.entered else "already there", started)

    # The nightly job, once now: "often bought together" and popularity from the demo's
    # orders, so product pages show them from the first visit.
    from analytics.services import product_insights_refresh

    started = time.monotonic()
    insights = product_insights_refresh()
    report.step("insights", f"{insights['bought_pairs']} bought together, "
                            f"{insights['popular']} popular", started)

    started = time.monotonic()
    report.step("rollups", dashboards.rollups_load(now=now), started)

    # Products and stock written in bulk above: the list's facets count again
    # (catalog.facet_counts, catalog.floor).
    started = time.monotonic()
    facets_rebuild()
    floor_rebuild()
    report.step("floor counts", "counted", started)
    return report
