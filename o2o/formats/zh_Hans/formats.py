"""Simplified Chinese: Django's formats, and a month and day without a leading zero
(12月6日, 1月6日: Django's "m月j日" writes 01月6日)."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

MONTH_DAY_FORMAT = "n月j日"
