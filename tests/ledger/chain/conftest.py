"""Every chain test with ``db`` (the index, the outbox) runs on SQLite, then on PostgreSQL."""

from __future__ import annotations

import pytest

from ledger.store.database import Database


@pytest.fixture
def db(any_db: Database) -> Database:
    """A new store, once per engine (tests/conftest.py ``any_db``)."""
    return any_db
