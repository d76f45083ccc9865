"""Text messages and mobile verification: the pluggable backends (console masks codes when
DEBUG is off, locmem keeps an outbox), and allauth's phone verification wired to them: a
member asks for a code, reads it, enters it and the number is verified; wrong codes,
expired codes and too many requests are refused with a clear message."""

import logging

import pytest
from allauth.account.internal.flows.phone_verification import PHONE_VERIFICATION_SESSION_KEY
from django.contrib.messages import get_messages
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from members.models import User
from o2o import sms

from .factories import UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"
CHANGE = "account_change_phone"
VERIFY = "account_verify_phone"


def url(name):
    with translation.override("en"):
        return reverse(name)


@pytest.fixture(autouse=True)
def outbox():
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()
    translation.deactivate()


@pytest.fixture
def member(db):
    return UserFactory(phone=PHONE, phone_verified=False, language="en")


def ask_for_code(client, **data):
    return client.post(url(CHANGE), data or {"action": "verify"})


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


class FailingBackend(sms.BaseBackend):
    def send(self, *, phone, message, purpose="", params=None):
        raise sms.SmsError("provider down")


# --- Backends ------------------------------------------------------------------------------------

def test_locmem_backend_keeps_the_messages(outbox):
    sms.send_sms(phone=PHONE, message="hello", purpose="test", params={"a": "1"})
    assert outbox == [sms.Sms(phone=PHONE, message="hello", purpose="test", params={"a": "1"})]


@override_settings(SMS_BACKEND="o2o.sms.ConsoleBackend", DEBUG=False)
def test_console_backend_never_logs_a_code_or_number_in_clear_without_debug(caplog, outbox):
    with caplog.at_level(logging.INFO, logger="o2o.sms"):
        sms.send_sms(phone=PHONE, message="Your verification code is 482913.",
                     purpose="verify_phone", params={"code": "482913"})
    logged = caplog.text
    assert "SMS to" in logged and "Your verification code is ******." in logged
    assert "482913" not in logged and "13800138000" not in logged
    assert not any(ch.isdigit() for record in caplog.records for ch in record.getMessage()
                   if record.name == "o2o.sms")
    assert outbox == []  # the console backend, not the tests' one


@override_settings(SMS_BACKEND="o2o.sms.ConsoleBackend", DEBUG=True)
def test_console_backend_shows_the_message_in_development(caplog):
    with caplog.at_level(logging.INFO, logger="o2o.sms"):
        sms.send_sms(phone=PHONE, message="Your verification code is 482913.")
    assert "482913" in caplog.text and PHONE in caplog.text


def test_a_backend_must_implement_send():
    with pytest.raises(NotImplementedError):
        sms.BaseBackend().send(phone=PHONE, message="x")


# --- Verifying the member's number -----------------------------------------------------------

def test_a_member_verifies_their_number_with_the_code_from_the_text(signed_in, member, outbox):
    response = ask_for_code(signed_in)
    assert response.status_code == 302 and response["Location"].endswith(url(VERIFY))
    assert len(outbox) == 1
    text = outbox[0]
    assert text.phone == PHONE and text.purpose == "verify_phone"
    code = text.params["code"]
    assert len(code) == 6 and code.isdigit()
    assert f"your verification code is {code}" in text.message  # the member's language
    member.refresh_from_db()
    assert not member.phone_verified

    page = signed_in.get(url(VERIFY))
    assert page.status_code == 200 and "+86 138 0013 8000" in page.content.decode()
    response = signed_in.post(url(VERIFY), {"code": code})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.phone_verified and member.phone == PHONE
    assert any("is verified" in m for m in messages_of(response))
    assert PHONE_VERIFICATION_SESSION_KEY not in signed_in.session


def test_a_wrong_code_is_refused_and_says_how_many_tries_are_left(signed_in, member, outbox):
    ask_for_code(signed_in)
    code = outbox[0].params["code"]
    wrong = "000000" if code != "000000" else "111111"
    response = signed_in.post(url(VERIFY), {"code": wrong})
    assert response.status_code == 200
    assert "This code is not right. You can try 4 more times." in response.content.decode()
    member.refresh_from_db()
    assert not member.phone_verified
    assert signed_in.post(url(VERIFY), {"code": code}).status_code == 302  # still valid
    member.refresh_from_db()
    assert member.phone_verified


def test_too_many_wrong_codes_void_the_code(signed_in, member, outbox):
    ask_for_code(signed_in)
    code = outbox[0].params["code"]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert signed_in.post(url(VERIFY), {"code": wrong}).status_code == 200
    response = signed_in.post(url(VERIFY), {"code": wrong})
    assert response.status_code == 302 and response["Location"].endswith(url(CHANGE))
    assert any("wrong too many times" in m for m in messages_of(response))
    # The right code no longer works: the page sends the member back to ask again.
    response = signed_in.post(url(VERIFY), {"code": code})
    assert response.status_code == 302 and response["Location"].endswith(url(CHANGE))
    member.refresh_from_db()
    assert not member.phone_verified


def test_an_expired_code_no_longer_works(signed_in, member, outbox, settings):
    ask_for_code(signed_in)
    code = outbox[0].params["code"]
    session = signed_in.session
    state = session[PHONE_VERIFICATION_SESSION_KEY]
    state["at"] -= settings.ACCOUNT_PHONE_VERIFICATION_TIMEOUT + 1
    session[PHONE_VERIFICATION_SESSION_KEY] = state
    session.save()
    response = signed_in.post(url(VERIFY), {"code": code})
    assert response.status_code == 302 and response["Location"].endswith(url(CHANGE))
    member.refresh_from_db()
    assert not member.phone_verified


