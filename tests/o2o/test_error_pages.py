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


@pytest.mark.django_db
def test_allauths_rate_limited_raised_in_a_view_is_our_429_not_a_500():
    from allauth.core.exceptions import RateLimited

    from o2o.middleware import TooManyTriesMiddleware

    def view(_request):
        raise RateLimited

    request = RequestFactory().get("/en/accounts/phone/change/")
    middleware = TooManyTriesMiddleware(view)
    with translation.override("en"):
        response = middleware.process_exception(request, RateLimited())
    assert response.status_code == 429
    assert middleware.process_exception(request, ValueError()) is None
