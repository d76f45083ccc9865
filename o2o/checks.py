"""System checks for a production deployment (`manage.py check --deploy`): what would take
money without money, confirm no payment, or send nothing, in a shop that looks healthy."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

TEST_TRANSPORTS = ("console", "locmem", "dummy", "filebased")


@register(Tags.security, deploy=True)
def payments_check(app_configs=None, **kwargs):
    issues = []
    if settings.PAYMENT_TEST_GATEWAY:
        issues.append(Error(
            "PAYMENT_TEST_GATEWAY is on: the offline test gateway marks orders paid with "
            "no money.", hint="Unset PAYMENT_TEST_GATEWAY in production.", id="o2o.E001"))
    if not settings.STRIPE_SECRET_KEY:
        issues.append(Error(
            "No payment provider: STRIPE_SECRET_KEY is empty, so online payment is refused "
            "(only pickups paid at the counter can be ordered).",
            hint="Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or silence o2o.E002 "
                 "for a shop that only takes payment at the counter.", id="o2o.E002"))
    elif not settings.STRIPE_WEBHOOK_SECRET:
        issues.append(Error(
            "STRIPE_WEBHOOK_SECRET is empty: Stripe's webhooks are refused, so no online "
            "payment is ever recorded.", hint="Set STRIPE_WEBHOOK_SECRET.", id="o2o.E003"))
    return issues


@register(Tags.security, deploy=True)
def messages_check(app_configs=None, **kwargs):
    issues = []
    if any(word in settings.EMAIL_BACKEND.lower() for word in TEST_TRANSPORTS):
        issues.append(Warning(
            f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: no email reaches a shopper.",
            hint="Set EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.com:587).",
            id="o2o.W001"))
    if getattr(settings, "EMAIL_PROVIDER", ""):
        try:
            import_string(settings.EMAIL_BACKEND)
        except ImportError:
            issues.append(Error(
                f"EMAIL_PROVIDER is {settings.EMAIL_PROVIDER!r}: django-anymail has no such "
                "backend, so no email can be sent.",
                hint="Use one of anymail.backends' names (mailgun, amazon_ses, postmark, "
                     "sendgrid, brevo, ...).", id="o2o.E004"))
    if any(word in settings.SMS_BACKEND.lower() for word in TEST_TRANSPORTS):
        issues.append(Warning(
            f"SMS_BACKEND is {settings.SMS_BACKEND}: no text message (verification codes "
            "included) reaches a phone.", hint="Name your provider's o2o.sms backend.",
            id="o2o.W002"))
    if not settings.SHOP_BASE_URL.startswith("https://"):
        issues.append(Warning(
            f"SHOP_BASE_URL is {settings.SHOP_BASE_URL}: links in emails point there.",
            hint="Set SHOP_BASE_URL to the shop's public https:// address.", id="o2o.W003"))
    if settings.DEV_ENDPOINTS:
        issues.append(Warning(
            "DEV_ENDPOINTS is on: /bench/bare and /api/docs/ are served.",
            hint="Unset DEV_ENDPOINTS in production.", id="o2o.W004"))
    return issues
