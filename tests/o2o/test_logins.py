"""Logins under attack: wrong passwords lock the account (from any address) and the address
(for any account) out of the admin's login and the shop's alike, a right password
included, until the cool-off; a staff member who set up an authenticator needs its code,
and a session opened without it (through the shop's login page) does not reach the admin."""

import time

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from members import roles
from tests.members.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Right-horse-battery-42"


def url(name):
    with translation.override("en"):
        return reverse(name)


@pytest.fixture
def clerk(db):
    roles.roles_sync(apps)
    user = StaffFactory(email="clerk@o2o.example", password=PASSWORD)
    user.groups.add(Group.objects.get(name=roles.STORE_STAFF))
    return user


def admin_login(client, email, password, address="203.0.113.1", **extra):
    return client.post(url("admin:login"), {"username": email, "password": password,
                                            "next": "/admin/", **extra},
                       REMOTE_ADDR=address)


def in_admin(client):
    return client.get(url("admin:index")).status_code == 200


def test_guessing_a_staff_password_from_many_addresses_locks_the_account(client, clerk,
                                                                         settings):
    settings.AXES_FAILURE_LIMIT = 10
    for n in range(10):
        answer = admin_login(client, clerk.email, f"wrong-{n}", address=f"198.51.100.{n + 1}")
        assert answer.status_code in (200, 429)
    locked = admin_login(client, clerk.email, PASSWORD, address="198.51.100.99")
    assert locked.status_code == 429 and "Too many tries" in locked.text
    assert not in_admin(client)


def test_one_address_spraying_many_accounts_is_locked_out(client, clerk, settings):
    settings.AXES_FAILURE_LIMIT = 10
    for n in range(10):
        admin_login(client, f"someone{n}@o2o.example", "wrong", address="203.0.113.7")
    assert admin_login(client, clerk.email, PASSWORD, address="203.0.113.7").status_code == 429
    # Another address still gets in with the right password.
    assert admin_login(client, clerk.email, PASSWORD, address="203.0.113.8").status_code == 302
    assert in_admin(client)


def test_a_success_before_the_limit_resets_the_count(client, clerk, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        admin_login(client, clerk.email, "wrong")
    assert admin_login(client, clerk.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        admin_login(client, clerk.email, "wrong")
    assert admin_login(client, clerk.email, PASSWORD).status_code == 302


def test_the_shops_login_takes_the_same_lock(client, settings):
    settings.AXES_FAILURE_LIMIT = 3  # below allauth's own limit, which would answer first
    UserFactory(email="shopper@example.com", password=PASSWORD)
    for n in range(3):
        client.post(url("account_login"), {"login": "shopper@example.com", "password": "x"},
                    REMOTE_ADDR=f"192.0.2.{n + 1}")
    locked = client.post(url("account_login"), {"login": "shopper@example.com",
                                                "password": PASSWORD}, REMOTE_ADDR="192.0.2.50")
    assert locked.status_code == 429
    assert client.get(url("members:account")).status_code == 302  # not signed in


def test_staff_without_an_authenticator_log_in_with_the_password(client, clerk):
    assert admin_login(client, clerk.email, PASSWORD).status_code == 302
    assert in_admin(client)


def test_staff_with_an_authenticator_need_its_code(client, clerk):
    device = TOTPDevice.objects.create(user=clerk, name="phone", confirmed=True)
    asked = admin_login(client, clerk.email, PASSWORD)
    assert asked.status_code == 200 and not in_admin(client)
    assert 'name="otp_token"' in asked.text
    wrong = admin_login(client, clerk.email, PASSWORD, otp_device=device.persistent_id,
                        otp_token="000000" if totp(device.bin_key) != 0 else "111111")
    assert wrong.status_code == 200 and not in_admin(client)
    time.sleep(1.1)  # django-otp throttles a device for a second after a wrong code
    right = admin_login(client, clerk.email, PASSWORD, otp_device=device.persistent_id,
                        otp_token=f"{totp(device.bin_key):06d}")
    assert right.status_code == 302 and in_admin(client)


def test_a_password_session_from_the_shops_login_does_not_reach_the_admin(client, clerk):
    TOTPDevice.objects.create(user=clerk, name="phone", confirmed=True)
    answer = client.post(url("account_login"), {"login": clerk.email, "password": PASSWORD})
    assert answer.status_code == 302  # signed in to the shop
    assert client.get(url("admin:index")).status_code == 302  # sent to the admin's login


def test_the_second_factor_can_be_made_compulsory(client, clerk, settings):
    settings.ADMIN_OTP_REQUIRED = True
    assert admin_login(client, clerk.email, PASSWORD).status_code == 200
    assert not in_admin(client)


def test_a_clerk_sets_up_the_authenticator_then_needs_it(client, clerk):
    client.force_login(clerk)
    page = client.get(url("admin:second_factor"))
    assert page.status_code == 200 and "<svg" in page.text
    device = TOTPDevice.objects.get(user=clerk, confirmed=False)
    wrong = client.post(url("admin:second_factor"), {"action": "confirm", "token": "12"})
    assert wrong.status_code == 400
    time.sleep(1.1)
    done = client.post(url("admin:second_factor"),
                       {"action": "confirm", "token": f"{totp(device.bin_key):06d}"})
    assert done.status_code == 302 and TOTPDevice.objects.get(user=clerk).confirmed
    assert in_admin(client)  # this session was verified by the code
    client.logout()
    assert admin_login(client, clerk.email, PASSWORD).status_code == 200  # code asked
    assert not in_admin(client)
