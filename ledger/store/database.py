"""The store's small interface: transactions that execute SQL with ``?`` placeholders.

Components (the audit log, the outbox, credentials...) own their tables and
migrations and talk to the store only through ``Database`` and ``Transaction``,
so a PostgreSQL implementation can fill the same interface: it translates the
``?`` placeholders and maps ``BLOB`` to ``BYTEA``; the SQL used by components
sticks to the common subset (``INSERT ... ON CONFLICT``, no SQLite-only functions).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

Row = tuple[Any, ...]
Params = Sequence[Any]


class StoreError(Exception):
    """Base of every store error."""


class StoreBusyError(StoreError):
    """The database stayed locked by another writer longer than the busy timeout."""


class SchemaTooNewError(StoreError):
    """The database was migrated by a newer Tongban than this one."""


class Transaction(Protocol):
    """One database transaction; committed when its ``with`` block ends without error."""

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each parameter row."""

    def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """Run a query and return its first row, or None."""

    def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a query and return every row."""

    def iterate(self, sql: str, params: Params = ()) -> Iterator[Row]:
        """Run a query and stream its rows (for exports that must not load all rows)."""


class Database(Protocol):
    """A store that hands out transactions; safe to share between threads."""

    dialect: str

    def write(self) -> AbstractContextManager[Transaction]:
        """A read-write transaction that takes the write lock at once."""

    def read(self) -> AbstractContextManager[Transaction]:
        """A read-only transaction seeing one consistent snapshot."""

    def close(self) -> None:
        """Close every connection this object opened."""
