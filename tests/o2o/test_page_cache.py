"""The URL decides the language; anonymous shopper pages are served from the cache."""

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.http import HttpResponse

from catalog.cache import _bump
from o2o.middleware import _storable
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.members.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_language_comes_from_the_path_not_the_browser(client):
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == 200
    assert '<html lang="zh-hans"' in chinese.text
    english = client.get("/en/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert '<html lang="en"' in english.text


def test_an_anonymous_page_is_cached_and_served_without_the_database(
        client, django_assert_num_queries):
    VariantFactory(product=ProductFactory(name="古法金手镯"))
    first = client.get("/products/")
    assert first["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get("/products/")
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]


def test_languages_and_query_strings_are_cached_apart(client):
    client.get("/products/")
    assert client.get("/en/products/")["X-Page-Cache"] == "miss"
    assert client.get("/products/?sort=price")["X-Page-Cache"] == "miss"


def test_a_catalog_change_makes_the_cached_page_unreachable(client):
    product = ProductFactory(name="古法金手镯")
    VariantFactory(product=product)
    client.get("/products/")
    _bump()  # what catalog_changed() does on commit
    assert client.get("/products/")["X-Page-Cache"] == "miss"


def test_logged_in_members_and_sessions_are_never_cached(client):
    client.force_login(UserFactory())
    response = client.get("/products/")
    assert "X-Page-Cache" not in response
    assert "X-Page-Cache" not in client.get("/products/")


def test_pages_that_set_a_cookie_or_touch_the_session_are_not_stored(rf):
    request = rf.get("/products/")
    ok = HttpResponse("page")
    assert _storable(request, ok)
    with_cookie = HttpResponse("page")
    with_cookie.set_cookie("csrftoken", "x")
    assert not _storable(request, with_cookie)
    assert not _storable(request, HttpResponse("page", status=404))
    request.session = SessionStore()
    request.session["recently_viewed"] = [1]
    assert not _storable(request, ok)


def test_posts_and_private_paths_pass_through(client):
    assert "X-Page-Cache" not in client.get("/healthz")
    assert "X-Page-Cache" not in client.get("/api/v1/categories/")
    assert "X-Page-Cache" not in client.get("/admin/login/")


def test_store_pages_are_not_cached_because_open_now_follows_the_clock(client):
    client.get("/stores/")
    assert "X-Page-Cache" not in client.get("/stores/")


def test_the_product_page_is_cached_for_anonymous_visitors_and_sets_no_cookie(client):
    product = ProductFactory(name="古法金手镯")
    VariantFactory(product=product)
    first = client.get(product.get_absolute_url())
    assert first["X-Page-Cache"] == "miss"
    assert not first.cookies  # no CSRF token, no session: the same page for everyone
    assert 'href="/accounts/login/?next=' in first.text  # the heart asks to sign in
    assert client.get(product.get_absolute_url())["X-Page-Cache"] == "hit"


def test_a_visitor_whose_session_holds_only_recently_viewed_pieces_gets_the_cached_page(client):
    product = ProductFactory(name="古法金手镯")
    VariantFactory(product=product)
    client.post("/recently-viewed/", {"seen": product.pk}, HTTP_X_REQUESTED_WITH="fetch")
    assert "sessionid" in client.cookies
    client.get("/products/")
    assert client.get("/products/")["X-Page-Cache"] == "hit"
    session = client.session
    session["cart"] = {"lines": []}  # anything else a page might show makes it personal
    session.save()
    assert "X-Page-Cache" not in client.get("/products/")
