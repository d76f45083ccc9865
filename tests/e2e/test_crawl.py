"""Each role, in a real browser, opens every page its menus lead to and sends every form
on them with valid input: no answer of the shop may be a 4xx or 5xx it did not mean.

The kind of fault this catches: a page whose forms all fail (a referrer policy that
made Chromium post ``Origin: null``), a menu entry that leads to a 403, a list that
wraps names a character a line, a missing file a page asks for. The shop runs on the
live server's random port (never 8000) with SHOP_BASE_URL set to it, as `make run`
sets it, so links built from settings are opened too. The data is the demo's (the
small one), with its logins. Screenshots of every page and every form sent land in
test-artifacts/crawl/<role>/, and the list of pages and forms in
test-artifacts/crawl/report.txt.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from .crawler import Visit, crawl

pytestmark = [pytest.mark.e2e, pytest.mark.long, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "crawl"
STOREFRONT_MENUS = "header a, .topbar a, footer a, nav a"
ADMIN_MENUS = "#content-main a, #nav-sidebar a"


def demo_values() -> dict[str, dict[str, str]]:
    """Valid input taken from the demo's own records, per role."""
    from catalog.models import Certificate
    from orders.models import Fulfilment, Order, OrderStatus
    from orders.services.pickup import pickup_phone_tail
    from stores.models import StaffAssignment, StockLevel

    certificate = Certificate.objects.order_by("pk").first()
    clerk_store = StaffAssignment.objects.filter(user__email="staff@o2o.example").values_list(
        "store_id", flat=True).first()
    waiting = (Order.objects.filter(store_id=clerk_store, fulfilment=Fulfilment.PICKUP,
                                    status=OrderStatus.READY_FOR_PICKUP)
               .exclude(pickup_code="").order_by("pk").first())
    in_stock = (StockLevel.objects.filter(store_id=clerk_store, on_hand__gte=2, reserved=0,
                                          variant__is_active=True,
                                          variant__product__is_active=True)
                .select_related("variant").order_by("pk").first())
    password = settings.DEMO_PASSWORD
    staff = {"password": password, "q": waiting.pickup_code if waiting else "",
             "phone_tail": pickup_phone_tail(waiting) if waiting else "",
             "sku": in_stock.variant.sku if in_stock else "", "phone": "139 0000 6666"}
    return {
        "guest": {"certificate": f"{certificate.lab} {certificate.number}",
                  "login": "member@o2o.example", "password": password,
                  "email": "crawl.guest@example.com", "phone": "139 0000 7777"},
        "member": {"certificate": certificate.number, "password": password,
                   "email": "member@o2o.example", "phone": "139 0000 8888"},
        "clerk": staff, "manager": {**staff, "phone": "139 0000 5555"},
        "marketer": {"password": password, "phone": "139 0000 4444"},
    }


def sign_in_storefront(page, base: str, login: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    assert "/accounts/login/" not in page.url, "the demo member could not sign in"


def sign_in_admin(page, base: str, login: str, password: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", login)
    page.fill("input[name=password]", password)
    page.locator("input[type=submit]").click()
    page.wait_for_load_state("load")
    assert "/admin/login/" not in page.url, f"{login} could not sign in"


def put_a_piece_in_the_bag(page, base: str) -> str:
    """What a shopper does first, so the bag and checkout have something to show.
    Returns the piece's page."""
    from stores.models import StockLevel

    level = (StockLevel.objects.filter(on_hand__gt=3, store__kind="store",
                                       variant__is_active=True, variant__product__is_active=True,
                                       variant__pricing_mode="fixed")
             .select_related("variant__product").order_by("pk").first())
    page.goto(f"{base}/products/{level.variant.product.slug}/?variant={level.variant.sku}")
    page.locator("[data-variant-buy]").click()
    page.wait_for_selector("[data-buy-message]:not(:empty)")
    return f"/products/{level.variant.product.slug}/"


# The bag's way through checkout (each step's form is sent, the order placed).
CHECKOUT = ["/checkout/contact/", "/checkout/fulfilment/", "/checkout/review/", "/cart/"]
ROLES = {
    # role: (sign in as, where to start, menus, content depth, links per page, page cap)
    "guest": (None, ["/", "/en/", *CHECKOUT], STOREFRONT_MENUS, 2, 2, 22),
    "member": ("member@o2o.example", ["/", *CHECKOUT, "/account/", "/account/orders/"],
               STOREFRONT_MENUS, 2, 3, 28),
    "clerk": ("staff@o2o.example", ["/admin/", "DESK"], ADMIN_MENUS, 1, 1, 26),
    "manager": ("manager@o2o.example", ["/admin/"], ADMIN_MENUS, 1, 1, 30),
    "marketer": ("marketer@o2o.example", ["/admin/"], ADMIN_MENUS, 1, 1, 20),
}
# A catalog has many lists and pieces that are all alike: a few of each are enough.
CATALOG_CAP = {"/products/": 5, "/en/products/": 3, "/stores/": 3}


def test_every_role_opens_every_menu_page_and_sends_every_form(browser, live_server, settings):
    assert live_server.url == settings.SHOP_BASE_URL  # as `make run` does with its port
    assert not re.search(r":8000\b", live_server.url)
    began = time.monotonic()
    call_command("load_demo", "--small", verbosity=0)
    values = demo_values()
    report, problems = [f"demo loaded in {time.monotonic() - began:.0f}s"], []
    opened: dict[str, set[str]] = {"storefront": set(), "admin": set()}
    for role, (login, start, menus, depth, per_page, limit) in ROLES.items():
        started = time.monotonic()
        context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                      viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        visit = Visit(role=role, base=live_server.url, screenshots=ARTIFACTS / role,
                      values=values[role])
        for old in [*visit.screenshots.glob("*.png"), *visit.screenshots.glob("*.jpg")]:
            old.unlink()
        if role in ("guest", "member"):
            if login:
                sign_in_storefront(page, live_server.url, login, values[role]["password"])
            start = [start[0], put_a_piece_in_the_bag(page, live_server.url), *start[1:]]
            content = "main a"
        else:
            sign_in_admin(page, live_server.url, login, values[role]["password"])
            content = "#content-main a"
            # The desk with a waiting pickup found: its hand-over form is sent too.
            start = [f"/admin/orders/order/desk/?q={values[role]['q']}" if p == "DESK" else p
                     for p in start]
        side = "storefront" if role in ("guest", "member") else "admin"
        crawl(page, visit, start, menus=menus, content=content, depth=depth,
              per_page=per_page, limit=limit, skip=opened[side], cap=CATALOG_CAP)
        context.close()
        report += [f"== {role}: {len(visit.pages)} pages, {len(visit.forms)} forms, "
                   f"{time.monotonic() - started:.0f}s",
                   *(f"page {p}" for p in visit.pages), *(f"form {f}" for f in visit.forms)]
        problems += visit.problems
        # The manager and the member skip what the clerk and the guest opened already.
        assert len(visit.pages) >= 3, f"{role} reached only {visit.pages}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report.txt").write_text("\n".join(report + ["== problems"]
                                                    + [str(p) for p in problems]) + "\n")
    assert not problems, "\n".join(str(p) for p in problems)
