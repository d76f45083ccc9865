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


# --- 403, 404 and the CSRF failure: the shop's own pages, in the URL's language ----------


def _forbidden_view(_request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


urlpatterns += [path("en/forbidden/", _forbidden_view), path("forbidden/", _forbidden_view)]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True])
def test_a_refusal_is_our_403_page_in_either_language_even_with_debug_on(client, settings, debug):
    settings.DEBUG = debug
    english = client.get("/en/forbidden/")
    assert english.status_code == 403
    assert "This page is not open to you" in english.content.decode()
    assert 'lang="en"' in english.content.decode()
    chinese = client.get("/forbidden/")
    assert chinese.status_code == 403 and "此页面不对您开放" in chinese.content.decode()


@pytest.mark.django_db
def test_a_missing_page_is_our_404_page_in_either_language(client):
    english = client.get("/en/no-such-page/")
    assert english.status_code == 404
    assert "We could not find this page" in english.content.decode()
    chinese = client.get("/no-such-page/")
    assert chinese.status_code == 404 and "找不到此页面" in chinese.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_stale_form_says_reload_the_page_not_djangos_csrf_page(settings, debug):
    from django.test import Client

    settings.DEBUG = debug
    client = Client(enforce_csrf_checks=True)
    referer = "http://testserver/en/accounts/login/"
    response = client.post("/en/accounts/logout/", HTTP_REFERER=referer)
    assert response.status_code == 403
    page = response.content.decode()
    assert "Please reload the page and try again" in page
    assert f'href="{referer}"' in page  # back to the page the form was on
    assert "CSRF" not in page and "Forbidden" not in page
    chinese = client.post("/accounts/logout/")
    assert chinese.status_code == 403 and "请刷新页面后重试" in chinese.content.decode()
    # A referer from another site is not offered as the way back.
    other = client.post("/en/accounts/logout/", HTTP_REFERER="https://evil.example/x")
    assert "evil.example" not in other.content.decode()


@pytest.mark.django_db
def test_a_stale_form_in_the_back_office_keeps_the_back_office_look(settings):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/en/admin/login/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Please reload the page and try again" in page and 'id="site-name"' in page


def test_make_run_serves_the_shop_with_debug_off(monkeypatch):
    """`make run` (o2o.settings.dev) answers with the shop's pages, not debug pages,
    unless DJANGO_DEBUG asks for them; SMS codes still show on its console."""
    import subprocess
    import sys

    def debug_of(**extra) -> str:
        env = {k: v for k, v in __import__("os").environ.items()
               if k not in {"DJANGO_DEBUG", "SMS_CONSOLE_CLEAR"}}
        env.update(extra)
        code = ("import o2o.settings.dev as s; print(s.DEBUG, s.SMS_CONSOLE_CLEAR)")
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True).stdout.strip()

    assert debug_of() == "False True"
    assert debug_of(DJANGO_DEBUG="1") == "True True"


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_refusal_is_logged_in_one_line_without_a_traceback(client, caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/en/forbidden/").status_code == 403
    refusals = [r for r in caplog.records if "Forbidden" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].exc_info is None
    # A real error keeps its traceback.
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        assert client.get("/en/failing/").status_code == 500
    assert any(r.exc_info for r in caplog.records if r.levelno >= logging.ERROR)


@pytest.mark.django_db
def test_staff_are_not_offered_a_screen_that_refuses_them(client):
    from django.apps import apps
    from django.contrib.auth.models import Group

    from members import roles
    from tests.members.factories import StaffFactory

    roles.roles_sync(apps)
    for role in (roles.STORE_STAFF, roles.STORE_MANAGER):
        user = StaffFactory()
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        index = client.get("/en/admin/").content.decode()
        assert "/en/admin/members/user/add/" not in index, role


def test_favicon_ico_leads_to_the_shops_icon(client):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith(".svg")
    assert finders.find("img/favicon.svg")
