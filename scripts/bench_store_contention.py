"""Write transactions from several processes on one SQLite file: SQLite's busy handler
against the store's short-step wait (``SqliteDatabase.write``), interleaved (#14).

Each round starts ``--processes`` processes that each commit ``--transactions``
small write transactions (``synchronous=FULL``, WAL) with a random pause of up to
2 ms between them, as the API workers and the writer of one province do on one
file. The **handler** side opens plain ``sqlite3`` connections with a busy timeout
and lets SQLite's busy handler wait for the lock (it sleeps 1, 2, 5, 10, ... up to
100 ms between tries); the **store** side uses ``SqliteDatabase.write``. Printed per
round: transactions/s over all processes and the p50/p99/max of one transaction
(taking the lock, inserting, committing). This is a benchmark, not a test.

    .venv/bin/python scripts/bench_store_contention.py [--processes 3] [--transactions 400]
        [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.store.sqlite import SqliteDatabase

INSERT = "INSERT INTO rows (value) VALUES (?)"


def _commit_with_handler(path: Path, count: int) -> list[float]:
    connection = sqlite3.connect(path, isolation_level=None, timeout=10)
    connection.execute("PRAGMA synchronous=FULL")
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(INSERT, (os.urandom(200),))
        connection.execute("COMMIT")
        latencies.append(time.perf_counter() - started)
        time.sleep(random.random() * 0.002)  # noqa: S311 - a pause, not a secret
    connection.close()
    return latencies


def _commit_with_store(path: Path, count: int) -> list[float]:
    db = SqliteDatabase(path)
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        with db.write() as tx:
            tx.execute(INSERT, (os.urandom(200),))
        latencies.append(time.perf_counter() - started)
        time.sleep(random.random() * 0.002)  # noqa: S311 - a pause, not a secret
    db.close()
    return latencies


def _run(side: str, path: Path, count: int, out: multiprocessing.Queue[list[float]]) -> None:
    commit = _commit_with_handler if side == "handler" else _commit_with_store
    out.put(commit(path, count))


def measure(side: str, path: Path, processes: int, count: int) -> dict[str, float]:
    """One round of ``side``: rate and latency figures over every process."""
    out: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
    started = time.perf_counter()
    workers = [
        multiprocessing.Process(target=_run, args=(side, path, count, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    latencies = sorted(value for _ in workers for value in out.get())
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    return {
        "per_s": len(latencies) / seconds,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "max_ms": latencies[-1] * 1000,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the interleaved rounds; print a line per round and a final JSON line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--transactions", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    path = Path(tempfile.mkdtemp(prefix="bench-store-contention-")) / "store.sqlite"
    SqliteDatabase(path).close()  # WAL mode is a property of the file
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, value BLOB)")
    setup.close()
    rounds = []
    for n in range(1, args.rounds + 1):
        for side in ("handler", "store"):
            figures = measure(side, path, args.processes, args.transactions)
            rounds.append({"round": n, "side": side, **figures})
            print(
                f"round {n} {side:>7}: {figures['per_s']:,.0f} transactions/s, p50 "
                f"{figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, max "
                f"{figures['max_ms']:.1f} ms"
            )
    print(json.dumps({"processes": args.processes, "rounds": rounds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
