"""A logical snapshot of a store, table by table, and its restore, on either engine.

``dump`` reads every table in ONE ``read()`` transaction, so the snapshot is
one consistent state on both engines (SQLite's WAL snapshot, PostgreSQL's
``REPEATABLE READ``) while writers go on committing. Tables are listed from
the engine's catalogue, in an order where a table comes after the tables its
foreign keys name, and streamed as records to a sink (``ArchiveWriter.write``)::

    {"store": {"dialect": ..., "versions": {component: version}}}
    {"table": name, "columns": [...]}   then one list of values per row
    {"end": {table: rows}}

``Restorer`` takes the same records: it refuses a store that is not empty,
migrates each component to exactly the snapshot's version (with the
components' own migrations, so the tables are the engine's own spelling),
inserts the rows in transactions of ``batch_rows``, checks every table's count
against the ``end`` record and, on PostgreSQL, moves each identity sequence past
the restored keys. A snapshot of one engine restores into the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.store.database import Database, StoreError, Transaction
from ledger.store.migrations import Migration, current_version, migrate

__all__ = ["VERSIONS_TABLE", "Restorer", "SnapshotError", "dump", "table_names"]

VERSIONS_TABLE = "schema_versions"
"""The migrations' own table: restored by migrating, never copied."""

Sink = Callable[[Any], None]


class SnapshotError(StoreError):
    """A snapshot cannot be taken or restored (the message says why)."""


def table_names(tx: Transaction, dialect: str) -> list[str]:
    """The store's tables, from the engine's catalogue, sorted by name."""
    if dialect == "postgresql":
        rows = tx.fetchall(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
        )
    else:
        rows = tx.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE ?", ("sqlite%",)
        )
    return sorted(str(r[0]) for r in rows)


