"""Anomaly views over the access log: pure functions over per-day counts.

The auditor's console charts, for each verifier (an ``actor`` with its
``actorOrg``), how many accesses it made per purpose per day, and flags two
things worth a look (docs/consoles.md):

- **spike**: a verifier's accesses on a day (all purposes) reach at least
  ``min_count`` *and* exceed ``factor`` times the median of its daily totals
  over the ``window`` days before (days without access count as 0). A
  verifier is judged only once it has ``min_history`` days of history
  inside that window (counted from its first access in the window), so one
  access, or a verifier's first busy day, is never a spike.
- **unusual purpose**: on a day, a verifier accessed for a purpose that made
  up less than ``share`` of its accesses over the ``window`` days before
  (including a purpose it never used there). A verifier without any access
  in the window before is **new** that day, listed apart, and none of its
  purposes is called unusual (there is nothing to compare with).

Days are calendar days in China Standard Time (UTC+8, no daylight saving).
Every function here is deterministic: the same counts give the same answer,
in a fixed order.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

__all__ = [
    "DEFAULT_RULES",
    "AnomalyRules",
    "DayCount",
    "NewVerifier",
    "Spike",
    "UnusualPurpose",
    "Verifier",
    "new_verifiers",
    "spikes",
    "unusual_purposes",
]


@dataclass(frozen=True, order=True)
class Verifier:
    """Who accessed: the client id and the organisation it acted for."""

    actor: str
    org: str


@dataclass(frozen=True)
class DayCount:
    """A verifier's accesses for one purpose on one UTC+8 day."""

    day: date
    verifier: Verifier
    purpose: str
    count: int


@dataclass(frozen=True)
class AnomalyRules:
    """The rules' parameters (the module docstring says what each does)."""

    window: int = 28
    """Trailing days a day is compared with (the day itself excluded)."""
    factor: float = 3.0
    """A spike exceeds this many times the trailing median."""
    min_count: int = 10
    """A spike has at least this many accesses that day."""
    min_history: int = 7
    """Days of history in the window before a verifier can spike."""
    share: float = 0.05
    """A purpose under this share of the trailing accesses is unusual."""

    def __post_init__(self) -> None:
        """Refuse parameters under which a rule means nothing."""
        if self.window < 1 or self.min_history < 1 or self.min_history > self.window:
            raise ValueError("window and min_history must be at least 1, min_history <= window")
        if self.factor <= 0 or self.min_count < 1 or not 0 < self.share <= 1:
            raise ValueError("factor > 0, min_count >= 1 and 0 < share <= 1 are required")


DEFAULT_RULES = AnomalyRules()
"""The rules the consoles use (docs/consoles.md)."""


@dataclass(frozen=True)
class Spike:
    """A verifier's day that the spike rule flags."""

    day: date
    verifier: Verifier
    count: int
    trailing_median: float
    history_days: int


@dataclass(frozen=True)
class UnusualPurpose:
    """A purpose a verifier rarely or never used before, used on ``day``."""

    day: date
    verifier: Verifier
    purpose: str
    count: int
    trailing_count: int
    trailing_total: int

    @property
    def never_before(self) -> bool:
        """The verifier never used this purpose in the trailing window."""
        return self.trailing_count == 0


@dataclass(frozen=True)
class NewVerifier:
    """A verifier with accesses on ``day`` and none in the window before it."""

    day: date
    verifier: Verifier
    count: int


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _totals(counts: Iterable[DayCount]) -> dict[Verifier, dict[date, int]]:
    totals: dict[Verifier, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for item in counts:
        if item.count > 0:
            totals[item.verifier][item.day] += item.count
    return totals


def _first_seen(active: list[date], start: date, day: date) -> date | None:
    """The earliest of the sorted ``active`` days in ``[start, day)``, or None."""
    at = bisect_left(active, start)
    return active[at] if at < len(active) and active[at] < day else None


def spikes(
    counts: Iterable[DayCount], first: date, last: date, rules: AnomalyRules = DEFAULT_RULES
) -> list[Spike]:
    """The spikes on the days ``first`` to ``last`` (inclusive), by day then verifier.

    ``counts`` must cover the ``rules.window`` days before ``first`` too: a day
    is judged against what the counts say of its trailing window.
    """
    found: list[Spike] = []
    for verifier, per_day in sorted(_totals(counts).items()):
        active = sorted(per_day)
        for day in _days(first, last):
            count = per_day.get(day, 0)
            if count < rules.min_count:
                continue
            since = _first_seen(active, day - timedelta(days=rules.window), day)
            if since is None:
                continue
            history = _days(since, day - timedelta(days=1))
            if len(history) < rules.min_history:
                continue
            middle = float(median(per_day.get(d, 0) for d in history))
            if count > rules.factor * middle:
                found.append(Spike(day, verifier, count, middle, len(history)))
    return sorted(found, key=lambda s: (s.day, s.verifier))


def _by_purpose(counts: Iterable[DayCount]) -> dict[Verifier, dict[date, dict[str, int]]]:
    table: dict[Verifier, dict[date, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    for item in counts:
        if item.count > 0:
            table[item.verifier][item.day][item.purpose] += item.count
    return table


def _add(into: dict[str, int], counts: dict[str, int] | None, sign: int) -> None:
    for purpose, count in (counts or {}).items():
        into[purpose] += sign * count


def unusual_purposes(
    counts: Iterable[DayCount], first: date, last: date, rules: AnomalyRules = DEFAULT_RULES
) -> list[UnusualPurpose]:
    """Unusual purposes on the days ``first`` to ``last``, by day, verifier, purpose."""
    found: list[UnusualPurpose] = []
    window = timedelta(days=rules.window)
    for verifier, per_day in sorted(_by_purpose(counts).items()):
        # The window's sums per purpose, slid one day at a time (not re-added per day).
        trailing: dict[str, int] = defaultdict(int)
        for day in _days(first - window, first - timedelta(days=1)):
            _add(trailing, per_day.get(day), 1)
        for day in _days(first, last):
            today = per_day.get(day)
            total = sum(trailing.values())
            if today and total > 0:  # total 0: a new verifier, see new_verifiers
                for purpose, count in sorted(today.items()):
                    before = trailing.get(purpose, 0)
                    if before < rules.share * total:
                        found.append(UnusualPurpose(day, verifier, purpose, count, before, total))
            _add(trailing, today, 1)
            _add(trailing, per_day.get(day - window), -1)
    return sorted(found, key=lambda u: (u.day, u.verifier, u.purpose))


def new_verifiers(
    counts: Iterable[DayCount], first: date, last: date, rules: AnomalyRules = DEFAULT_RULES
) -> list[NewVerifier]:
    """Verifiers with accesses on a day of ``first`` to ``last`` and none in the window before."""
    found: list[NewVerifier] = []
    for verifier, per_day in sorted(_totals(counts).items()):
        active = sorted(per_day)
        for day in _days(first, last):
            count = per_day.get(day, 0)
            if count and _first_seen(active, day - timedelta(days=rules.window), day) is None:
                found.append(NewVerifier(day, verifier, count))
    return sorted(found, key=lambda n: (n.day, n.verifier))
