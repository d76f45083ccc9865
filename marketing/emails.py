"""Marketing's messages, rendered by the outbox when they go (o2o.outbox):

    marketing.reach.email   a campaign's or journey's email: the texts filled in at the
                            reach, an open pixel and a one-click unsubscribe link
    marketing.reach.sms     the same as a text, ending with the opt-out words

Moot (cancelled, not sent) when the member withdrew that channel's consent after the
reach: consent is checked at the reach and once more as the message leaves.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import Consent, ConsentChannel
from o2o.models import OutboxMessage
from o2o.outbox import outbox_renderer
from o2o.sms import Sms

from .links import open_url, unsubscribe_url
from .models import Touch
from .services.campaigns import KIND_TEST
from .services.reach import KIND_EMAIL, KIND_SMS


def _still_consented(message: OutboxMessage, channel: str) -> bool:
    touch_id = message.payload.get("touch_id")
    member_id = Touch.objects.filter(pk=touch_id).values_list("member_id", flat=True).first()
    if member_id is None:
        return False
    return Consent.objects.filter(member_id=member_id, channel=channel,
                                  withdrawn_at__isnull=True).exists()


@outbox_renderer(KIND_EMAIL, labels={KIND_EMAIL: gettext_lazy("marketing email")})
def render_reach_email(message: OutboxMessage) -> EmailMultiAlternatives | None:
    payload = message.payload
    if not payload or not _still_consented(message, ConsentChannel.EMAIL):
        return None
    language = payload.get("language") or settings.LANGUAGE_CODE
    touch_id = int(payload["touch_id"])
    unsubscribe = unsubscribe_url(touch_id, ConsentChannel.EMAIL, language=language)
    with translation.override(language):
        context = {"subject": payload.get("subject", ""), "body": payload.get("body", ""),
                   "link": payload.get("link", ""), "language": language,
                   "unsubscribe": unsubscribe, "pixel": open_url(touch_id, language=language),
                   "shop_name": settings.SHOP_NAME or _("Jinyuan Jewellery")}
        text = render_to_string("marketing/email/reach.txt", context)
        html = render_to_string("marketing/email/reach.html", context)
    email = EmailMultiAlternatives(
        subject=payload.get("subject", ""), body=text, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"List-Unsubscribe": f"<{unsubscribe}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    email.attach_alternative(html, "text/html")
    return email


@outbox_renderer(KIND_SMS, labels={KIND_SMS: gettext_lazy("marketing text message")})
def render_reach_sms(message: OutboxMessage) -> Sms | None:
    payload = message.payload
    if not payload or not _still_consented(message, ConsentChannel.SMS):
        return None
    return Sms(phone=message.recipient, message=payload.get("text", ""),
               purpose="marketing")


@outbox_renderer(KIND_TEST, labels={KIND_TEST: gettext_lazy("campaign test email")})
def render_test_email(message: OutboxMessage) -> EmailMultiAlternatives | None:
    payload = message.payload
    if not payload:
        return None
    return EmailMultiAlternatives(subject=payload.get("subject", ""),
                                  body=payload.get("body", ""),
                                  from_email=settings.DEFAULT_FROM_EMAIL, to=[message.recipient])
