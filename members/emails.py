"""allauth's emails (password reset, address confirmation, notices) through the outbox.

allauth renders them in the request (``AccountAdapter.send_mail``); the rendered message
is queued as an outbox row of kind ``members.account_email`` instead of being sent from
the request, so a slow or failing mail server never fails the page, and the message is
sent at least once. The payload carries the rendered text (a reset link is a secret):
it is blanked once the row is finished (``forget_payload``).
"""

from __future__ import annotations

import uuid

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.utils.translation import gettext_lazy

from o2o.models import OutboxMessage
from o2o.outbox import outbox_enqueue, outbox_renderer

KIND = "members.account_email"


def account_email_enqueue(*, message: EmailMessage, purpose: str) -> bool:
    """Queue an email allauth rendered (to its first recipient), in the current
    transaction if there is one. Each call is a message of its own."""
    alternatives = [[content, mimetype]
                    for content, mimetype in getattr(message, "alternatives", [])]
    return outbox_enqueue(
        channel=OutboxMessage.Channel.EMAIL, kind=KIND, recipient=message.to[0],
        dedupe_key=f"{KIND}:{purpose}:{uuid.uuid4().hex}",
        payload={"subject": message.subject, "body": message.body,
                 "from_email": message.from_email, "alternatives": alternatives,
                 "content_subtype": message.content_subtype,
                 "headers": dict(message.extra_headers), "purpose": purpose})


@outbox_renderer(KIND, forget_payload=True,
                 labels={KIND: gettext_lazy("account email (password, address)")})
def render_account_email(message: OutboxMessage) -> EmailMessage:
    data = message.payload
    email = EmailMultiAlternatives(subject=data["subject"], body=data["body"],
                                   from_email=data.get("from_email"), to=[message.recipient],
                                   headers=data.get("headers") or {})
    email.content_subtype = data.get("content_subtype") or "plain"
    for content, mimetype in data.get("alternatives") or []:
        email.attach_alternative(content, mimetype)
    return email
