from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from o2o.quiet_hours import is_quiet, quiet_hours_next

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize("moment, expected", [
    (at(7, 10), at(7, 10)),            # daytime: now
    (at(7, 20, 59), at(7, 20, 59)),    # just before the window
    (at(7, 21), at(8, 9)),             # evening: the next morning
    (at(7, 23, 30), at(8, 9)),
    (at(8, 3), at(8, 9)),              # after midnight: this morning
    (at(8, 9), at(8, 9)),              # the window's end is open again
])
def test_a_message_waits_for_the_morning(moment, expected):
    assert quiet_hours_next(moment) == expected
    assert is_quiet(moment) == (moment != expected)


def test_a_window_inside_one_day_and_no_window():
    with override_settings(QUIET_HOURS="12:00-14:00"):
        assert quiet_hours_next(at(7, 13)) == at(7, 14)
        assert quiet_hours_next(at(7, 23)) == at(7, 23)
    with override_settings(QUIET_HOURS=""):
        assert quiet_hours_next(at(7, 23)) == at(7, 23)


def test_a_bad_setting_says_what_it_needs():
    with override_settings(QUIET_HOURS="late"), pytest.raises(ImproperlyConfigured):
        quiet_hours_next(at(7, 23))
