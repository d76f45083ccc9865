"""Quiet hours: no survey, campaign or journey message reaches a shopper at night.

``QUIET_HOURS`` (setting, shop time: ``TIME_ZONE``) is "HH:MM-HH:MM", by default
"21:00-09:00"; an empty value turns them off. A window may wrap midnight. Callers write
their outbox row with ``due_at=quiet_hours_next(moment)``, so a message meant for 22:30
waits until 09:00 the next morning (the outbox never sends a row before it is due).
A sender with a window of its own (a campaign's send window) passes it as ``window``;
None means the shop's.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone


def _parse(text: str) -> tuple[time, time] | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ImproperlyConfigured(f"QUIET_HOURS must be HH:MM-HH:MM, not {text!r}") from None
    return (start, end) if start != end else None


def quiet_hours() -> tuple[time, time] | None:
    """The window (start, end) in shop time, or None when there are no quiet hours."""
    return _parse(getattr(settings, "QUIET_HOURS", "21:00-09:00"))


Window = tuple[time, time]


def is_quiet(moment: datetime, window: Window | None = None) -> bool:
    window = window or quiet_hours()
    if window is None:
        return False
    start, end = window
    local = timezone.localtime(moment).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # wraps midnight


def quiet_hours_next(moment: datetime, window: Window | None = None) -> datetime:
    """``moment`` itself when it is outside the quiet hours, else the end of the quiet
    window it falls in (shop time, aware)."""
    window = window or quiet_hours()
    if window is None or not is_quiet(moment, window):
        return moment
    _start, end = window
    local = timezone.localtime(moment)
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    # Re-localise across a daylight-saving change (none in Asia/Shanghai, but be exact).
    return timezone.make_aware(candidate.replace(tzinfo=None), timezone.get_current_timezone())
