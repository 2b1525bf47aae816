"""The two store engines side by side, and the PostgreSQL store against plain psycopg (#15).

Three workloads, each on: the SQLite store (``synchronous=FULL``, WAL: the
baseline), the PostgreSQL store (``PostgresDatabase``: pool, advisory write lock,
``?`` translation) and plain psycopg 3 on one connection (what the store layer
costs). The PostgreSQL server is a throw-away cluster on 127.0.0.1 started with
PostgreSQL's defaults (``fsync`` and ``synchronous_commit`` on), not the tests'
``fsync=off`` one.

- ``bulk``: 10,000 small INSERTs in one transaction (``executemany``);
- ``loop``: 10,000 INSERTs in one transaction, one ``execute`` each;
- ``commits``: 1,000 one-row write transactions (each pays a durable commit);
- ``reads``: 1,000 one-row read transactions by primary key.

Printed per round: each workload's time and rate per engine. This is a
benchmark, not a test.

    .venv/bin/python scripts/bench_store_engines.py [--rounds 3] [--rows 10000] [--commits 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from ledger.store.database import Database
from ledger.store.migrations import Migration, migrate
from ledger.store.postgres import PostgresDatabase
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.postgres import start_cluster

TABLE = Migration(
    1, "bench", ("CREATE TABLE rows (id INTEGER PRIMARY KEY, value TEXT, blob BLOB)",)
)
INSERT = "INSERT INTO rows (value, blob) VALUES (?, ?)"
PAYLOAD = b"\x00" * 64


def _store_workloads(db: Database, rows: int, commits: int) -> dict[str, float]:
    def bulk() -> None:
        with db.write() as tx:
            tx.executemany(INSERT, ((f"v{i}", PAYLOAD) for i in range(rows)))

    def loop() -> None:
        with db.write() as tx:
            for i in range(rows):
                tx.execute(INSERT, (f"v{i}", PAYLOAD))

    def one_commit_each() -> None:
        for i in range(commits):
            with db.write() as tx:
                tx.execute(INSERT, (f"c{i}", PAYLOAD))

    def reads() -> None:
        for i in range(commits):
            with db.read() as tx:
                tx.fetchone("SELECT value FROM rows WHERE id = ?", (i + 1,))

    return {
        "bulk": _timed(bulk),
        "loop": _timed(loop),
        "commits": _timed(one_commit_each),
        "reads": _timed(reads),
    }


def _plain_workloads(url: str, rows: int, commits: int) -> dict[str, float]:
    insert = INSERT.replace("?", "%s")
    with psycopg.connect(url) as connection:
        connection.execute("DROP TABLE IF EXISTS plain")
        connection.execute("CREATE TABLE plain (id BIGSERIAL PRIMARY KEY, value TEXT, blob BYTEA)")
        connection.commit()
        insert = insert.replace("rows", "plain")

        def bulk() -> None:
            with connection.cursor() as cursor:
                cursor.executemany(insert, [(f"v{i}", PAYLOAD) for i in range(rows)])
            connection.commit()

        def loop() -> None:
            for i in range(rows):
                connection.execute(insert, (f"v{i}", PAYLOAD))
            connection.commit()

        def one_commit_each() -> None:
            for i in range(commits):
                connection.execute(insert, (f"c{i}", PAYLOAD))
                connection.commit()

        def reads() -> None:
            for i in range(commits):
                connection.execute("SELECT value FROM plain WHERE id = %s", (i + 1,)).fetchone()
                connection.commit()

        return {
            "bulk": _timed(bulk),
            "loop": _timed(loop),
            "commits": _timed(one_commit_each),
            "reads": _timed(reads),
        }


def _timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--commits", type=int, default=1_000)
    args = parser.parse_args()
    cluster = start_cluster(durable=True)
    try:
        with cluster.admin() as admin:
            fsync = admin.execute("SHOW fsync").fetchone()
            commit = admin.execute("SHOW synchronous_commit").fetchone()
        print(f"PostgreSQL: fsync={fsync and fsync[0]} synchronous_commit={commit and commit[0]}")
        for round_number in range(1, args.rounds + 1):
            results: dict[str, dict[str, float]] = {}
            with tempfile.TemporaryDirectory() as directory:
                sqlite = SqliteDatabase(Path(directory) / "bench.sqlite")
                migrate(sqlite, "bench", [TABLE])
                results["sqlite store"] = _store_workloads(sqlite, args.rows, args.commits)
                sqlite.close()
            name = cluster.create_database()
            postgres = PostgresDatabase(cluster.url(name))
            migrate(postgres, "bench", [TABLE])
            results["postgres store"] = _store_workloads(postgres, args.rows, args.commits)
            postgres.close()
            results["plain psycopg"] = _plain_workloads(cluster.url(name), args.rows, args.commits)
            cluster.drop_database(name)
            print(f"round {round_number}")
            counts = {"bulk": args.rows, "loop": args.rows, "commits": args.commits}
            counts["reads"] = args.commits
            for engine, timings in results.items():
                cells = [
                    f"{work} {seconds * 1000:8.1f} ms ({counts[work] / seconds:9.0f}/s)"
                    for work, seconds in timings.items()
                ]
                print(f"  {engine:15} " + "  ".join(cells))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
