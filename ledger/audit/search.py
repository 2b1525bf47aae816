"""Searching the access log: filters, newest first, keyset pages, and counts for charts.

An event's filterable fields (``actorOrg``, ``action``, ``purpose``,
``outcome``) live only in its canonical JSON (``audit_events.body``); the
append path stores just what it needs (seq, time, actor, subject key). This
module keeps them beside the log in ``audit_facets`` (component
``audit_search``), one row per event, with an index per filter, so a filtered
page reads index entries and never scans the log.

The facets are derived data: ``AuditSearch.refresh`` catches them up from the
events appended since the last refresh, and every search and count refreshes
first. Appends stay as fast as before (no extra index on the hot table), and a
store upgraded from a version without the facets fills them on its first
search. The facets are read when the event is indexed; an event altered in
the store afterwards keeps its old facets, and a search answers the event's
stored body, whose receipt no longer verifies: proving an event is the
receipt's job, not the search's. A body that is no JSON object at all is
listed with ``event`` None (and indexed with empty fields), so one altered
row neither hides itself nor stops the search.

Pages are keyset pages over the event index (``seq``), newest first: the
cursor is the index of the last event of a page, and the next page is the
events below it that match. Events appended meanwhile have higher indexes,
so paging never repeats or skips an event. There is no ``OFFSET``.

Everything here is pseudonymous: events hold pseudonyms, and nothing here
turns one back into a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.audit.errors import AuditError, LogCorruptedError
from ledger.audit.tables import event_json
from ledger.store.database import Database, Transaction
from ledger.store.migrations import Migration, migrate

__all__ = [
    "DAY_MS",
    "HOUR_MS",
    "MAX_PAGE",
    "MIGRATIONS",
    "UTC8_OFFSET_MS",
    "AuditSearch",
    "BadCursorError",
    "EventFilter",
    "EventPage",
    "FoundEvent",
    "GroupCount",
    "decode_cursor",
]

MIGRATIONS = (
    Migration(
        1,
        "audit search facets",
        (
            """CREATE TABLE audit_facets (
                seq INTEGER PRIMARY KEY,
                time_ms INTEGER NOT NULL,
                actor TEXT NOT NULL,
                actor_org TEXT NOT NULL,
                action TEXT NOT NULL,
                purpose TEXT NOT NULL,
                outcome TEXT NOT NULL
            )""",
            # (filter, seq): an equality filter then walks its index in seq order,
            # which is the page order, and stops after one page.
            "CREATE INDEX audit_facets_actor ON audit_facets (actor, seq)",
            "CREATE INDEX audit_facets_org ON audit_facets (actor_org, seq)",
            "CREATE INDEX audit_facets_action ON audit_facets (action, seq)",
            "CREATE INDEX audit_facets_purpose ON audit_facets (purpose, seq)",
            "CREATE INDEX audit_facets_outcome ON audit_facets (outcome, seq)",
            # Time first, then every field a count groups by: a time range's counts
            # read this index alone, never the table.
            "CREATE INDEX audit_facets_time ON audit_facets "
            "(time_ms, action, actor, actor_org, purpose)",
        ),
    ),
)

MAX_PAGE = 200
"""Most events on one page."""

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
UTC8_OFFSET_MS = 8 * HOUR_MS
"""China Standard Time is UTC+8 all year (no daylight saving): the consoles' days."""

_REFRESH_CHUNK = 2000
_MAX_CURSOR = 2**53 - 1


class BadCursorError(AuditError):
    """A page cursor that this search did not hand out."""

    def __init__(self) -> None:
        """The one message: a cursor is opaque, so there is nothing more to say."""
        super().__init__("the cursor is not one a previous page returned")


def decode_cursor(cursor: str) -> int:
    """The event index a cursor stands for; ``BadCursorError`` unless it is one."""
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 16):
        raise BadCursorError
    value = int(cursor)
    if value > _MAX_CURSOR:
        raise BadCursorError
    return value


@dataclass(frozen=True)
class EventFilter:
    """Which events a search returns: each given field must match (``None``: any).

    ``since_ms`` is inclusive and ``until_ms`` exclusive (event time, ms since
    the epoch); the other fields are equality tests on the event's own fields.
    """

    since_ms: int | None = None
    until_ms: int | None = None
    actor: str | None = None
    actor_org: str | None = None
    action: str | None = None
    purpose: str | None = None
    outcome: str | None = None

    def where(self) -> tuple[list[str], list[Any]]:
        """SQL conditions on ``audit_facets`` (alias ``f``) and their parameters."""
        conditions: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("actor", self.actor),
            ("actor_org", self.actor_org),
            ("action", self.action),
            ("purpose", self.purpose),
            ("outcome", self.outcome),
        ):
            if value is not None:
                conditions.append(f"f.{column} = ?")
                params.append(value)
        if self.since_ms is not None:
            conditions.append("f.time_ms >= ?")
            params.append(self.since_ms)
        if self.until_ms is not None:
            conditions.append("f.time_ms < ?")
            params.append(self.until_ms)
        return conditions, params


@dataclass(frozen=True)
class FoundEvent:
    """One event of a page: its index in the log and its JSON as stored.

    ``event`` is None when the stored body is not a JSON object (the store was
    altered): the page still lists it, so the console can flag it, and the
    pages around it stay readable.
    """

    index: int
    event: dict[str, Any] | None


@dataclass(frozen=True)
class EventPage:
    """One page of a search, newest first; ``next_cursor`` is None on the last page."""

    events: list[FoundEvent]
    next_cursor: str | None


