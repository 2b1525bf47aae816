"""流水号 allocation: one counter per (证照类型代码, 颁发机构代码) in the store.

Every 证照标识 the province issues takes its serial from a counter kept in the
store (component ``zhengzhao_serials``), one row per (type code, agency code),
so every HTTP worker process and every issuing process share one sequence:

- ``allocate_many(db, {(type, agency): count}, now_ms=...)`` advances every
  counter named in one write transaction (the store's write lock serialises
  processes on SQLite and PostgreSQL alike; the primary key makes a second row
  per pair impossible) and returns the identifiers. ``allocate`` is the one-pair
  form; ``allocate_in`` does it inside a caller's transaction (the issuer's, which
  also reserves status list slots).
- The serial is ``<year><counter>``: the four-digit year of issuance in China
  Standard Time (UTC+8, the 颁证日期's calendar) and the counter zero-padded to
  at least ``COUNTER_DIGITS`` digits, e.g. ``20260000001``: the year-prefixed
  digit runs the provincial libraries publish (``docs/dianzi-zhengzhao.md``).
  The counter is never reset (not by year either), so the counter alone is
  unique per pair and the year is only for the reader; past 9,999,999 it grows a
  digit rather than wrap (up to 2^63 - 1: 23 characters, within the 32 allowed).
- The version is ``VERSION`` (001) and the check character ISO/IEC 7064 MOD
  37,36 (``identifier.ZhengzhaoId``).
- Nothing personal goes in: the identifier is made of codes, a year and a count.

The allocation commits on its own, before the credentials are signed (the
identifier is inside the signed credential). A crash or a failed issuance after
it loses those serials: a gap in the sequence, never a serial handed out twice,
and never a gap in what a client was told (a client only learns of identifiers
whose credentials were stored).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from ledger.clock import now_ms as clock_now_ms
from ledger.store.database import Database, Transaction
from ledger.store.migrations import Migration, migrate

from .errors import IdentifierError
from .identifier import ZhengzhaoId

__all__ = [
    "COUNTER_DIGITS",
    "MAX_ALLOCATE",
    "MIGRATIONS",
    "VERSION",
    "allocate",
    "allocate_in",
    "allocate_many",
    "check_counts",
    "prepare",
    "serial_number",
]

COUNTER_DIGITS: Final = 7
"""The counter's minimum width in the serial (a year and 7 digits: 11 characters)."""

VERSION: Final = 1
"""The 版本号 of every identifier allocated here (written ``001``)."""

MAX_ALLOCATE: Final = 10_000
"""Most identifiers one call hands out (all pairs together)."""

_CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8))
_MAX_COUNTER: Final = 2**63 - 1
"""The store's integers are 64 bits; a year and 19 digits stay within the 32 characters."""

MIGRATIONS: Final = (
    Migration(
        1,
        "zhengzhao serial counters",
        (
            """CREATE TABLE zhengzhao_serials (
                type_code TEXT NOT NULL,
                agency_code TEXT NOT NULL,
                last_counter INTEGER NOT NULL,
                updated_at_ms INTEGER NOT NULL,
                PRIMARY KEY (type_code, agency_code)
            )""",
        ),
    ),
)
"""The schema of component ``zhengzhao_serials``."""

_prepared: weakref.WeakSet[Database] = weakref.WeakSet()


def prepare(db: Database) -> None:
    """Create or upgrade the counter table (safe from every process; once per ``db``)."""
    if db not in _prepared:
        migrate(db, "zhengzhao_serials", MIGRATIONS)
        _prepared.add(db)


def serial_number(year: int, counter: int) -> str:
    """The 流水号 of ``counter`` issued in ``year``: ``<year><counter, at least 7 digits>``."""
    if isinstance(year, bool) or not isinstance(year, int) or not 1000 <= year <= 9999:
        raise IdentifierError("serialNumber", "value", "the year must have four digits")
    if isinstance(counter, bool) or not isinstance(counter, int) or counter < 1:
        raise IdentifierError("serialNumber", "value", "the counter starts at 1")
    if counter > _MAX_COUNTER:
        raise IdentifierError("serialNumber", "value", "the counter is exhausted")
    return f"{year:04d}{counter:0{COUNTER_DIGITS}d}"


