"""Signed links that let a shopper reschedule or cancel without logging in.

The token is the appointment number signed with a timestamp (TimestampSigner, its own
salt); it expires after MAX_AGE, and once the appointment is over it only shows it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation

from .errors import BadLink
from .models import Appointment

SALT = "stores.appointment.manage"
MAX_AGE = timedelta(days=90)  # longer than any store's booking horizon


def appointment_token(appointment: Appointment) -> str:
    return signing.TimestampSigner(salt=SALT).sign(appointment.number)


def appointment_number_from_token(token: str) -> str:
    """The appointment number a token was made for; BadLink when forged or expired."""
    from django.utils.translation import gettext as _

    try:
        return signing.TimestampSigner(salt=SALT).unsign(token, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise BadLink(_("This link has expired. Please call the store."),
                      code="link_expired") from None
    except signing.BadSignature:
        raise BadLink(_("This link is not valid."), code="bad_link") from None


def appointment_manage_path(appointment: Appointment, *, language: str | None = None) -> str:
    with translation.override(language or appointment.language):
        return reverse("stores:appointment_manage", kwargs={"token": appointment_token(appointment)})


def absolute(path: str) -> str:
    """A link for an email: SHOP_BASE_URL (e.g. https://shop.example.com) + path."""
    base = settings.SHOP_BASE_URL
    return base.rstrip("/") + path