@dataclass(frozen=True)
class GroupCount:
    """How many events fell in one bucket (a day or an hour) for one group of fields."""

    bucket: int
    """The bucket's number: UTC+8 days or UTC hours since the epoch (see the caller)."""
    key: tuple[str, ...]
    """The grouped fields' values, in the order asked for."""
    count: int


_GROUPABLE = ("actor", "actor_org", "action", "purpose", "outcome")


class AuditSearch:
    """Searches and counts over one store's access log."""

    def __init__(self, db: Database) -> None:
        """Use ``db``'s log (``AuditLog`` must have created its tables)."""
        self.db = db
        migrate(db, "audit_search", MIGRATIONS)

    # -- facets --------------------------------------------------------------------

    def refresh(self) -> int:
        """Index the events appended since the last refresh; returns how many it indexed."""
        with self.db.read() as tx:
            if _indexed(tx) >= _newest(tx):
                return 0
        added = 0
        while True:
            with self.db.write() as tx:
                # Re-read under the write lock: another worker may have indexed meanwhile.
                start = _indexed(tx)
                rows = tx.fetchall(
                    "SELECT seq, time_ms, actor, body FROM audit_events WHERE seq > ? "
                    "ORDER BY seq LIMIT ?",
                    (start, _REFRESH_CHUNK),
                )
                tx.executemany(
                    "INSERT INTO audit_facets "
                    "(seq, time_ms, actor, actor_org, action, purpose, outcome) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING",
                    [_facets(row) for row in rows],
                )
            added += len(rows)
            if len(rows) < _REFRESH_CHUNK:
                return added

    # -- pages ---------------------------------------------------------------------

    def search(
        self, where: EventFilter, *, limit: int = 50, cursor: str | None = None
    ) -> EventPage:
        """The newest ``limit`` events matching ``where`` below ``cursor`` (a previous page's)."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
        below = None if cursor is None else decode_cursor(cursor)
        self.refresh()
        conditions, params = where.where()
        if below is not None:
            conditions.append("f.seq < ?")
            params.append(below)
        clause = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        with self.db.read() as tx:
            rows = tx.fetchall(
                "SELECT f.seq, e.body FROM audit_facets f "  # noqa: S608 - fixed columns
                f"JOIN audit_events e ON e.seq = f.seq {clause}"
                "ORDER BY f.seq DESC LIMIT ?",
                [*params, limit + 1],
            )
        found = [FoundEvent(int(seq), _readable(bytes(body))) for seq, body in rows[:limit]]
        more = len(rows) > limit
        return EventPage(found, str(found[-1].index) if more else None)

    # -- counts --------------------------------------------------------------------

    def counts(
        self,
        since_ms: int,
        until_ms: int,
        *,
        bucket_ms: int,
        offset_ms: int = 0,
        group_by: Sequence[str] = (),
        actions: Sequence[str] = (),
    ) -> list[GroupCount]:
        """Events in ``[since_ms, until_ms)`` counted per bucket and per ``group_by`` fields.

        An event at ``t`` falls in bucket ``(t + offset_ms) // bucket_ms``: days in
        UTC+8 are ``bucket_ms=DAY_MS, offset_ms=UTC8_OFFSET_MS``. ``actions``, when
        given, keeps only events of those actions. Counted by the store, so a long
        window costs one grouped index range, not a row per event in Python.
        """
        unknown = [name for name in group_by if name not in _GROUPABLE]
        if unknown or bucket_ms <= 0:
            raise ValueError(f"cannot group by {unknown} in buckets of {bucket_ms} ms")
        self.refresh()
        columns = "".join(f", f.{name}" for name in group_by)
        params: list[Any] = [offset_ms, bucket_ms, since_ms, until_ms]
        action_clause = ""
        if actions:
            action_clause = f" AND f.action IN ({', '.join('?' * len(actions))})"
            params += list(actions)
        # Integer division on both engines (BIGINT in PostgreSQL, INTEGER in SQLite).
        sql = (
            f"SELECT (f.time_ms + ?) / ? AS bucket{columns}, COUNT(*) "  # noqa: S608
            "FROM audit_facets f WHERE f.time_ms >= ? AND f.time_ms < ?"
            f"{action_clause} GROUP BY bucket{columns} ORDER BY bucket{columns}"
        )
        with self.db.read() as tx:
            rows = tx.fetchall(sql, params)
        return [
            GroupCount(int(row[0]), tuple(str(v) for v in row[1:-1]), int(row[-1])) for row in rows
        ]


def _indexed(tx: Transaction) -> int:
    row = tx.fetchone("SELECT MAX(seq) FROM audit_facets")
    return -1 if row is None or row[0] is None else int(row[0])


def _newest(tx: Transaction) -> int:
    row = tx.fetchone("SELECT MAX(seq) FROM audit_events")
    return -1 if row is None or row[0] is None else int(row[0])


def _readable(body: bytes) -> dict[str, Any] | None:
    try:
        return event_json(body)
    except (ValueError, LogCorruptedError):
        return None


def _facets(row: tuple[Any, ...]) -> tuple[Any, ...]:
    seq, time_ms, actor, body = row
    # An unreadable body is indexed by its columns alone (empty fields): one altered
    # event must not stop the search of the rest of the log.
    event = _readable(bytes(body)) or {}
    return (
        int(seq),
        int(time_ms),
        str(actor),
        str(event.get("actorOrg", "")),
        str(event.get("action", "")),
        str(event.get("purpose", "")),
        str(event.get("outcome", "")),
    )
