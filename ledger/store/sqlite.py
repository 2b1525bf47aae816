"""SQLite in WAL mode: the embedded default store.

Durability: ``synchronous=FULL``, so a committed transaction survives a power
cut, not only a process crash; callers batch their writes (group commit) to
pay the fsync once per batch. Each thread gets its own connection; several
processes may share one file (one writer at a time, readers never blocked).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from ledger.store.database import Params, Row, StoreBusyError, StoreError

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA temp_store=MEMORY",
)

_WRITE_RETRY_SECONDS = 0.0003
"""Between tries for another process's write lock: a group commit holds it about 1 ms."""


class SqliteTransaction:
    """A ``Transaction`` over one SQLite connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        """Wrap ``connection``, inside an open transaction."""
        self._connection = connection

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        return self._connection.execute(sql, tuple(params)).rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement per parameter row."""
        self._connection.executemany(sql, (tuple(r) for r in rows))

    def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """First row of a query, or None."""
        row: Row | None = self._connection.execute(sql, tuple(params)).fetchone()
        return row

    def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        return list(self._connection.execute(sql, tuple(params)).fetchall())

    def iterate(self, sql: str, params: Params = ()) -> Iterator[Row]:
        """Stream the rows of a query."""
        yield from self._connection.execute(sql, tuple(params))


class SqliteDatabase:
    """A ``Database`` on one SQLite file."""

    dialect = "sqlite"

    def __init__(self, path: Path, *, busy_timeout_ms: int = 10_000) -> None:
        """Open (creating if needed) the database at ``path`` in WAL mode."""
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        # Writers of this process queue here rather than in SQLite's busy handler, which
        # sleeps in growing steps (up to 100 ms) and made the tail latency under load.
        # Reentrant, so a nested BEGIN still fails in SQLite as before, not deadlocks.
        self._write_lock = threading.RLock()
        self._connection()  # fail now, not at first use, if the file is unusable

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(
                    self.path,
                    isolation_level=None,  # transactions are explicit below
                    check_same_thread=False,
                    timeout=self.busy_timeout_ms / 1000,
                )
                for pragma in _PRAGMAS:
                    connection.execute(pragma)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open the store at {self.path}: {exc}") from None
            self._local.connection = connection
            with self._all_lock:
                self._all.append(connection)
        return connection

    def _begin_write(self, connection: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, waiting for another process's write lock in short steps.

        SQLite's own busy handler sleeps 1, 2, 5, 10, ... up to 100 ms between tries,
        so a worker that lost one race for a lock held 1 ms could wait tens of ms: with
        three processes committing, a transaction's p99 was 9-19 ms and its max 54-80 ms,
        against 2-4 ms and 3-13 ms by trying every 0.3 ms, at 1.3-1.4 times the rate
        (``scripts/bench_store_contention.py``, docs/benchmarks.md).
        """
        connection.execute("PRAGMA busy_timeout=0")
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        try:
            while True:
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if not _busy(exc) or time.monotonic() > deadline:
                        raise
                time.sleep(_WRITE_RETRY_SECONDS)
        finally:
            connection.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[SqliteTransaction]:
        connection = self._connection()
        try:
            if begin == "BEGIN IMMEDIATE":
                self._begin_write(connection)
            else:
                connection.execute(begin)
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise StoreBusyError(f"the store at {self.path} is busy: {exc}") from None
            raise
        try:
            yield SqliteTransaction(connection)
        except sqlite3.OperationalError as exc:
            # Disk full, I/O errors, a lock held too long: the store is unavailable,
            # which callers report as such (the messages carry no row values).
            connection.execute("ROLLBACK")
            raise StoreError(f"the store at {self.path} failed: {exc}") from None
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        try:
            connection.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            connection.execute("ROLLBACK")
            raise StoreBusyError(f"commit failed on {self.path}: {exc}") from None

    @contextmanager
    def write(self) -> Iterator[SqliteTransaction]:
        """A read-write transaction (``BEGIN IMMEDIATE``: the write lock is taken now).

        One at a time per process; other processes' writers are waited for in short steps.
        """
        with self._write_lock, self._transaction("BEGIN IMMEDIATE") as tx:
            yield tx

    def read(self) -> AbstractContextManager[SqliteTransaction]:
        """A read transaction over one consistent snapshot."""
        return self._transaction("BEGIN DEFERRED")

    def close(self) -> None:
        """Close every connection opened by any thread."""
        with self._all_lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
        self._local = threading.local()


def _busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)
