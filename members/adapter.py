"""django-allauth glue: phone numbers live on members.User, normalised to E.164."""

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from .phone import PhoneFormField, phone_normalize


class AccountAdapter(DefaultAccountAdapter):
    def phone_form_field(self, **kwargs):
        return PhoneFormField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        return phone_normalize(phone)

    def set_phone(self, user, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        if user.pk:
            user.save(update_fields=["phone", "phone_verified"])

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
        # Verification is off until the SMS backend of the membership work exists
        # (ACCOUNT_PHONE_VERIFICATION_ENABLED = False); reaching here is a bug.
        raise RuntimeError("SMS verification is not enabled in this build")

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.language = (getattr(request, "LANGUAGE_CODE", "") or user.language)[:10]
        if commit:
            user.save()
            from .services import member_profile_ensure

            member_profile_ensure(user=user)
        return user
