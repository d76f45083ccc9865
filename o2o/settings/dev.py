"""The embedded shop of `make run`: base settings, served as a shop.

DEBUG is off unless asked for (``DJANGO_DEBUG=1 make run``): whoever opens the shop
sees its own 403, 404, 500 and "reload the page" answers in their language, not
Django's debug pages, and the static files are the collected, compressed ones a
production server sends. The console SMS backend still shows verification codes in
clear, so a developer can verify a number without a provider.
"""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The demo pays through the offline test gateway unless Stripe keys are set.
PAYMENT_TEST_GATEWAY = env.bool("PAYMENT_TEST_GATEWAY", default=True)
DEV_ENDPOINTS = env.bool("DEV_ENDPOINTS", default=True)  # /bench/bare, /api/docs/
SMS_CONSOLE_CLEAR = env.bool("SMS_CONSOLE_CLEAR", default=True)
