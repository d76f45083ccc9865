"""o2o.errors.reported: the one way from a service error to a message or a form error."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from o2o.errors import ApplicationError, ConflictError, reported


class PhoneForm(forms.Form):
    phone = forms.CharField()


def a_request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_an_error_becomes_a_message_with_its_prefix_and_status():
    request = a_request()
    with reported(request, prefix="O123") as outcome:
        raise ConflictError("Sold out")
    assert not outcome.ok and outcome.status == 409
    assert [str(m) for m in get_messages(request)] == ["O123: Sold out"]


def test_an_error_becomes_a_form_error_on_the_field_its_code_names():
    form = PhoneForm(data={"phone": "1"})
    assert form.is_valid()
    with reported(form=form, fields={"bad_phone": "phone"}) as outcome:
        raise ApplicationError("Not a mobile number", code="bad_phone")
    assert outcome.status == 400 and form.errors == {"phone": ["Not a mobile number"]}
    other = PhoneForm(data={"phone": "1"})
    other.is_valid()
    with reported(form=other):
        raise ApplicationError("Refused")
    assert other.non_field_errors() == ["Refused"]


def test_success_and_other_exceptions_pass_through():
    request = a_request()
    with reported(request) as outcome:
        pass
    assert outcome.ok and outcome.status == 200 and list(get_messages(request)) == []
    with pytest.raises(ZeroDivisionError), reported(request):
        raise ZeroDivisionError("not a service error")
