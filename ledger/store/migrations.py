"""Schema migrations, per component, from the first version on.

Each component (``audit``, ``outbox``, ``credentials``...) owns an ordered list
of ``Migration``s; ``migrate`` applies the ones a database lacks, each in its
own transaction together with its version record, so a crash mid-way leaves
the database at a well-defined version. A database migrated by a newer
Tongban is refused rather than misread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.store import dialects
from ledger.store.database import Database, SchemaTooNewError, StoreError

_VERSIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_versions (
    component TEXT PRIMARY KEY,
    version INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class Migration:
    """One schema step: ``version`` (1, 2, ...), a name, and its SQL statements.

    ``statements`` are SQLite's; on PostgreSQL they are translated
    (``dialects.ddl``) unless ``postgresql`` gives PostgreSQL's own statements
    for a step no translation says honestly.
    """

    version: int
    name: str
    statements: tuple[str, ...]
    postgresql: tuple[str, ...] | None = None

    def statements_for(self, dialect: str) -> tuple[str, ...]:
        """The statements to run on a database of ``dialect``."""
        if dialect != "postgresql":
            return self.statements
        if self.postgresql is not None:
            return self.postgresql
        return tuple(dialects.ddl(s) for s in self.statements)


def current_version(db: Database, component: str) -> int:
    """The schema version of ``component`` in ``db`` (0 if never migrated)."""
    with db.write() as tx:
        tx.execute(dialects.ddl(_VERSIONS_TABLE) if db.dialect == "postgresql" else _VERSIONS_TABLE)
        row = tx.fetchone("SELECT version FROM schema_versions WHERE component = ?", (component,))
    return int(row[0]) if row else 0


def migrate(db: Database, component: str, migrations: Sequence[Migration]) -> int:
    """Bring ``component``'s tables up to the latest of ``migrations``; returns that version."""
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"{component} migrations must be numbered 1, 2, 3... without gaps")
    latest = len(migrations)
    have = current_version(db, component)
    if have > latest:
        raise SchemaTooNewError(
            f"the store's {component} schema is at version {have}, newer than this "
            f"Tongban knows ({latest}); upgrade Tongban or restore a matching backup"
        )
    for migration in migrations[have:]:
        with db.write() as tx:
            row = tx.fetchone(
                "SELECT version FROM schema_versions WHERE component = ?", (component,)
            )
            if (int(row[0]) if row else 0) >= migration.version:
                continue  # another process applied it meanwhile
            for statement in migration.statements_for(db.dialect):
                tx.execute(statement)
            tx.execute(
                "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, migration.version),
            )
    return latest
