"""The client's address behind trusted proxies: one helper (o2o.net.client_ip) that every
rate limit reads, so clients behind the compose stack's proxy do not share one bucket and
a forged X-Forwarded-For entry does not buy a new one."""

import pytest
from django.test import RequestFactory

from o2o.net import client_ip

PROXY = "172.18.0.5"


def request(remote=PROXY, forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_without_trusted_proxies_the_connection_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request(forwarded="203.0.113.9")) == PROXY  # a header anyone can send


def test_behind_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request(forwarded="203.0.113.9")) == "203.0.113.9"
    # What the client itself put in front is not believed.
    assert client_ip(request(forwarded="1.2.3.4, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(request(forwarded="[2001:db8::1]:443")) == "2001:db8::1"
    # Not through the proxy, or garbage: the connection's address.
    assert client_ip(request(remote="198.51.100.1")) == "198.51.100.1"
    assert client_ip(request(forwarded="not-an-address")) == PROXY


def test_behind_two_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request(forwarded="1.2.3.4, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"
    assert client_ip(request(forwarded="203.0.113.9")) == PROXY


@pytest.mark.django_db
def test_the_coupon_guessing_limit_counts_each_client_behind_the_proxy(settings, client):
    """Two shoppers behind the proxy: one exhausting the limit leaves the other alone,
    and a forged left-hand entry does not reset it."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.COUPON_CHECK_RATE = "3/m"
    check = "/api/v1/coupons/check/"

    def attempt(forwarded):
        return client.post(check, {"code": "GUESS-1"}, content_type="application/json",
                           REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded).status_code

    first = [attempt("203.0.113.9") for _ in range(3)]
    assert 429 not in first
    assert attempt("203.0.113.9") == 429
    assert attempt(f"9.9.9.{9}, 203.0.113.9") == 429  # forged entry, same client
    assert attempt("198.51.100.7") != 429  # another shopper behind the same proxy
