"""django-allauth glue: phone numbers live on members.User, normalised to E.164."""

import logging
from types import SimpleNamespace

from allauth.account import app_settings as allauth_account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

from o2o.brand import shop_name
from o2o.phone import PhoneFormField, phone_normalize
from o2o.sms import SmsError, send_sms

from .emails import account_email_enqueue

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def phone_form_field(self, **kwargs):
        return PhoneFormField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        return phone_normalize(phone)

    def set_phone(self, user, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        if not user.pk:
            return
        try:
            with transaction.atomic():
                user.save(update_fields=["phone", "phone_verified"])
        except IntegrityError:
            # Another account took the number between the check and now.
            self._refuse(_("This mobile number now belongs to another account."))

    def get_phone(self, user):
        return (user.phone, user.phone_verified) if user.phone else None

    def set_phone_verified(self, user, phone: str) -> None:
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str):
        # allauth hands the login field over as typed ("138 0013 8000").
        try:
            phone = phone_normalize(phone)
        except ValidationError:
            return None
        return get_user_model().objects.filter(phone=phone).first()

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        """The one-time code of allauth's phone verification (it made the code, keeps it
        in the session with the time, counts wrong entries and rate limits sends)."""
        minutes = max(1, allauth_account_settings.PHONE_VERIFICATION_TIMEOUT // 60)
        with translation.override(getattr(user, "language", None) or translation.get_language()):
            message = _("%(shop)s: your verification code is %(code)s. It is valid for "
                        "%(minutes)s minutes. Never tell it to anyone, our staff included.") % {
                "shop": settings.SHOP_NAME or _("Jinyuan Jewellery"), "code": code,
                "minutes": minutes}
        self._send(phone=phone, message=message, purpose="verify_phone",
                   params={"code": code, "minutes": str(minutes)})

    def send_account_already_exists_sms(self, phone: str) -> None:
        message = _("%(shop)s: someone tried to use this number for a new account, but it "
                    "already has one. If it was you, sign in with this number.") % {
            "shop": settings.SHOP_NAME or _("Jinyuan Jewellery")}
        self._send(phone=phone, message=message, purpose="account_exists", params={})

    def _send(self, *, phone: str, message: str, purpose: str, params: dict) -> None:
        try:
            send_sms(phone=phone, message=message, purpose=purpose, params=params)
        except SmsError:
            logger.warning("SMS (%s) could not be sent", purpose, exc_info=True)
            self._refuse(_("We could not send the text message just now. Please try again "
                           "in a few minutes."))

    def _refuse(self, message: str) -> None:
        """Stop the phone flow with ``message`` on the page it started from (allauth's
        middleware answers ImmediateHttpResponse)."""
        request = self.request
        if request is None:
            raise ValidationError(message)
        messages.error(request, message)
        signed_in = request.user.is_authenticated
        raise ImmediateHttpResponse(redirect("account_change_phone" if signed_in
                                             else "account_login"))

    def format_email_subject(self, subject: str) -> str:
        # allauth would prefix "[<host name>] "; our emails name the shop instead.
        return f"{shop_name()}: {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Rendered here, in the shopper's request, and sent by the outbox's worker
        (members.emails), in this request's transaction if there is one. allauth's
        templates greet from ``current_site.name`` (without the sites framework, the
        request's host "127.0.0.1:8000"): the shop's name instead."""
        request = self.request
        site = SimpleNamespace(name=shop_name(),
                               domain=request.get_host() if request is not None else "")
        ctx = {"request": request, "email": email, **context, "current_site": site}
        message = self.render_mail(template_prefix, email, ctx)
        account_email_enqueue(message=message, purpose=template_prefix.rsplit("/", 1)[-1])

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.language = (getattr(request, "LANGUAGE_CODE", "") or user.language)[:10]
        if commit:
            from django.db import transaction
            from django.utils import timezone

            from .services import member_profile_ensure
            from .signals import member_joined

            with transaction.atomic():  # the member, their profile and what joining starts
                user.save()
                member_profile_ensure(user=user)
                member_joined.send(sender=type(user), member=user, channel="online",
                                   at=timezone.now())
        return user
