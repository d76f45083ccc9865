"""The Content-Security-Policy in a real browser: every page a shopper, a member, a clerk
and a superuser open carries the policy, and chromium reports no violation on any of
them (no blocked script, style, image, fetch or form), with the shop's scripts working:
add to bag, the store selector of "Today", the receipt's print button."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.models import Product
from orders.models import Order

pytestmark = [pytest.mark.e2e, pytest.mark.long, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " @ " + e.sourceFile
                    + ":" + e.lineNumber);
});
"""


@pytest.fixture
def demo(transactional_db, settings):
    call_command("load_demo", "--small", verbosity=0)


@pytest.fixture
def watched(browser, live_server):
    contexts, problems = [], []

    def open_context():
        context = browser.new_context(base_url=live_server.url,
                                      viewport={"width": 1280, "height": 900}, locale="zh-CN")
        context.add_init_script(LISTEN)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda m: problems.append(m.text)
                if "Content Security Policy" in m.text else None)
        contexts.append(context)
        return page

    yield open_context, problems
    for context in contexts:
        context.close()


def visit(page, path, problems, seen):
    response = page.goto(path)
    assert response.status < 400, (path, response.status)
    assert "/login/" not in page.url, (path, page.url)  # the page itself, not a sign-in
    assert "default-src 'self'" in response.headers.get("content-security-policy", ""), path
    page.wait_for_load_state("networkidle")
    problems += [f"{path}: {v}" for v in page.evaluate("window.__csp")]
    seen.append(path)


def log_in_admin(page, email):
    page.goto("/en/admin/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", "o2o-demo")
    page.locator("input[type=submit]").click()
    expect(page.locator("#user-tools")).to_be_visible()


def test_no_page_breaks_the_content_security_policy(demo, watched, screenshot):
    open_context, problems = watched
    seen: list[str] = []
    product = (Product.objects.filter(is_active=True, variants__current_price__isnull=False,
                                      variants__stock_levels__on_hand__gt=0)
               .order_by("id").first())

    shopper = open_context()
    for path in ("/", "/en/", "/products/", f"/products/{product.slug}/", "/products/?q=戒指",
                 "/stores/", "/accounts/signup/", "/en/products/"):
        visit(shopper, path, problems, seen)
    shopper.goto("/accounts/login/")  # the sign-in page itself
    problems += [f"/accounts/login/: {v}" for v in shopper.evaluate("window.__csp")]
    visit(shopper, f"/en/products/{product.slug}/", problems, seen)
    add = shopper.locator("[data-variant-buy]:not(.is-disabled)").first
    add.click()  # catalog.js adds by fetch (connect-src 'self')
    expect(shopper.get_by_text("View your bag").first).to_be_visible()
    visit(shopper, "/en/cart/", problems, seen)
    screenshot(shopper, "cart")

    member = open_context()
    member.goto("/en/accounts/login/")
    member.fill("input[name=login]", "member@o2o.example")
    member.fill("input[name=password]", "o2o-demo")
    member.locator("form:has(input[name=password]) button[type=submit]").click()
    member.wait_for_load_state("networkidle")
    for path in ("/en/account/", "/en/account/profile/", "/en/account/points/",
                 "/en/account/orders/", "/en/account/try-ons/", "/en/account/wishlist/"):
        visit(member, path, problems, seen)

    boss = open_context()
    log_in_admin(boss, "admin@o2o.example")
    order = Order.objects.order_by("-id").first()
    for path in ("/en/admin/", "/en/admin/orders/order/", f"/en/admin/orders/order/{order.pk}/change/",
                 "/en/admin/orders/order/desk/", "/en/admin/orders/order/counter/",
                 f"/en/admin/orders/order/{order.pk}/receipt/",
                 "/en/admin/catalog/product/", f"/en/admin/catalog/product/{product.pk}/change/",
                 "/en/admin/catalog/product/import/", "/en/admin/members/memberprofile/",
                 "/en/admin/stores/appointment/", "/en/admin/stores/appointment/today/",
                 "/en/admin/o2o/outboxmessage/", "/en/admin/second-factor/"):
        visit(boss, path, problems, seen)
    screenshot(boss, "admin-receipt-or-last")

    clerk = open_context()
    log_in_admin(clerk, "staff@o2o.example")
    visit(clerk, "/en/admin/stores/appointment/today/", problems, seen)
    day = clerk.locator("input[type=date][name=date]")
    with clerk.expect_navigation():
        day.fill("2030-01-02")
        day.dispatch_event("change")  # admin.js submits the form: no inline handler
    assert "date=2030-01-02" in clerk.url
    screenshot(clerk, "today")

    assert problems == [], problems
    assert len(seen) >= 30
