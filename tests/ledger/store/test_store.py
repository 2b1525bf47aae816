"""The store's promises on every engine: transactions, migrations, threads, processes, leases."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from ledger.store.database import Database, SchemaTooNewError, StoreError
from ledger.store.lease import LeaseLostError, Leases
from ledger.store.migrations import Migration, current_version, migrate
from tests.helpers.stores import StoreTarget

TABLE = Migration(1, "things", ("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)",))
COLUMN = Migration(2, "colour", ("ALTER TABLE things ADD COLUMN colour TEXT",))
VALUES = Migration(
    1,
    "values",
    ("CREATE TABLE vals (k TEXT PRIMARY KEY, i INTEGER, b BLOB, r REAL) WITHOUT ROWID",),
)


def test_a_failed_transaction_changes_nothing(db: Database) -> None:
    migrate(db, "things", [TABLE])

    def crash_mid_transaction() -> None:
        with db.write() as tx:
            tx.execute("INSERT INTO things (name) VALUES (?)", ("lost",))
            raise RuntimeError("crash mid-transaction")

    with pytest.raises(RuntimeError):
        crash_mid_transaction()
    with db.read() as tx:
        assert tx.fetchall("SELECT name FROM things") == []


def test_migrations_apply_once_in_order_and_refuse_a_newer_schema(db: Database) -> None:
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


def test_an_integer_primary_key_is_numbered_when_the_insert_leaves_it_out(db: Database) -> None:
    migrate(db, "things", [TABLE])
    with db.write() as tx:
        tx.executemany("INSERT INTO things (name) VALUES (?)", [("a",), ("b",), ("c",)])
    with db.read() as tx:
        assert tx.fetchall("SELECT id, name FROM things ORDER BY id") == [
            (1, "a"),
            (2, "b"),
            (3, "c"),
        ]


def test_values_come_back_as_the_same_python_types(db: Database) -> None:
    migrate(db, "values", [VALUES])
    big = -(2**63)  # SQLite's integers are 64 bits; so are the translated columns
    with db.write() as tx:
        tx.execute(
            "INSERT INTO vals (k, i, b, r) VALUES (?, ?, ?, ?)", ("k", big, b"\x00\xff", 0.5)
        )
        tx.execute("INSERT INTO vals (k) VALUES (?)", ("empty",))
    with db.read() as tx:
        row = tx.fetchone("SELECT k, i, b, r FROM vals WHERE k = ?", ("k",))
        assert row == ("k", big, b"\x00\xff", 0.5)
        assert row is not None
        assert [type(v) for v in row] == [str, int, bytes, float]
        assert tx.fetchone("SELECT i, b, r FROM vals WHERE k = 'empty'") == (None, None, None)
        assert tx.fetchone("SELECT COUNT(*), 7 % 3 FROM vals") == (2, 1)
        assert tx.fetchone("SELECT k FROM vals WHERE k = 'nothing'") is None


def test_insert_on_conflict_do_nothing_and_do_update(db: Database) -> None:
    migrate(db, "values", [VALUES])
    with db.write() as tx:
        assert tx.execute("INSERT INTO vals (k, i) VALUES (?, ?)", ("k", 1)) == 1
        assert (
            tx.execute("INSERT INTO vals (k, i) VALUES (?, ?) ON CONFLICT DO NOTHING", ("k", 2))
            == 0
        )
        tx.execute(
            "INSERT INTO vals (k, i) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET i = excluded.i",
            ("k", 3),
        )
    with db.read() as tx:
        assert tx.fetchall("SELECT k, i FROM vals") == [("k", 3)]


def test_iterate_streams_every_row_in_order(db: Database) -> None:
    migrate(db, "things", [TABLE])
    with db.write() as tx:
        tx.executemany("INSERT INTO things (name) VALUES (?)", [(f"n{i}",) for i in range(2500)])
    with db.read() as tx:
        names = [
            row[0] for row in tx.iterate("SELECT name FROM things WHERE id > ? ORDER BY id", (0,))
        ]
    assert names == [f"n{i}" for i in range(2500)]


def test_a_stream_left_early_leaves_its_transaction_usable(db: Database) -> None:
    migrate(db, "things", [TABLE])
    with db.write() as tx:
        tx.executemany("INSERT INTO things (name) VALUES (?)", [(f"n{i}",) for i in range(10)])
    with db.read() as tx:
        rows = tx.iterate("SELECT name FROM things ORDER BY id")
        assert next(rows) == ("n0",)
        rows.close()  # type: ignore[attr-defined]
        assert tx.fetchone("SELECT COUNT(*) FROM things") == (10,)


def test_a_read_sees_one_snapshot_while_another_thread_commits(db: Database) -> None:
    migrate(db, "things", [TABLE])
    with db.write() as tx:
        tx.execute("INSERT INTO things (name) VALUES ('before')")
    with db.read() as tx:
        assert tx.fetchone("SELECT COUNT(*) FROM things") == (1,)

        def commit_another() -> None:
            with db.write() as other:
                other.execute("INSERT INTO things (name) VALUES ('after')")

        writer = threading.Thread(target=commit_another)
        writer.start()
        writer.join(timeout=30)
        assert not writer.is_alive()  # a reader never blocks a writer
        assert tx.fetchone("SELECT COUNT(*) FROM things") == (1,)
    with db.read() as tx:
        assert tx.fetchone("SELECT COUNT(*) FROM things") == (2,)


def test_write_transactions_run_one_at_a_time(db: Database) -> None:
    """Read-modify-write without row locks loses no update: writers are serialized."""
    migrate(db, "values", [VALUES])
    with db.write() as tx:
        tx.execute("INSERT INTO vals (k, i) VALUES ('counter', 0)")

    def increment() -> None:
        for _ in range(25):
            with db.write() as tx:
                row = tx.fetchone("SELECT i FROM vals WHERE k = 'counter'")
                assert row is not None
                tx.execute("UPDATE vals SET i = ? WHERE k = 'counter'", (row[0] + 1,))

    threads = [threading.Thread(target=increment) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as tx:
        assert tx.fetchone("SELECT i FROM vals WHERE k = 'counter'") == (100,)


def test_each_thread_gets_its_own_connection(db: Database) -> None:
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


def test_another_process_sees_committed_rows(db: Database, store_target: StoreTarget) -> None:
    migrate(db, "things", [TABLE])
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from ledger.store.open import open_database
        where = sys.argv[1]
        db = open_database(where if "://" in where else Path(where))
        with db.write() as tx:
            tx.execute("INSERT INTO things (name) VALUES ('from the other process')")
        db.close()
        """
    )
    subprocess.run([sys.executable, "-c", script, store_target.argument], check=True)
    with db.read() as tx:
        assert tx.fetchall("SELECT name FROM things") == [("from the other process",)]


def test_lease_is_exclusive_until_it_expires(db: Database) -> None:
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


def test_a_released_lease_can_be_taken_at_once(db: Database) -> None:
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


def test_a_lease_taken_without_a_time_is_judged_by_the_stores_clock(db: Database) -> None:
    leases = Leases(db)
    before = leases.now_ms()
    lease = leases.acquire("writer", "a", ttl_ms=60_000)
    assert lease is not None
    assert before + 60_000 <= lease.expires_at_ms <= leases.now_ms() + 60_000
    assert leases.acquire("writer", "b", ttl_ms=60_000) is None
    assert leases.renew(lease, ttl_ms=120_000).expires_at_ms >= lease.expires_at_ms
    current = leases.current("writer")
    assert current is not None
    assert current.holder == "a"


def test_operational_failures_surface_as_store_errors(db: Database) -> None:
    with pytest.raises(StoreError, match="failed"), db.write() as tx:
        tx.execute("SELECT * FROM no_such_table")
    with db.write() as tx:  # the store is usable afterwards
        assert tx.fetchone("SELECT 1") == (1,)
