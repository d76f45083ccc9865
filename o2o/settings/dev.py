"""The embedded shop of `make run`: base settings, DEBUG on unless told otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# The demo pays through the offline test gateway unless Stripe keys are set.
PAYMENT_TEST_GATEWAY = env.bool("PAYMENT_TEST_GATEWAY", default=True)
DEV_ENDPOINTS = env.bool("DEV_ENDPOINTS", default=True)  # /bench/bare, /api/docs/
