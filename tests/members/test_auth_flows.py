"""Sign-up, log-in (email or phone), log-out and password reset through allauth."""

import re
from importlib import import_module

import pytest
from django.core import mail
from django.urls import reverse

from members.models import MemberProfile, User
from o2o.models import OutboxMessage
from o2o.outbox import outbox_deliver

from .factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Jade-and-pearl-2026"


def signup(client, **overrides):
    data = {"email": "new@example.com", "phone": "139 1234 5678",
            "password1": PASSWORD, "password2": PASSWORD}
    data.update(overrides)
    return client.post(reverse("account_signup"), data)


def test_signup_creates_a_member_with_a_normalised_phone_and_logs_in(client):
    response = signup(client)
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.phone == "+8613912345678"
    assert MemberProfile.objects.filter(user=user, registered_channel="online").exists()
    assert client.get(reverse("members:account")).status_code == 200


def test_signup_with_an_invalid_phone_is_a_form_error_not_a_500(client):
    response = signup(client, phone="12345")
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert not User.objects.exists()


def test_signup_with_a_taken_email_is_a_form_error(client):
    UserFactory(email="new@example.com")
    response = signup(client, email="NEW@example.com")
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert User.objects.count() == 1


def test_signup_with_a_taken_phone_is_a_form_error(client):
    UserFactory(phone="+8613912345678")
    response = signup(client)
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert User.objects.count() == 1


@pytest.mark.parametrize("login", ["shopper@example.com", "13912345678", "+86 139 1234 5678"])
def test_login_by_email_or_phone(client, login):
    UserFactory(email="shopper@example.com", phone="+8613912345678", password=PASSWORD)
    response = client.post(reverse("account_login"), {"login": login, "password": PASSWORD})
    assert response.status_code == 302, response.content[:2000]
    assert client.get(reverse("members:account")).status_code == 200


def test_login_with_a_wrong_password_is_refused(client):
    UserFactory(email="shopper@example.com", password=PASSWORD)
    response = client.post(reverse("account_login"),
                           {"login": "shopper@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get(reverse("members:account")).status_code == 302


def test_logout_is_a_post(client):
    user = UserFactory()
    client.force_login(user)
    client.post(reverse("account_logout"))
    assert client.get(reverse("members:account")).status_code == 302


def test_password_reset_by_email(client):
    user = UserFactory(email="shopper@example.com", password=PASSWORD)
    response = client.post(reverse("account_reset_password"), {"email": "shopper@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []  # queued in the outbox, sent by its worker
    assert outbox_deliver().sent == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["shopper@example.com"]
    # The reset link was a secret: the finished row no longer holds it.
    assert OutboxMessage.objects.get(kind="members.account_email").payload == {}
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = client.post(form_url, {"password1": "New-jade-2027!", "password2": "New-jade-2027!"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("New-jade-2027!")


def test_me_api_needs_a_login_and_shows_the_member(client):
    assert client.get("/api/v1/me/").status_code == 403
    user = UserFactory(phone="+8613912345678")
    client.force_login(user)
    body = client.get("/api/v1/me/").json()
    assert body["phone"] == "+8613912345678"
    assert body["email"] == user.email


def test_sessions_live_in_redis_and_a_logout_ends_them_on_the_server(client):
    """Sessions are kept in the "sessions" cache (Redis), not in a table; logging out
    deletes the session there, so a copy of the old cookie opens nothing (the
    signed_cookies engine could not promise that)."""
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.core.cache import caches

    user = UserFactory(email="shopper@example.com", password=PASSWORD)
    response = client.post(reverse("account_login"),
                           {"login": "shopper@example.com", "password": PASSWORD})
    assert response.status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    store = import_module(settings.SESSION_ENGINE).SessionStore
    assert store(key).get("_auth_user_id") == str(user.pk)
    assert caches[settings.SESSION_CACHE_ALIAS].get(store.cache_key_prefix + key)
    assert not Session.objects.exists()
    assert client.get(reverse("members:account")).status_code == 200

    client.post(reverse("account_logout"))
    assert not store(key).exists(key)
    client.cookies[settings.SESSION_COOKIE_NAME] = key  # the old cookie, kept by a thief
    assert client.get(reverse("members:account")).status_code == 302
