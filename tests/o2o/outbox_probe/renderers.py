from django.core.mail import EmailMessage

from o2o.outbox import outbox_renderer
from o2o.sms import Sms


@outbox_renderer("probe.email")
def probe_email(message):
    return EmailMessage(subject=f"probe {message.payload['n']}", body="hello",
                        to=[message.recipient])


@outbox_renderer("probe.sms")
def probe_sms(message):
    return Sms(phone=message.recipient, message=f"probe {message.payload['n']}")
