import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from members.models import User
from o2o.phone import phone_mask, phone_normalize

pytestmark = pytest.mark.django_db


def test_create_user_lowercases_email_and_keeps_password_hashed():
    user = User.objects.create_user(email="Lin.Xiao@Example.COM", password="s3cret-pass")
    assert user.email == "lin.xiao@example.com"
    assert user.check_password("s3cret-pass")
    assert not user.is_staff


def test_a_user_needs_an_email_or_a_phone():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email=None, password="x")
    assert User.objects.create_user(email=None, phone="+8613800138000").pk


def test_phone_must_be_e164_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email=None, phone="13800138000")


def test_email_and_phone_are_unique():
    User.objects.create_user(email="a@example.com", phone="+8613800138000")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="A@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="b@example.com", phone="+8613800138000")


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("+852 9123 4567", "+85291234567"),
    ],
)
def test_phone_normalise(typed, e164):
    assert phone_normalize(typed) == e164


@pytest.mark.parametrize("typed", ["12345", "1380013800", "abc", "+86 000 0000 0000", ""])
def test_phone_normalise_refuses_what_is_not_a_mobile_number(typed):
    with pytest.raises(ValidationError):
        phone_normalize(typed)


def test_phone_mask():
    assert phone_mask("+8613800138000") == "138****8000"
    assert phone_mask(None) == ""