def _year_of(at_ms: int) -> int:
    return datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(_CHINA_STANDARD_TIME).year


def allocate(
    db: Database, type_code: str, agency_code: str, count: int, *, now_ms: int | None = None
) -> list[ZhengzhaoId]:
    """``count`` new identifiers of (``type_code``, ``agency_code``), in counter order."""
    return allocate_many(db, {(type_code, agency_code): count}, now_ms=now_ms)[
        (type_code, agency_code)
    ]


def allocate_many(
    db: Database, counts: Mapping[tuple[str, str], int], *, now_ms: int | None = None
) -> dict[tuple[str, str], list[ZhengzhaoId]]:
    """New identifiers for every (type code, agency code) of ``counts``, in one transaction.

    Every pair gets its ``count`` next serials, increasing; the transaction commits
    before this returns. The codes are validated (``IdentifierError`` naming the
    field) and the total is 1 to ``MAX_ALLOCATE`` (``ValueError``) before anything
    is written. ``now_ms`` (default: now) gives the year in the serials.
    """
    at = clock_now_ms() if now_ms is None else now_ms
    check_counts(counts, now_ms=at)
    prepare(db)
    with db.write() as tx:
        return allocate_in(tx, counts, now_ms=at)


def check_counts(counts: Mapping[tuple[str, str], int], *, now_ms: int) -> None:
    """Validate what ``allocate_in`` is asked for, before any transaction (``allocate_many``)."""
    year = _year_of(now_ms)
    total = 0
    for (type_code, agency_code), count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("allocate at least one identifier per type and agency")
        total += count
        # Validates both codes (and the year) before the transaction.
        ZhengzhaoId(type_code, agency_code, serial_number(year, 1), VERSION)
    if not 1 <= total <= MAX_ALLOCATE:
        raise ValueError(f"allocate between 1 and {MAX_ALLOCATE} identifiers at a time")


def allocate_in(
    tx: Transaction, counts: Mapping[tuple[str, str], int], *, now_ms: int
) -> dict[tuple[str, str], list[ZhengzhaoId]]:
    """``allocate_many`` inside the caller's write transaction ``tx`` (after ``prepare``).

    The identifiers are allocated once ``tx`` commits; the caller validated
    ``counts`` with ``check_counts``. The issuer allocates them and reserves status
    list slots in one transaction: one commit before signing instead of two.
    """
    year = _year_of(now_ms)
    allocated: dict[tuple[str, str], list[ZhengzhaoId]] = {}
    # Sorted: the same pairs are always visited in one order.
    for type_code, agency_code in sorted(counts):
        count = counts[(type_code, agency_code)]
        tx.execute(
            "INSERT INTO zhengzhao_serials "
            "(type_code, agency_code, last_counter, updated_at_ms) VALUES (?, ?, 0, ?) "
            "ON CONFLICT (type_code, agency_code) DO NOTHING",
            (type_code, agency_code, now_ms),
        )
        row = tx.fetchone(
            "SELECT last_counter FROM zhengzhao_serials WHERE type_code = ? AND agency_code = ?",
            (type_code, agency_code),
        )
        if row is None:
            raise RuntimeError("a serial counter vanished inside its transaction")
        first = int(row[0]) + 1
        last = first + count - 1
        if last > _MAX_COUNTER:
            raise IdentifierError("serialNumber", "value", "the counter is exhausted")
        tx.execute(
            "UPDATE zhengzhao_serials SET last_counter = ?, updated_at_ms = ? "
            "WHERE type_code = ? AND agency_code = ?",
            (last, now_ms, type_code, agency_code),
        )
        allocated[(type_code, agency_code)] = [
            ZhengzhaoId(type_code, agency_code, serial_number(year, counter), VERSION)
            for counter in range(first, last + 1)
        ]
    return allocated