def test_too_many_requests_for_codes_are_refused_with_a_clear_message(signed_in, outbox):
    assert ask_for_code(signed_in).status_code == 302
    response = ask_for_code(signed_in)
    assert response.status_code == 200
    assert "Too many codes have been sent to this number for now." in response.content.decode()
    assert len(outbox) == 1  # no second text


def test_the_per_number_limit_holds_across_accounts(client, outbox):
    """Two accounts cannot make one number receive codes faster than the limit."""
    first = UserFactory(phone=None, email="a@example.com")
    second = UserFactory(phone=None, email="b@example.com")
    client.force_login(first)
    assert ask_for_code(client, phone="139 0000 1111").status_code == 302
    client.force_login(second)
    response = ask_for_code(client, phone="139 0000 1111")
    assert response.status_code == 200
    assert "Too many codes" in response.content.decode()
    assert [t.phone for t in outbox] == ["+8613900001111"]


def test_a_member_changes_to_a_new_number_once_it_is_verified(signed_in, member, outbox):
    member.phone_verified = True
    member.save(update_fields=["phone_verified"])
    assert ask_for_code(signed_in, phone="139 0000 2222").status_code == 302
    member.refresh_from_db()
    assert member.phone == PHONE and member.phone_verified  # nothing changes before the code
    assert outbox[0].phone == "+8613900002222"
    signed_in.post(url(VERIFY), {"code": outbox[0].params["code"]})
    member.refresh_from_db()
    assert member.phone == "+8613900002222" and member.phone_verified


def test_a_member_without_a_number_adds_one(client, outbox):
    user = UserFactory(phone=None)
    client.force_login(user)
    page = client.get(url(CHANGE)).content.decode()
    assert "Add a mobile number" in page
    assert ask_for_code(client, phone="13900003333").status_code == 302
    client.post(url(VERIFY), {"code": outbox[0].params["code"]})
    user.refresh_from_db()
    assert user.phone == "+8613900003333" and user.phone_verified


def test_a_number_of_another_account_is_refused_without_a_text(signed_in, outbox):
    UserFactory(phone="+8613900004444")
    response = ask_for_code(signed_in, phone="139 0000 4444")
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert outbox == []


def test_a_bad_number_is_a_form_error(signed_in, outbox):
    response = ask_for_code(signed_in, phone="12345")
    assert response.status_code == 200
    assert "Enter a valid mobile number" in response.content.decode()
    assert outbox == []


@override_settings(SMS_BACKEND="tests.members.test_sms.FailingBackend")
def test_a_provider_failure_is_a_message_not_an_error_page(signed_in, member):
    response = ask_for_code(signed_in)
    assert response.status_code == 302 and response["Location"].endswith(url(CHANGE))
    assert any("could not send the text message" in m for m in messages_of(response))
    assert PHONE_VERIFICATION_SESSION_KEY not in signed_in.session
    member.refresh_from_db()
    assert not member.phone_verified


def test_the_verify_page_without_a_code_requested_goes_back(signed_in):
    response = signed_in.get(url(VERIFY))
    assert response.status_code == 302 and response["Location"].endswith(url(CHANGE))


def test_the_phone_pages_need_a_login(client):
    response = client.get(url(CHANGE))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Verification at sign-up, when the shop turns it on ----------------------------------------

PASSWORD = "Jade-and-pearl-2026"


@override_settings(ACCOUNT_PHONE_VERIFICATION_ENABLED=True)
def test_with_verification_on_sign_up_asks_for_the_code_before_signing_in(client, outbox):
    response = client.post(url("account_signup"), {
        "email": "new@example.com", "phone": "139 1234 5678",
        "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"].endswith(url(VERIFY))
    user = User.objects.get(email="new@example.com")
    assert not user.phone_verified
    assert client.get(url("members:account")).status_code == 302  # not signed in yet
    assert [t.phone for t in outbox] == ["+8613912345678"]
    page = client.get(url(VERIFY))
    assert page.status_code == 200 and "+86 139 1234 5678" in page.content.decode()
    assert "data-resend-form" in page.content.decode()  # a new code may be asked for here
    response = client.post(url(VERIFY), {"code": outbox[0].params["code"]})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.phone_verified
    assert client.get(url("members:account")).status_code == 200


@override_settings(ACCOUNT_PHONE_VERIFICATION_ENABLED=True)
def test_with_verification_on_login_by_phone_of_an_unverified_number_asks_for_a_code(
        client, outbox):
    UserFactory(phone="+8613912345678", password=PASSWORD)
    response = client.post(url("account_login"), {"login": "139 1234 5678",
                                                  "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].endswith(url(VERIFY))
    assert client.get(url("members:account")).status_code == 302
    client.post(url(VERIFY), {"code": outbox[0].params["code"]})
    assert client.get(url("members:account")).status_code == 200


def test_with_verification_off_login_by_phone_needs_no_code(client, outbox):
    UserFactory(phone="+8613912345678", password=PASSWORD)
    response = client.post(url("account_login"), {"login": "13912345678", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(url("members:account")).status_code == 200
    assert outbox == []


@override_settings(ACCOUNT_PHONE_VERIFICATION_ENABLED=True)
def test_at_sign_up_a_new_code_at_once_is_refused_with_a_message(client, outbox):
    client.post(url("account_signup"), {"email": "new@example.com", "phone": "139 1234 5678",
                                        "password1": PASSWORD, "password2": PASSWORD})
    response = client.post(url(VERIFY), {"action": "resend"})
    assert response.status_code == 302 and response["Location"].endswith(url(VERIFY))
    assert any("too many requests" in m for m in messages_of(response))  # allauth's words
    assert len(outbox) == 1
