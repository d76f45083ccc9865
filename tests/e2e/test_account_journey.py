import re

import pytest
from playwright.sync_api import expect

from members.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Pearl-and-jade-2026"


def test_a_new_shopper_signs_up_logs_out_and_logs_in_with_the_phone(page, screenshot):
    page.goto("/accounts/signup/")
    page.fill("input[name=phone]", "139 0000 1234")
    page.fill("input[name=email]", "xiaolin@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    screenshot(page, "signup-form")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))  # home: signed up
    user = User.objects.get(email="xiaolin@example.com")
    assert user.phone == "+8613900001234"

    page.goto("/account/")
    expect(page.get_by_text("xiaolin@example.com")).to_be_visible()
    screenshot(page, "account")
    page.locator("form[action*='logout'] button").first.click()
    expect(page).not_to_have_url(re.compile(r"/account/$"))  # the sign-out answered
    page.goto("/account/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    page.fill("input[name=login]", "13900001234")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))  # signed in
    page.goto("/account/")
    expect(page.get_by_text("xiaolin@example.com")).to_be_visible()


def test_signup_with_a_bad_phone_shows_the_error_on_the_form(page, screenshot):
    page.goto("/en/accounts/signup/")
    page.fill("input[name=phone]", "12345")
    page.fill("input[name=email]", "someone@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_text("Enter a valid mobile number")).to_be_visible()
    screenshot(page, "signup-error")
    assert not User.objects.exists()
