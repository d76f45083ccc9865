"""Our page answers when allauth counts too many tries (phone codes, logins)."""

import pytest
from allauth.core.exceptions import RateLimited
from allauth.core.ratelimit import respond_429
from django.test import RequestFactory
from django.urls import path
from django.utils import translation

from o2o.urls import urlpatterns as shop_urls


@pytest.mark.django_db
def test_too_many_tries_is_our_429_page():
    request = RequestFactory().get("/en/accounts/phone/change/")
    with translation.override("en"):
        response = respond_429(request)
    assert response.status_code == 429
    assert "Too many tries in a short time" in response.content.decode()


def _rate_limited_view(_request):
    raise RateLimited


def _failing_view(_request):
    raise ValueError("not ours to answer")


urlpatterns = [path("en/rate-limited/", _rate_limited_view), path("en/failing/", _failing_view),
               *shop_urls]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_allauths_rate_limited_raised_in_a_view_is_our_429_not_a_500(client):
    # Through the whole middleware stack of the settings, as a shop request meets it.
    response = client.get("/en/rate-limited/")
    assert response.status_code == 429
    assert "Too many tries in a short time" in response.content.decode()
    # Any other exception is left alone (the usual 500 handling).
    client.raise_request_exception = False
    assert client.get("/en/failing/").status_code == 500
