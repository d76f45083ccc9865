"""Text messages (SMS): one small interface, the backend named by settings.SMS_BACKEND.

    from members.sms import send_sms
    send_sms(phone="+8613800138000", message="...", purpose="verify_phone",
             params={"code": "123456"})

Backends:

- ``ConsoleBackend`` (development, the default): writes the message to the log
  (logger ``members.sms``). With DEBUG off it never writes a code in clear: every digit
  of the message and of the number is masked (unless SMS_CONSOLE_CLEAR, as make run).
- ``LocmemBackend`` (tests): keeps each message in ``members.sms.outbox``, as
  django.core.mail's locmem backend does with ``mail.outbox``.
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

Sending is synchronous (the member waits for the code) and is never called inside a
database transaction that holds locks. How often a number may get a code is limited
before the backend is reached (ACCOUNT_RATE_LIMITS["verify_phone"]).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("members.sms")


class SmsError(Exception):
    """The message could not be sent (provider refused it or could not be reached)."""


@dataclass(frozen=True)
class Sms:
    phone: str
    message: str
    purpose: str = ""
    params: Mapping[str, str] = field(default_factory=dict)


# LocmemBackend's messages, oldest first (tests empty it between tests).
outbox: list[Sms] = []


class BaseBackend:
    """The provider interface. One instance per message; keyword arguments only."""

    def send(self, *, phone: str, message: str, purpose: str = "",
             params: Mapping[str, str] | None = None) -> None:
        raise NotImplementedError("an SMS backend must implement send()")


def mask_digits(text: str) -> str:
    """Every digit replaced by ``*``: codes, numbers and amounts alike."""
    return re.sub(r"\d", "*", text)


class ConsoleBackend(BaseBackend):
    """Development: the message goes to the log instead of a phone. With DEBUG off (a
    production-like run without a provider) digits are masked, so no code and no
    number ever reaches the log in clear."""

    def send(self, *, phone: str, message: str, purpose: str = "",
             params: Mapping[str, str] | None = None) -> None:
        if not (settings.DEBUG or settings.SMS_CONSOLE_CLEAR):
            phone, message = mask_digits(phone), mask_digits(message)
        logger.info("SMS to %s (%s): %s", phone, purpose or "message", message)


class LocmemBackend(BaseBackend):
    """Tests: messages are kept in ``members.sms.outbox``."""

    def send(self, *, phone: str, message: str, purpose: str = "",
             params: Mapping[str, str] | None = None) -> None:
        outbox.append(Sms(phone=phone, message=message, purpose=purpose,
                          params=dict(params or {})))


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, phone: str, message: str, purpose: str = "",
             params: Mapping[str, str] | None = None) -> None:
    """Send one text message through the configured backend; SmsError when it fails."""
    get_backend().send(phone=phone, message=message, purpose=purpose, params=params or {})
