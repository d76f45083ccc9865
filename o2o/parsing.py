"""Numbers typed, scanned or posted: one reading for every view, form and filter, so a
5,000-digit "id" or a full-width digit is a clear 4xx, never an overflow or a 500."""

from __future__ import annotations

# 18 digits: every value fits PostgreSQL's bigint (ids) and Python's int() without its
# 4,300-digit guard.
MAX_DIGITS = 18


def whole_number(raw, *, max_digits: int = MAX_DIGITS) -> int | None:
    """``raw`` (str, int or None) as a whole number 0 or more, or None: ASCII digits only
    (surrounding spaces allowed), at most ``max_digits`` of them."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 <= raw < 10 ** max_digits else None
    text = str(raw).strip() if raw is not None else ""
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
