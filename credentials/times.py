"""UTC timestamps as Tongban documents write them: ``YYYY-MM-DDTHH:MM:SS[.fff]Z``.

XML Schema ``dateTime`` allows offsets and fractions of any length; Tongban
writes and accepts only UTC (``Z``) with at most millisecond precision, so one
instant has few spellings and comparisons need no time-zone database.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from credentials.schema import validate_format
from ledger.clock import now_ms

__all__ = ["format_ms", "format_seconds", "now_ms", "parse_ms"]


def format_seconds(seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` for a Unix time in seconds."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_ms(ms: int) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` for a Unix time in milliseconds (truncated to the second)."""
    return format_seconds(ms // 1000)


def parse_ms(text: str) -> int:
    """Milliseconds since the epoch of a Tongban UTC timestamp; ValueError if malformed."""
    if not isinstance(text, str) or not validate_format("date-time", text):
        raise ValueError("not a UTC date-time of the form YYYY-MM-DDTHH:MM:SS[.fff]Z")
    fields = (int(text[0:4]), int(text[5:7]), int(text[8:10]))
    clock = (int(text[11:13]), int(text[14:16]), int(text[17:19]))
    fraction = text[20:-1]
    millis = int((fraction + "00")[:3]) if fraction else 0
    return calendar.timegm((*fields, *clock)) * 1000 + millis
