"""The shopper's catalog journey in a real browser: search with suggestions, facets and
the back button, the variant picker without a reload, the language switch, a phone."""

import re
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from django.db.models import Count
from playwright.sync_api import expect

from catalog.models import Product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", "--small", verbosity=0)


def piece_with_sizes() -> tuple[Product, list]:
    """An active piece in one metal whose sizes have different prices."""
    product = (Product.objects.filter(is_active=True, variants__is_active=True)
               .annotate(prices=Count("variants__current_price", distinct=True),
                         sizes=Count("variants__size", distinct=True),
                         metals=Count("variants__metal", distinct=True))
               .filter(prices__gte=2, sizes__gte=2, metals__lte=1)
               .order_by("id").first())
    assert product is not None, "the demo has a piece whose price follows its size"
    variants = list(product.variants.filter(is_active=True, current_price__isnull=False))
    return product, variants


def test_search_filter_and_choose_a_variant(page, demo, screenshot):
    # Search from the header: suggestions while typing, then the results.
    page.goto("/")
    box = page.locator("#site-search-q")
    box.click()
    box.press_sequentially("珍珠", delay=50)
    options = page.locator("#site-search-list [role=option]")
    expect(options.first).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#site-search-list")).to_contain_text("珍珠")
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    screenshot(page, "suggestions")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/products/\?q=%E7%8F%8D%E7%8F%A0"))
    expect(page.locator("h1")).to_contain_text("珍珠")
    expect(page.locator(".product-grid .product-card").first).to_be_visible()
    screenshot(page, "results")

    # Filter by a facet: the address changes; the back button brings the list back.
    page.goto("/products/")
    count = page.locator("#result-count").inner_text()
    option = page.locator(".facet--material .facet__option").first
    label = option.locator(".facet__label").inner_text()
    option.click()
    expect(page).to_have_url(re.compile(r"/products/\?material=\w+"))
    expect(page.locator(".chip--remove").first).to_contain_text(label)
    expect(page.locator("#result-count")).not_to_have_text(count)
    page.locator("#sort-select").select_option("price")  # applies at once
    expect(page).to_have_url(re.compile(r"material=\w+&sort=price"))
    screenshot(page, "filtered")
    page.go_back()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/products/$"))
    expect(page.locator("#result-count")).to_have_text(count)
    expect(page.locator(".chip--remove")).to_have_count(0)

    # The product page: another size changes the price in place, and the address says so.
    product, variants = piece_with_sizes()
    page.goto(product.get_absolute_url())
    price = page.locator("[data-variant-price]")
    first = price.inner_text()
    other = next(v for v in variants if f"{v.current_price:,.0f}" not in first.replace("¥", ""))
    page.evaluate("window.stillHere = true")  # lost if the page reloads
    path = urlparse(page.url).path
    page.locator(f'[data-option="size"][data-value="{other.size}"]').click()
    expect(price).not_to_have_text(first)
    expect(price).to_contain_text(f"{other.current_price:,.0f}")
    assert page.evaluate("window.stillHere") is True
    assert urlparse(page.url).path == path
    assert f"variant={other.sku}" in page.url
    expect(page.locator(f'[data-option="size"][data-value="{other.size}"]')).to_have_attribute(
        "aria-current", "true")
    page.wait_for_timeout(300)  # the price's short fade
    screenshot(page, "variant")

    # The same piece and size in English.
    page.locator(".lang-switches").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(rf"/en/products/{product.slug}/\?variant={other.sku}"))
    expect(page.locator("h1")).to_have_text(product.name_en or product.name)
    expect(price).to_contain_text(f"{other.current_price:,.0f}")
    expect(page.locator("[data-variant-buy]")).not_to_have_attribute("aria-disabled", "true")
    screenshot(page, "variant-en")

    # The piece is remembered, though the pages above are the same for every visitor.
    page.goto("/en/products/")
    recent = page.locator("[data-recently-viewed]")
    expect(recent.locator(f'a[href="/en/products/{product.slug}/"]').first).to_be_visible()
    screenshot(page, "recently-viewed")


def test_the_list_and_a_piece_on_a_phone(phone_page, demo, screenshot):
    page = phone_page
    page.goto("/products/?category=rings")
    expect(page.locator(".product-grid .product-card").first).to_be_visible()
    facets = page.locator("#refine-body")
    expect(facets).to_be_hidden()  # folded behind the button
    page.locator("[data-refine-toggle]").click()
    expect(facets).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "list")

    product, _variants = piece_with_sizes()
    page.goto(product.get_absolute_url())
    expect(page.locator("[data-variant-price]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "product")
    page.locator("[data-gallery-main]").click()
    expect(page.locator("[data-lightbox]")).to_be_visible()
    screenshot(page, "zoom")
    page.keyboard.press("Escape")
    expect(page.locator("[data-lightbox]")).to_be_hidden()
