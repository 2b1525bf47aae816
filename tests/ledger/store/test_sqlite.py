"""SQLite-only behaviour: WAL and full sync, waiting for another process's write lock, paths.

What every engine promises is in test_store.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ledger.store.database import StoreBusyError, StoreError
from ledger.store.migrations import Migration, migrate
from ledger.store.sqlite import SqliteDatabase

TABLE = Migration(1, "things", ("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)",))


@pytest.fixture
def db(tmp_path: Path) -> SqliteDatabase:
    return SqliteDatabase(tmp_path / "store.sqlite")


def test_wal_mode_and_full_sync(db: SqliteDatabase) -> None:
    with db.read() as tx:
        assert tx.fetchone("PRAGMA journal_mode") == ("wal",)
        assert tx.fetchone("PRAGMA synchronous") == (2,)


_HOLD_THE_WRITE_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ledger.store.sqlite import SqliteDatabase
    db = SqliteDatabase(Path(sys.argv[1]))
    with db.write() as tx:
        tx.execute("INSERT INTO things (name) VALUES ('holder')")
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def _holding(db: SqliteDatabase, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_THE_WRITE_LOCK, str(db.path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "holding\n"
    return holder


def test_a_writer_waits_for_another_process_and_then_commits(db: SqliteDatabase) -> None:
    migrate(db, "things", [TABLE])
    holder = _holding(db, 0.3)
    with db.write() as tx:
        tx.execute("INSERT INTO things (name) VALUES ('waiter')")
    assert holder.wait(timeout=30) == 0
    with db.read() as tx:
        assert tx.fetchall("SELECT name FROM things ORDER BY id") == [("holder",), ("waiter",)]
        # The connection's own busy timeout is back for reads after the wait.
        assert tx.fetchone("PRAGMA busy_timeout") == (db.busy_timeout_ms,)


def test_a_writer_gives_up_after_its_busy_timeout(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "store.sqlite", busy_timeout_ms=200)
    migrate(db, "things", [TABLE])
    holder = _holding(db, 3)
    try:
        with pytest.raises(StoreBusyError, match="is busy"), db.write() as tx:
            tx.execute("INSERT INTO things (name) VALUES ('never')")
    finally:
        assert holder.wait(timeout=30) == 0
    with db.read() as tx:
        assert tx.fetchall("SELECT name FROM things") == [("holder",)]
        assert tx.fetchone("PRAGMA busy_timeout") == (200,)


def test_unusable_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite").mkdir()
    with pytest.raises(StoreError, match="cannot open the store"):
        SqliteDatabase(tmp_path / "dir.sqlite")