def _columns(tx: Transaction, dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        rows = tx.fetchall(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
    else:
        rows = tx.fetchall("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))
    return [str(r[0]) for r in rows]


def _references(tx: Transaction, dialect: str, table: str) -> set[str]:
    if dialect == "postgresql":
        rows = tx.fetchall(
            "SELECT ccu.table_name FROM information_schema.table_constraints tc "
            "JOIN information_schema.constraint_column_usage ccu "
            "ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema "
            "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name = ? "
            "AND tc.table_schema = current_schema()",
            (table,),
        )
    else:
        rows = tx.fetchall('SELECT "table" FROM pragma_foreign_key_list(?)', (table,))
    return {str(r[0]) for r in rows} - {table}


def _in_key_order(tx: Transaction, dialect: str, tables: list[str]) -> list[str]:
    """``tables`` so that every table follows those its foreign keys reference."""
    needs = {t: _references(tx, dialect, t) & set(tables) for t in tables}
    ordered: list[str] = []
    while needs:
        ready = sorted(t for t, deps in needs.items() if not deps - set(ordered))
        if not ready:
            raise SnapshotError(f"foreign keys form a cycle among {sorted(needs)}")
        ordered.extend(ready)
        for name in ready:
            del needs[name]
    return ordered


def _quoted(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise SnapshotError(f"unexpected table or column name {name!r}")
    return f'"{name}"'


def dump(db: Database, sink: Sink) -> dict[str, int]:
    """Write the whole store to ``sink`` from one consistent snapshot; rows per table."""
    counts: dict[str, int] = {}
    with db.read() as tx:
        tables = table_names(tx, db.dialect)
        if VERSIONS_TABLE not in tables:
            raise SnapshotError("the store has no schema_versions table: nothing was ever migrated")
        versions = {
            str(r[0]): int(r[1])
            for r in tx.fetchall(f"SELECT component, version FROM {VERSIONS_TABLE}")  # noqa: S608
        }
        sink({"store": {"dialect": db.dialect, "versions": versions}})
        data_tables = [t for t in tables if t != VERSIONS_TABLE]
        for table in _in_key_order(tx, db.dialect, data_tables):
            columns = _columns(tx, db.dialect, table)
            sink({"table": table, "columns": columns})
            names = ", ".join(_quoted(c) for c in columns)
            count = 0
            for row in tx.iterate(f"SELECT {names} FROM {_quoted(table)}"):  # noqa: S608
                sink(list(row))
                count += 1
            counts[table] = count
    sink({"end": counts})
    return counts


@dataclass
class Restorer:
    """Loads ``dump``'s records into an empty store; feed it with ``add``, then ``finish``.

    ``migrations`` names every component's migrations (component -> steps), in
    an order where a component follows those its tables reference: a
    snapshot holding a component not named, or at a version newer than its
    steps, is refused before anything is written.
    """

    db: Database
    migrations: Mapping[str, Sequence[Migration]]
    batch_rows: int = 2000
    versions: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    _table: str | None = None
    _insert: str = ""
    _pending: list[list[Any]] = field(default_factory=list)
    _ended: dict[str, int] | None = None

    def check_empty(self) -> None:
        """Refuse a store that holds any table other than an empty ``schema_versions``."""
        current_version(self.db, "snapshot-probe")  # creates schema_versions if missing
        with self.db.read() as tx:
            others = [t for t in table_names(tx, self.db.dialect) if t != VERSIONS_TABLE]
            row = tx.fetchone(f"SELECT COUNT(*) FROM {VERSIONS_TABLE}")  # noqa: S608
        if others or (row is not None and int(row[0])):
            raise SnapshotError(
                "the target store is not empty: restore only into a new, empty store"
            )

    def add(self, record: Any) -> None:
        """Take the next record of the snapshot."""
        if isinstance(record, list):
            if self._table is None:
                raise SnapshotError("the snapshot has a row outside any table")
            self._pending.append(record)
            if len(self._pending) >= self.batch_rows:
                self._flush()
            return
        if not isinstance(record, dict) or len(record) not in (1, 2):
            raise SnapshotError("the snapshot has a malformed record")
        if "store" in record:
            self._begin(record["store"])
        elif "table" in record:
            self._flush()
            self._start_table(str(record["table"]), [str(c) for c in record["columns"]])
        elif "end" in record:
            self._flush()
            self._table = None
            self._ended = {str(k): int(v) for k, v in record["end"].items()}
        else:
            raise SnapshotError("the snapshot has a malformed record")

    def _begin(self, store: dict[str, Any]) -> None:
        versions = {str(k): int(v) for k, v in store["versions"].items()}
        for component, version in sorted(versions.items()):
            steps = self.migrations.get(component)
            if steps is None:
                raise SnapshotError(f"the snapshot holds component {component!r}, unknown here")
            if version > len(steps):
                raise SnapshotError(
                    f"the snapshot's {component} schema is at version {version}, newer than "
                    f"this Tongban knows ({len(steps)}): restore with a matching Tongban"
                )
        # In the mapping's order: a component's tables may reference an earlier one's.
        for component, steps in self.migrations.items():
            if versions.get(component):
                migrate(self.db, component, steps[: versions[component]])
        self.versions = versions

    def _start_table(self, table: str, columns: list[str]) -> None:
        with self.db.read() as tx:
            if table not in table_names(tx, self.db.dialect):
                raise SnapshotError(f"table {table} is not created by the snapshot's schema")
            have = _columns(tx, self.db.dialect, table)
        if sorted(have) != sorted(columns):
            raise SnapshotError(f"table {table} has other columns than the snapshot's")
        self._table = table
        self.counts[table] = 0
        marks = ", ".join("?" for _ in columns)
        names = ", ".join(_quoted(c) for c in columns)
        self._insert = f"INSERT INTO {_quoted(table)} ({names}) VALUES ({marks})"  # noqa: S608

    def _flush(self) -> None:
        if not self._pending or self._table is None:
            return
        with self.db.write() as tx:
            tx.executemany(self._insert, self._pending)
        self.counts[self._table] += len(self._pending)
        self._pending = []

    def finish(self) -> dict[str, int]:
        """Check the counts against the snapshot's own; rows restored per table."""
        self._flush()
        if self._ended is None:
            raise SnapshotError("the snapshot ends before its last table")
        if self._ended != self.counts:
            raise SnapshotError("the restored row counts differ from the snapshot's")
        if self.db.dialect == "postgresql":
            self._advance_identities()
        return dict(self.counts)

    def _advance_identities(self) -> None:
        with self.db.write() as tx:
            identities = tx.fetchall(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND is_identity = 'YES'"
            )
            for table, column in identities:
                row = tx.fetchone(f"SELECT MAX({_quoted(column)}) FROM {_quoted(table)}")  # noqa: S608
                if row is None or row[0] is None:
                    continue
                tx.fetchone(
                    "SELECT setval(pg_get_serial_sequence(?, ?), ?)",
                    (_quoted(table), str(column), int(row[0])),
                )
