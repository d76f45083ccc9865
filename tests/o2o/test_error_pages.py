"""Our page answers when allauth counts too many tries (phone codes, logins)."""

import pytest
from allauth.core.ratelimit import respond_429
from django.test import RequestFactory
from django.utils import translation


@pytest.mark.django_db
def test_too_many_tries_is_our_429_page():
    request = RequestFactory().get("/en/accounts/phone/change/")
    with translation.override("en"):
        response = respond_429(request)
    assert response.status_code == 429
    assert "Too many tries in a short time" in response.content.decode()
