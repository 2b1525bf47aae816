"""Which store a province uses, asked in one place: PostgreSQL when a URL is set, else SQLite.

``TONGBAN_DATABASE_URL`` (``Settings.database_url``) selects the PostgreSQL
store; unset, the store is the SQLite file ``Settings.store_path`` in the data
directory. Every process of the service (the supervisor and writer, the HTTP
workers, ``tongban clients``) opens its store through ``open_store``, so the
choice cannot differ between them. The components' migrations run when each
opens its tables, on either engine.
"""

from __future__ import annotations

from pathlib import Path

from api.runtime.settings import Settings
from ledger.store.database import Database
from ledger.store.open import open_database
from ledger.store.postgres import describe

__all__ = ["open_store", "store_description", "store_location"]


def store_location(settings: Settings) -> str | Path:
    """The PostgreSQL URL when ``database_url`` is set (a secret: never log it), else the file."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return settings.store_path


def store_description(settings: Settings) -> str:
    """The store for a log line or a message: ``PostgreSQL host:port/db`` or the file's path."""
    if settings.database_url is not None:
        return f"PostgreSQL {describe(settings.database_url.get_secret_value())}"
    return f"SQLite {settings.store_path}"


def open_store(settings: Settings) -> Database:
    """Open the province's store; a server that does not answer is a ``StoreError``.

    The error names ``host:port/database`` only, never the user or password.
    """
    return open_database(store_location(settings))
