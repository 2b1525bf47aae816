"""PostgreSQL: the store shared by several hosts (``TONGBAN_DATABASE_URL``).

The same promises as the SQLite store, kept the PostgreSQL way:

- ``write()`` takes one transaction-scoped advisory lock first, so write
  transactions run one at a time across every process and host, exactly as
  SQLite's ``BEGIN IMMEDIATE`` (the audit log numbers its events in order).
  Waiting longer than the busy timeout raises ``StoreBusyError``. The
  transaction is ``READ COMMITTED``: taken after the lock, each statement sees
  every write committed before.
- ``read()`` is ``REPEATABLE READ, READ ONLY``: one snapshot, never blocking writers.
- Durability is the server's (``synchronous_commit`` on, its default): a
  committed transaction is on the server's disk; callers batch writes into one
  transaction (group commit) to pay one flush per batch, as on SQLite.

Rows come back as tuples of the Python types SQLite gives (``bytes`` for
``BYTEA``, ``int`` for ``BIGINT``). Connection errors never show the URL, which
may carry a password.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

import psycopg
import psycopg.errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from ledger.store import dialects
from ledger.store.database import Params, Row, StoreBusyError, StoreError

WRITE_LOCK_KEY = 0x546F6E6762616E  # "Tongban": the advisory lock every write transaction takes
"""The ``pg_advisory_xact_lock`` key that serializes write transactions."""

_ITERATE_ROWS = 1000
_FAILURES = (
    psycopg.OperationalError,
    psycopg.ProgrammingError,
    psycopg.InternalError,
    psycopg.NotSupportedError,
)
"""What ends a transaction as a ``StoreError`` (an ``IntegrityError`` stays one, as on SQLite)."""
_cursor_names = count()


def describe(url: str) -> str:
    """``host:port/dbname`` of a connection URL, never its user or password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "an unparsable database URL"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"{host}:{port}/{parts.get('dbname') or ''}"


class PostgresTransaction:
    """A ``Transaction`` over one PostgreSQL connection, inside an open transaction."""

    def __init__(self, connection: psycopg.Connection[tuple[Any, ...]]) -> None:
        """Wrap ``connection``."""
        self._connection = connection

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        with self._connection.cursor() as cursor:
            cursor.execute(dialects.placeholders(sql), tuple(params))
            return cursor.rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement per parameter row (pipelined: one round trip for many)."""
        with self._connection.cursor() as cursor:
            cursor.executemany(dialects.placeholders(sql), [tuple(r) for r in rows])

    def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """First row of a query, or None."""
        with self._connection.cursor() as cursor:
            return cursor.execute(dialects.placeholders(sql), tuple(params)).fetchone()

    def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        with self._connection.cursor() as cursor:
            return cursor.execute(dialects.placeholders(sql), tuple(params)).fetchall()

    def iterate(self, sql: str, params: Params = ()) -> Iterator[Row]:
        """Stream the rows of a query through a server-side cursor."""
        name = f"tongban_iterate_{next(_cursor_names)}"
        with self._connection.cursor(name) as cursor:
            cursor.itersize = _ITERATE_ROWS
            cursor.execute(dialects.placeholders(sql), tuple(params))
            yield from cursor


class PostgresDatabase:
    """A ``Database`` on a PostgreSQL server, through a pool of connections."""

    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 10_000,
        max_connections: int = 8,
        connect_timeout_s: float = 10.0,
        idle_write_timeout_ms: int | None = None,
    ) -> None:
        """Connect to ``url`` (``postgresql://...``); fails now if the server is unreachable.

        ``idle_write_timeout_ms`` (default: ``busy_timeout_ms``): the server ends a
        write transaction whose client sent nothing for that long, releasing the
        store's write lock. A writer process paused mid-transaction (SIGSTOP, a
        frozen VM) would otherwise hold the lock for good, and every other host's
        writes, the writer lease's takeover included, would wait on it forever.
        """
        self.where = describe(url)
        self.busy_timeout_ms = busy_timeout_ms
        idle = busy_timeout_ms if idle_write_timeout_ms is None else idle_write_timeout_ms
        self._writing = threading.local()
        self._begin_write = (
            "BEGIN ISOLATION LEVEL READ COMMITTED; "
            f"SET LOCAL lock_timeout = {int(busy_timeout_ms)}; "
            f"SET LOCAL idle_in_transaction_session_timeout = {int(idle)}; "
            f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"
        )
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},  # transactions are explicit below
            timeout=busy_timeout_ms / 1000,
            open=False,
            name="tongban-store",
        )
        try:
            # One plain connection first: the pool would retry a refused one until its timeout.
            psycopg.connect(url, connect_timeout=max(1, round(connect_timeout_s))).close()
            self._pool.open(wait=True, timeout=connect_timeout_s)
        except (PoolTimeout, psycopg.Error):
            self._pool.close()
            raise StoreError(f"cannot reach the store at {self.where}") from None

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[PostgresTransaction]:
        try:
            with self._pool.connection() as connection:
                try:
                    # One round trip: without parameters it is one simple-protocol query.
                    connection.execute(begin)
                except psycopg.errors.LockNotAvailable:
                    connection.execute("ROLLBACK")
                    raise StoreBusyError(f"the store at {self.where} is busy") from None
                try:
                    yield PostgresTransaction(connection)
                except psycopg.errors.LockNotAvailable:
                    connection.execute("ROLLBACK")
                    raise StoreBusyError(f"the store at {self.where} is busy") from None
                except _FAILURES as exc:
                    # Lost connections, a full disk, a missing table, a write in a read:
                    # the transaction is over; the server's message names no row values.
                    _rollback(connection)
                    raise StoreError(
                        f"the store at {self.where} failed: {_first_line(exc)}"
                    ) from None
                except BaseException:
                    _rollback(connection)
                    raise
                try:
                    connection.execute("COMMIT")
                except psycopg.Error as exc:
                    _rollback(connection)
                    raise StoreError(f"commit failed on {self.where}: {_first_line(exc)}") from None
        except PoolTimeout:
            raise StoreBusyError(f"no free connection to the store at {self.where}") from None
        except psycopg.OperationalError as exc:
            raise StoreError(f"the store at {self.where} failed: {_first_line(exc)}") from None

    @contextmanager
    def write(self) -> Iterator[PostgresTransaction]:
        """A read-write transaction holding the store's write lock from its start."""
        if getattr(self._writing, "active", False):
            # On another connection it would wait for its own thread's lock until the timeout.
            raise StoreError("a write transaction inside another on the same thread")
        self._writing.active = True
        try:
            with self._transaction(self._begin_write) as tx:
                yield tx
        finally:
            self._writing.active = False

    @contextmanager
    def read(self) -> Iterator[PostgresTransaction]:
        """A read-only transaction over one consistent snapshot."""
        with self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY") as tx:
            yield tx

    def close(self) -> None:
        """Close the pool and every connection in it."""
        self._pool.close()


def _rollback(connection: psycopg.Connection[tuple[Any, ...]]) -> None:
    with contextlib.suppress(psycopg.Error):  # a broken connection: the pool discards it
        connection.execute("ROLLBACK")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
