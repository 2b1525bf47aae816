"""Logical snapshots of a store (both engines) through the encrypted archive format."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from ledger.store.archive import ArchiveError, ArchiveReader, ArchiveWriter, WrongKeyError
from ledger.store.database import Database
from ledger.store.migrations import Migration, migrate
from ledger.store.snapshot import Restorer, SnapshotError, dump, table_names
from ledger.store.sqlite import SqliteDatabase

PARENTS = (
    Migration(
        1,
        "parents",
        (
            "CREATE TABLE z_parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "payload BLOB, score REAL)",
        ),
    ),
)
CHILDREN = (
    Migration(
        1,
        "children",
        (
            "CREATE TABLE a_children (id INTEGER PRIMARY KEY, "
            "parent INTEGER NOT NULL REFERENCES z_parents (id), note TEXT)",
        ),
    ),
    Migration(2, "children note", ("ALTER TABLE a_children ADD COLUMN extra INTEGER",)),
)
MIGRATIONS = {"parents": PARENTS, "children": CHILDREN}
KEY = bytes(range(16))
OTHER_KEY = bytes(range(1, 17))


def _fill(db: Database, parents: int = 50) -> None:
    migrate(db, "parents", PARENTS)
    migrate(db, "children", CHILDREN)
    with db.write() as tx:
        tx.executemany(
            "INSERT INTO z_parents (id, name, payload, score) VALUES (?, ?, ?, ?)",
            [
                (i, f"省-{i}", bytes([i % 256]) * 3 if i % 3 else None, i / 7)
                for i in range(parents)
            ],
        )
        tx.executemany(
            "INSERT INTO a_children (id, parent, note, extra) VALUES (?, ?, ?, ?)",
            [(i, i // 2, None if i % 5 == 0 else "x" * i, 2**62 + i) for i in range(parents * 2)],
        )


def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.read() as tx:
        return {
            "z_parents": [
                (r[0], r[1], None if r[2] is None else bytes(r[2]), r[3])
                for r in tx.fetchall("SELECT id, name, payload, score FROM z_parents ORDER BY id")
            ],
            "a_children": tx.fetchall("SELECT id, parent, note, extra FROM a_children ORDER BY id"),
        }


def _archive(db: Database, path: Path) -> dict[str, int]:
    with ArchiveWriter(path, KEY, label="test") as writer:
        return dump(db, writer.write)


def _restore(path: Path, target: Database, key: bytes = KEY) -> dict[str, int]:
    restorer = Restorer(target, MIGRATIONS, batch_rows=7)
    with ArchiveReader(path, key) as reader:
        restorer.check_empty()
        for record in reader.records():
            restorer.add(record)
    return restorer.finish()


def test_a_sqlite_snapshot_restores_into_either_engine(tmp_path: Path, any_db: Database) -> None:
    source = SqliteDatabase(tmp_path / "source.sqlite")
    _fill(source)
    counts = _archive(source, tmp_path / "backup.tbk")
    assert counts == {"z_parents": 50, "a_children": 100}
    assert _restore(tmp_path / "backup.tbk", any_db) == counts
    assert _rows(any_db) == _rows(source)
    with any_db.read() as tx:
        versions: dict[str, int] = dict(
            tx.fetchall("SELECT component, version FROM schema_versions")
        )
    assert versions == {"parents": 1, "children": 2}
    source.close()


def test_a_snapshot_of_either_engine_restores_into_sqlite(tmp_path: Path, any_db: Database) -> None:
    _fill(any_db)
    _archive(any_db, tmp_path / "backup.tbk")
    target = SqliteDatabase(tmp_path / "target.sqlite")
    _restore(tmp_path / "backup.tbk", target)
    assert _rows(target) == _rows(any_db)
    target.close()


def test_a_restored_identity_key_keeps_numbering_after_the_restored_rows(
    tmp_path: Path, any_db: Database
) -> None:
    source = SqliteDatabase(tmp_path / "source.sqlite")
    _fill(source, parents=5)
    _archive(source, tmp_path / "backup.tbk")
    _restore(tmp_path / "backup.tbk", any_db)
    with any_db.write() as tx:
        tx.execute("INSERT INTO z_parents (name) VALUES (?)", ("new",))
        row = tx.fetchone("SELECT id FROM z_parents WHERE name = ?", ("new",))
    assert row is not None
    assert row[0] == 5
    source.close()


def test_a_snapshot_taken_while_writers_commit_is_one_consistent_state(
    tmp_path: Path, any_db: Database
) -> None:
    _fill(any_db, parents=1)
    stop = threading.Event()

    def write_pairs() -> None:
        # Each transaction adds a parent and its child: a consistent state has as many of each.
        number = 1000
        while not stop.is_set():
            with any_db.write() as tx:
                tx.execute("INSERT INTO z_parents (id, name) VALUES (?, ?)", (number, "p"))
                tx.execute("INSERT INTO a_children (id, parent) VALUES (?, ?)", (number, number))
            number += 1

    writer = threading.Thread(target=write_pairs)
    writer.start()
    try:
        while True:
            with any_db.read() as tx:
                row = tx.fetchone("SELECT COUNT(*) FROM z_parents")
            if row is not None and row[0] > 20:
                break
        counts = _archive(any_db, tmp_path / "backup.tbk")
    finally:
        stop.set()
        writer.join()
    assert counts["z_parents"] - 1 == counts["a_children"] - 2 > 0
    target = SqliteDatabase(tmp_path / "target.sqlite")
    assert _restore(tmp_path / "backup.tbk", target) == counts
    target.close()


def test_a_wrong_key_is_refused_from_the_header_before_anything_is_written(
    tmp_path: Path, any_db: Database
) -> None:
    source = SqliteDatabase(tmp_path / "source.sqlite")
    _fill(source, parents=3)
    _archive(source, tmp_path / "backup.tbk")
    with pytest.raises(WrongKeyError, match="written with another key"):
        _restore(tmp_path / "backup.tbk", any_db, key=OTHER_KEY)
    with any_db.read() as tx:
        assert table_names(tx, any_db.dialect) == []
    source.close()


def test_an_altered_or_cut_archive_is_refused(tmp_path: Path) -> None:
    source = SqliteDatabase(tmp_path / "source.sqlite")
    _fill(source)
    path = tmp_path / "backup.tbk"
    _archive(source, path)
    data = path.read_bytes()
    flipped = bytearray(data)
    flipped[-20] ^= 1
    (tmp_path / "flipped.tbk").write_bytes(bytes(flipped))
    (tmp_path / "cut.tbk").write_bytes(data[:-30])
    for name in ("flipped.tbk", "cut.tbk"):
        with pytest.raises(ArchiveError), ArchiveReader(tmp_path / name, KEY) as reader:
            list(reader.records())
    source.close()


def test_a_store_that_is_not_empty_is_refused(tmp_path: Path, any_db: Database) -> None:
    _fill(any_db, parents=1)
    source = SqliteDatabase(tmp_path / "source.sqlite")
    _fill(source, parents=1)
    _archive(source, tmp_path / "backup.tbk")
    with pytest.raises(SnapshotError, match="not empty"):
        _restore(tmp_path / "backup.tbk", any_db)
    source.close()


def test_a_component_newer_than_this_tongban_is_refused(tmp_path: Path) -> None:
    source = SqliteDatabase(tmp_path / "source.sqlite")
    _fill(source, parents=1)
    _archive(source, tmp_path / "backup.tbk")
    target = SqliteDatabase(tmp_path / "target.sqlite")
    restorer = Restorer(target, {"parents": PARENTS, "children": CHILDREN[:1]})
    with ArchiveReader(tmp_path / "backup.tbk", KEY) as reader:
        store_record = next(reader.records())
    with pytest.raises(SnapshotError, match="newer than this Tongban knows"):
        restorer.add(store_record)
    with target.read() as tx:
        assert table_names(tx, target.dialect) == []
    target.close()
    source.close()
