"""The SQLite store: WAL, transactions, migrations, leases, several processes on one file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from ledger.store.database import SchemaTooNewError, StoreBusyError, StoreError
from ledger.store.lease import LeaseLostError, Leases
from ledger.store.migrations import Migration, current_version, migrate
from ledger.store.sqlite import SqliteDatabase

TABLE = Migration(1, "things", ("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)",))
COLUMN = Migration(2, "colour", ("ALTER TABLE things ADD COLUMN colour TEXT",))


@pytest.fixture
def db(tmp_path: Path) -> SqliteDatabase:
    return SqliteDatabase(tmp_path / "store.sqlite")


def test_wal_mode_and_full_sync(db: SqliteDatabase) -> None:
    with db.read() as tx:
        assert tx.fetchone("PRAGMA journal_mode") == ("wal",)
        assert tx.fetchone("PRAGMA synchronous") == (2,)


def test_a_failed_transaction_changes_nothing(db: SqliteDatabase) -> None:
    migrate(db, "things", [TABLE])

    def crash_mid_transaction() -> None:
        with db.write() as tx:
            tx.execute("INSERT INTO things (name) VALUES (?)", ("lost",))
            raise RuntimeError("crash mid-transaction")

    with pytest.raises(RuntimeError):
        crash_mid_transaction()
    with db.read() as tx:
        assert tx.fetchall("SELECT name FROM things") == []


def test_migrations_apply_once_in_order_and_refuse_a_newer_schema(db: SqliteDatabase) -> None:
    assert migrate(db, "things", [TABLE]) == 1
    assert migrate(db, "things", [TABLE, COLUMN]) == 2
    assert migrate(db, "things", [TABLE, COLUMN]) == 2  # idempotent
    assert current_version(db, "things") == 2
    with db.write() as tx:
        tx.execute("INSERT INTO things (name, colour) VALUES ('a', 'red')")
    with pytest.raises(SchemaTooNewError, match="newer than this Tongban"):
        migrate(db, "things", [TABLE])
    with pytest.raises(StoreError, match="without gaps"):
        migrate(db, "other", [COLUMN])


def test_each_thread_gets_its_own_connection(db: SqliteDatabase) -> None:
    migrate(db, "things", [TABLE])

    def insert(n: int) -> None:
        for i in range(50):
            with db.write() as tx:
                tx.execute("INSERT INTO things (name) VALUES (?)", (f"{n}-{i}",))

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as tx:
        assert tx.fetchone("SELECT COUNT(*) FROM things") == (200,)


def test_another_process_sees_committed_rows(db: SqliteDatabase, tmp_path: Path) -> None:
    migrate(db, "things", [TABLE])
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from ledger.store.sqlite import SqliteDatabase
        db = SqliteDatabase(Path(sys.argv[1]))
        with db.write() as tx:
            tx.execute("INSERT INTO things (name) VALUES ('from the other process')")
        """
    )
    subprocess.run([sys.executable, "-c", script, str(db.path)], check=True)
    with db.read() as tx:
        assert tx.fetchall("SELECT name FROM things") == [("from the other process",)]


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


def test_lease_is_exclusive_until_it_expires(db: SqliteDatabase) -> None:
    leases = Leases(db)
    first = leases.acquire("writer", "process-a", ttl_ms=1000, now_ms=10_000)
    assert first is not None
    assert first.token == 1
    assert leases.acquire("writer", "process-b", ttl_ms=1000, now_ms=10_500) is None
    renewed = leases.renew(first, ttl_ms=1000, now_ms=10_900)
    assert renewed.expires_at_ms == 11_900
    assert leases.acquire("writer", "process-b", ttl_ms=1000, now_ms=11_000) is None
    taken = leases.acquire("writer", "process-b", ttl_ms=1000, now_ms=12_000)
    assert taken is not None
    assert taken.token == 2  # fencing: the new holder's token is higher
    with pytest.raises(LeaseLostError):
        leases.renew(renewed, ttl_ms=1000, now_ms=12_001)


def test_a_released_lease_can_be_taken_at_once(db: SqliteDatabase) -> None:
    leases = Leases(db)
    held = leases.acquire("writer", "a", ttl_ms=60_000, now_ms=0)
    assert held is not None
    leases.release(held)
    again = leases.acquire("writer", "b", ttl_ms=60_000, now_ms=1)
    assert again is not None
    assert again.holder == "b"
    current = leases.current("writer")
    assert current is not None
    assert current.holder == "b"


def test_operational_failures_surface_as_store_errors(db: SqliteDatabase) -> None:
    with pytest.raises(StoreError, match="failed"), db.write() as tx:
        tx.execute("SELECT * FROM no_such_table")
