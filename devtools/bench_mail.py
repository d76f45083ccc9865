"""A mail backend for `make bench`'s kill run: every message "sent" is appended to a Redis
list (BENCH_MAIL_KEY on REDIS_URL) by its Message-ID, after BENCH_MAIL_DELAY seconds (so a
batch lasts long enough to be killed in the middle). The bench counts arrivals, and
repeats, from it."""

from __future__ import annotations

import json
import os
import time

import redis
from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        key = os.environ["BENCH_MAIL_KEY"]
        for message in email_messages:
            time.sleep(float(os.environ.get("BENCH_MAIL_DELAY", "0")))
            client.rpush(key, json.dumps({"id": message.message()["Message-ID"],
                                          "to": message.to}))
        return len(email_messages)


def delivered(redis_url: str, key: str) -> list[dict]:
    client = redis.Redis.from_url(redis_url)
    return [json.loads(item) for item in client.lrange(key, 0, -1)]
