"""The one wall clock of the project: Unix time in milliseconds.

Every component takes a ``clock`` (a callable returning milliseconds) where
tests need to move time; this is the default they all use.
"""

from __future__ import annotations

import time

__all__ = ["now_ms"]


def now_ms() -> int:
    """The current Unix time in milliseconds (UTC, as the audit log and the store keep it)."""
    return time.time_ns() // 1_000_000
