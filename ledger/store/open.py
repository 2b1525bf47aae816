"""Open the store a setting names: a ``postgresql://`` URL, or a SQLite file."""

from __future__ import annotations

from pathlib import Path

from ledger.store.database import Database, StoreError
from ledger.store.postgres import PostgresDatabase
from ledger.store.sqlite import SqliteDatabase

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_database(where: str | Path, *, busy_timeout_ms: int = 10_000) -> Database:
    """The PostgreSQL store for a ``postgresql://`` URL, else the SQLite store at that path."""
    if isinstance(where, Path):
        return SqliteDatabase(where, busy_timeout_ms=busy_timeout_ms)
    if where.startswith(POSTGRES_SCHEMES):
        return PostgresDatabase(where, busy_timeout_ms=busy_timeout_ms)
    if "://" in where:
        scheme = where.split("://", 1)[0]
        raise StoreError(f"unknown store URL scheme {scheme!r}: use postgresql:// or a file path")
    return SqliteDatabase(Path(where), busy_timeout_ms=busy_timeout_ms)
