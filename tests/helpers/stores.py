"""Store-facing tests run on every engine: where a test's store is, and opening it again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ledger.store.database import Database
from ledger.store.open import open_database

ENGINES = ("sqlite", "postgresql")
"""The engines every store-facing test runs on (the ids of the parametrized tests)."""


@dataclass(frozen=True)
class StoreTarget:
    """A test's store: its engine and where it is (a SQLite path or a PostgreSQL URL)."""

    engine: str
    where: Path | str

    def open(self, *, busy_timeout_ms: int = 10_000) -> Database:
        """Another ``Database`` on the same store, as another worker process would open it."""
        return open_database(self.where, busy_timeout_ms=busy_timeout_ms)

    @property
    def argument(self) -> str:
        """``where`` as a command-line argument for a child process."""
        return str(self.where)
