"""Transports for processes the kill tests start: every message delivered is appended to a
Redis list (DELIVERY_LOG_KEY on REDIS_URL), the email by its Message-ID header, the text
message by its reference, so the test counts what arrived, and what arrived twice, after
the processes it killed. DELIVERY_DELAY seconds per message make a batch last long enough
to be killed in the middle."""

import json
import os
import time

import redis
from django.core.mail.backends.base import BaseEmailBackend

from o2o.sms import BaseBackend


def _log():
    return redis.Redis.from_url(os.environ["REDIS_URL"]), os.environ["DELIVERY_LOG_KEY"]


def _pause():
    time.sleep(float(os.environ.get("DELIVERY_DELAY", "0")))


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        client, key = _log()
        for message in email_messages:
            _pause()
            mime = message.message()
            client.rpush(key, json.dumps({"channel": "email", "id": mime["Message-ID"],
                                          "to": message.to, "subject": message.subject}))
        return len(email_messages)


class SmsBackend(BaseBackend):
    max_batch = 10

    def send_many(self, messages):
        client, key = _log()
        _pause()
        client.rpush(key, *[json.dumps({"channel": "sms", "id": sms.reference,
                                        "to": [sms.phone], "subject": sms.message})
                            for sms in messages])
        return [None] * len(messages)


def delivered(key: str) -> list[dict]:
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    return [json.loads(item) for item in client.lrange(key, 0, -1)]
