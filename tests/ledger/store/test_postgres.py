"""PostgreSQL-only behaviour: the advisory write lock, the busy timeout, errors without secrets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ledger.store.database import StoreBusyError, StoreError
from ledger.store.lease import Leases
from ledger.store.migrations import Migration, migrate
from ledger.store.open import open_database
from ledger.store.postgres import WRITE_LOCK_KEY, PostgresDatabase
from ledger.store.sqlite import SqliteDatabase
from tests.helpers import postgres as postgres_helper

TABLE = Migration(1, "things", ("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)",))


@pytest.fixture
def pg(postgres_database: str) -> Iterator[PostgresDatabase]:
    database = PostgresDatabase(postgres_database, busy_timeout_ms=300)
    migrate(database, "things", [TABLE])
    yield database
    database.close()


def _hold_write_lock(url: str, held: threading.Event, release: threading.Event) -> None:
    """Another host's writer: holds the store's write lock until ``release`` is set."""
    with psycopg.connect(url) as connection:
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        connection.execute("INSERT INTO things (name) VALUES ('holder')")
        held.set()
        release.wait(timeout=30)


def test_a_writer_waits_for_another_hosts_write_and_then_commits(
    pg: PostgresDatabase, postgres_database: str
) -> None:
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(postgres_database, held, release))
    holder.start()
    assert held.wait(timeout=30)
    patient = PostgresDatabase(postgres_database, busy_timeout_ms=30_000)
    try:
        threading.Timer(0.2, release.set).start()
        with patient.write() as tx:
            tx.execute("INSERT INTO things (name) VALUES ('waiter')")
    finally:
        release.set()
        holder.join(timeout=30)
        patient.close()
    with pg.read() as tx:
        assert tx.fetchall("SELECT name FROM things ORDER BY id") == [("holder",), ("waiter",)]


def test_a_writer_gives_up_after_its_busy_timeout(
    pg: PostgresDatabase, postgres_database: str
) -> None:
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(postgres_database, held, release))
    holder.start()
    try:
        assert held.wait(timeout=30)
        with pytest.raises(StoreBusyError, match="is busy"), pg.write() as tx:
            tx.execute("INSERT INTO things (name) VALUES ('never')")
    finally:
        release.set()
        holder.join(timeout=30)
    with pg.read() as tx:
        assert tx.fetchall("SELECT name FROM things") == [("holder",)]
    with pg.write() as tx:  # the lock timeout was the transaction's only
        tx.execute("INSERT INTO things (name) VALUES ('later')")


def _pause_inside_a_write(paused: PostgresDatabase, other: PostgresDatabase) -> list[str]:
    """Write on ``paused``, go silent while ``other`` wants the lock, then write again."""
    steps = []
    with paused.write() as tx:
        tx.execute("INSERT INTO things (name) VALUES ('paused')")
        # The client goes silent inside its transaction, holding the lock; the
        # other host's writer waits on it (up to 30 s) and must get it first.
        with other.write() as later:
            later.execute("SELECT 1")
        steps.append("other wrote")
        tx.execute("INSERT INTO things (name) VALUES ('resumed')")
    return steps


def test_a_writer_paused_inside_its_transaction_loses_it_and_the_write_lock(
    postgres_database: str,
) -> None:
    """A paused writer (SIGSTOP, a frozen VM) cannot hold the write lock, so takeover can win."""
    paused = PostgresDatabase(postgres_database, busy_timeout_ms=300, idle_write_timeout_ms=200)
    other = PostgresDatabase(postgres_database, busy_timeout_ms=30_000)
    migrate(paused, "things", [TABLE])
    try:
        with pytest.raises(StoreError, match="failed") as refused:
            _pause_inside_a_write(paused, other)
        assert not isinstance(refused.value, StoreBusyError)  # the other writer got the lock
        with other.write() as later:
            later.execute("INSERT INTO things (name) VALUES ('other')")
        with other.read() as tx:
            assert tx.fetchall("SELECT name FROM things") == [("other",)]
    finally:
        paused.close()
        other.close()


def test_a_write_inside_a_write_on_one_thread_is_refused_not_deadlocked(
    pg: PostgresDatabase,
) -> None:
    with pytest.raises(StoreError, match="inside another"), pg.write(), pg.write():
        pass
    with pg.write() as tx:
        assert tx.fetchone("SELECT 1") == (1,)


def test_a_read_transaction_is_read_only(pg: PostgresDatabase) -> None:
    with pytest.raises(StoreError, match="read-only"), pg.read() as tx:
        tx.execute("INSERT INTO things (name) VALUES ('no')")


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(StoreError, match=r"cannot reach the store at 127\.0\.0\.1:1/db") as raised:
        PostgresDatabase("postgresql://user:s3cret-pw@127.0.0.1:1/db", connect_timeout_s=2)
    assert "s3cret-pw" not in str(raised.value)
    assert "user" not in str(raised.value)


def test_open_database_picks_the_engine(tmp_path: Path, postgres_database: str) -> None:
    sqlite = open_database(tmp_path / "store.sqlite")
    postgres = open_database(postgres_database)
    try:
        assert isinstance(sqlite, SqliteDatabase)
        assert isinstance(postgres, PostgresDatabase)
        assert (sqlite.dialect, postgres.dialect) == ("sqlite", "postgresql")
    finally:
        sqlite.close()
        postgres.close()
    with pytest.raises(StoreError, match="unknown store URL scheme 'mysql'"):
        open_database("mysql://somewhere/db")


def test_leases_are_judged_by_the_database_servers_clock(
    pg: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``now_ms`` a lease's time is the server's: a host's fast clock changes nothing."""
    leases = Leases(pg)
    with pg.read() as tx:
        row = tx.fetchone("SELECT CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)")
    assert row is not None
    before = int(row[0])
    lease = leases.acquire("writer", "host-a", ttl_ms=60_000)
    assert lease is not None
    assert before <= lease.expires_at_ms - 60_000 <= leases.now_ms()
    hour_ns = 3_600 * 10**9
    real_time_ns = time.time_ns
    monkeypatch.setattr(time, "time_ns", lambda: real_time_ns() + hour_ns)
    monkeypatch.setattr(time, "time", lambda: (real_time_ns() + hour_ns) / 1e9)
    # Host b's clock is an hour ahead, past the lease's expiry: the lease is still live.
    assert leases.acquire("writer", "host-b", ttl_ms=60_000) is None
    assert leases.renew(lease, ttl_ms=60_000).expires_at_ms < lease.expires_at_ms + 3_600_000


@pytest.mark.parametrize(
    ("uid", "expected"),
    [
        (0, "apt-get install -y postgresql"),
        (1000, "ask an administrator to install Debian's postgresql package"),
    ],
)
def test_a_missing_postgresql_fails_with_the_command_that_installs_it(
    monkeypatch: pytest.MonkeyPatch, uid: int, expected: str
) -> None:
    monkeypatch.setattr("glob.glob", lambda pattern: [])
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr("os.geteuid", lambda: uid)
    with pytest.raises(postgres_helper.PostgresMissingError, match="not installed") as raised:
        postgres_helper.server_binaries()
    assert expected in str(raised.value)


def test_the_newest_debian_postgresql_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    found = ["/usr/lib/postgresql/9.6/bin/initdb", "/usr/lib/postgresql/15/bin/initdb"]
    found += ["/usr/lib/postgresql/10/bin/initdb"]
    monkeypatch.setattr("glob.glob", lambda pattern: found)
    assert postgres_helper.server_binaries() == Path("/usr/lib/postgresql/15/bin")
