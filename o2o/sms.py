"""Text messages (SMS): one small interface, the backend named by settings.SMS_BACKEND.

    from o2o.sms import send_sms
    send_sms(phone="+8613800138000", message="...", purpose="verify_phone",
             params={"code": "123456"})

In the kernel so that the outbox (o2o.outbox) sends text messages without importing an
app. Messages caused by a change of state go through the outbox; only the one-time
codes a person waits for on the page (allauth's phone verification) call ``send_sms``
directly (docs/decisions.md, "The outbox").

Backends:

- ``ConsoleBackend`` (development, the default): writes the message to the log
  (logger ``o2o.sms``). With DEBUG off it never writes a code in clear: every digit
  of the message and of the number is masked (unless SMS_CONSOLE_CLEAR, as make run).
- ``LocmemBackend`` (tests): keeps each message in ``o2o.sms.outbox``, as
  django.core.mail's locmem backend does with ``mail.outbox`` (and each provider call
  in ``o2o.sms.calls``).
- A provider (production): subclass ``BaseBackend`` in a module of your own and name it
  in the environment, e.g. ``SMS_BACKEND=yourshop.sms.AliyunBackend``. ``send()`` gets
  the number in E.164, the whole text in the member's language, a ``purpose``
  ("verify_phone", "account_exists"...) and its ``params`` (``{"code": "123456"}``).
  Providers that only send registered templates (Aliyun, Tencent Cloud) map
  ``purpose`` to their template id and pass ``params``; the others send ``message``.
  Keys and template ids come from the environment (SMS_* settings), never the repo.
  Raise ``SmsError`` when the provider refuses or cannot be reached (after its own
  short retries): the member is told the message could not be sent. Do not log the
  message or the params: they carry codes.
- Batches (campaigns through the outbox): ``send_many()`` takes up to ``max_batch``
  messages for one provider call and answers, per message, None (sent) or the error.
  The base class loops over ``send()``; a provider with a bulk API (Aliyun's
  SendBatchSms takes 100 numbers) overrides it and raises ``max_batch``. Each message
  carries a ``reference`` (the outbox's dedupe digest) for providers that take an
  idempotency id (Aliyun's OutId).

``send_sms`` is synchronous (the member waits for the code) and is never called inside a
database transaction that holds locks. How often a number may get a code is limited
before the backend is reached (ACCOUNT_RATE_LIMITS["verify_phone"]).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("o2o.sms")


class SmsError(Exception):
    """The message could not be sent (provider refused it or could not be reached)."""


@dataclass(frozen=True)
class Sms:
    phone: str
    message: str
    purpose: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    reference: str = field(default="", compare=False)


# LocmemBackend's messages, oldest first, and its provider calls (lists of messages):
# tests empty them between tests.
outbox: list[Sms] = []
calls: list[list[Sms]] = []


class BaseBackend:
    """The provider interface. Keyword arguments only."""

    # How many messages one provider call may carry (send_many).
    max_batch = 1

    def send(self, *, phone: str, message: str, purpose: str = "",
             params: Mapping[str, str] | None = None) -> None:
        raise NotImplementedError("an SMS backend must implement send()")

    def send_many(self, messages: Sequence[Sms]) -> list[Exception | None]:
        """Send up to ``max_batch`` messages in one call; per message None (sent) or the
        error (SmsError) that kept it from going. Other exceptions mean the whole call
        failed and nothing is known to have gone."""
        if len(messages) > self.max_batch:
            raise ValueError(f"at most {self.max_batch} messages per call")
        results: list[Exception | None] = []
        for sms in messages:
            try:
                self.send(phone=sms.phone, message=sms.message, purpose=sms.purpose,
                          params=dict(sms.params))
            except SmsError as exc:
                results.append(exc)
            else:
                results.append(None)
        return results


def mask_digits(text: str) -> str:
    """Every digit replaced by ``*``: codes, numbers and amounts alike."""
    return re.sub(r"\d", "*", text)


class ConsoleBackend(BaseBackend):
    """Development: the message goes to the log instead of a phone. With DEBUG off (a
    production-like run without a provider) digits are masked, so no code and no
    number ever reaches the log in clear."""

    max_batch = 1000

    def send(self, *, phone: str, message: str, purpose: str = "",
             params: Mapping[str, str] | None = None) -> None:
        if not (settings.DEBUG or getattr(settings, "SMS_CONSOLE_CLEAR", False)):
            phone, message = mask_digits(phone), mask_digits(message)
        logger.info("SMS to %s (%s): %s", phone, purpose or "message", message)


class LocmemBackend(BaseBackend):
    """Tests: messages are kept in ``o2o.sms.outbox``, provider calls in ``calls``."""

    max_batch = 100

    def send(self, *, phone: str, message: str, purpose: str = "",
             params: Mapping[str, str] | None = None) -> None:
        self.send_many([Sms(phone=phone, message=message, purpose=purpose,
                            params=dict(params or {}))])

    def send_many(self, messages: Sequence[Sms]) -> list[Exception | None]:
        if len(messages) > self.max_batch:
            raise ValueError(f"at most {self.max_batch} messages per call")
        calls.append(list(messages))
        outbox.extend(messages)
        return [None] * len(messages)


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, phone: str, message: str, purpose: str = "",
             params: Mapping[str, str] | None = None) -> None:
    """Send one text message through the configured backend; SmsError when it fails."""
    get_backend().send(phone=phone, message=message, purpose=purpose, params=params or {})


def send_sms_many(messages: Sequence[Sms]) -> list[Exception | None]:
    """Send many messages in as few provider calls as the backend allows (``max_batch``
    each); per message None (sent) or its error, in order."""
    backend = get_backend()
    size = max(1, int(getattr(backend, "max_batch", 1)))
    results: list[Exception | None] = []
    for start in range(0, len(messages), size):
        results += backend.send_many(list(messages[start:start + size]))
    return results
