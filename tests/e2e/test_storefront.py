import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.models import Product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", "--small", verbosity=0)
    return Product.objects.filter(is_active=True).order_by("-created_at", "-id")


def test_home_page_shows_the_demo_collections_and_new_pieces_in_chinese(page, demo, screenshot):
    newest = demo.first()
    page.goto("/")
    expect(page).to_have_title(re.compile("金缘珠宝"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_text(newest.name).first).to_be_visible()
    expect(page.locator("header input[name=q]")).to_be_visible()
    screenshot(page, "zh-desktop")


def test_home_page_in_english_after_switching_language(page, demo, screenshot):
    newest = demo.first()
    page.goto("/")
    page.locator(".lang-switches").get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/en/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title(re.compile("Jinyuan"))
    expect(page.get_by_text(newest.name_en).first).to_be_visible()
    screenshot(page, "en-desktop")
    page.locator(".lang-switches").get_by_role("link", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


def test_home_page_on_a_phone(phone_page, demo, screenshot):
    phone_page.goto("/")
    expect(phone_page.get_by_text(demo.first().name).first).to_be_visible()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    screenshot(phone_page, "zh-phone")
    phone_page.goto("/en/")
    screenshot(phone_page, "en-phone")
