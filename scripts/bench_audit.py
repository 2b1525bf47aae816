"""Benchmark the audit log: durable appends, proofs at 10^4..10^7 events, bytes, memory.

    .venv/bin/python scripts/bench_audit.py            # full run (a few minutes)
    .venv/bin/python scripts/bench_audit.py --quick    # small sizes, for a smoke test

Every figure is printed beside a baseline measured in the same run:
- appends: the batch path (append_many, 1,000 events a call) from one process
  and from two processes sharing the store (as the API's two workers do),
  against one event per call from one thread (one commit and one signature
  each), and 16 threads appending one event per call (group commit);
- the ceiling (``--ceiling`` runs only this): the batch path against plain SQLite
  inserts of the very rows the log stored (events, batches, tree nodes) into a
  fresh database with the log's schema, indexes and pragmas, one transaction per
  1,000 events, in interleaved rounds; the ratio is how near SQLite's limit the
  log appends (issue #14); ``--engine postgresql|both`` runs it on PostgreSQL too
  (a throw-away durable server on 127.0.0.1: ``fsync`` and ``synchronous_commit``
  on), where the ceiling is plain psycopg ``executemany`` and ``COPY`` of the
  same rows into a fresh database with the log's schema on the same server, one
  transaction per 1,000 events; engines and rounds interleaved (issue #15);
- proofs: inclusion and consistency proofs read from the store (O(log n) node
  reads) against the naive way, recomputing the root from all leaves.

The large trees are synthesised straight into the log's two tree tables
(leaf hashes and nodes from ``CompactRange``) rather than appended as events:
appending ten million events would take many minutes and measure appends
again, not proofs.
"""

from __future__ import annotations

import argparse
import functools
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.helpers

from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import MIGRATIONS, AppendResult, AuditLog, StoreNodes
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.merkle import tree as merkle
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.tree import CompactRange
from ledger.merkle.verify import verify_consistency, verify_inclusion
from ledger.store.migrations import migrate
from ledger.store.open import open_database
from ledger.store.sqlite import _PRAGMAS, SqliteDatabase
from tests.helpers.postgres import PostgresCluster, start_cluster

CALLER = Caller("bench-verifier", "440000")
BATCH = 1000
PSEUDONYM_KEY = bytes(range(32))


def _event(n: int) -> EventInput:
    return EventInput(
        action="credential.verify",
        resource="credential:" + f"{n:064x}",
        purpose="cross-province.enrolment",
        legal_basis="prc.pipl.art13",
        outcome=Outcome.SUCCESS,
        request_id=f"bench-{n}",
        subject_id=f"did:key:zBenchHolder{n % 1000}",
    )


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _open_log(where: Path | str) -> AuditLog:
    """The log on a SQLite file or a ``postgresql://`` URL."""
    signer = LocalSigner("bench", Sm2PrivateKey.generate())
    db = open_database(where)
    return AuditLog(db, 330000, signer, PseudonymKeys({1: PSEUDONYM_KEY}, 1))


def _close_log(log: AuditLog) -> None:
    log.close()
    log.db.close()


def _append_batches(log: AuditLog, start: int, events: int) -> None:
    for first in range(start, start + events, BATCH):
        log.append_many(CALLER, [_event(n) for n in range(first, first + BATCH)])


def bench_appends(directory: Path, events: int) -> None:
    """Durable append throughput, bytes per event and memory as the log grows."""
    print("## Durable appends (SQLite WAL, synchronous=FULL)")
    log = _open_log(directory / "batch.sqlite")
    rss = []
    started = time.perf_counter()
    quarter = max(BATCH, events // 4 // BATCH * BATCH)
    for start in range(0, events, quarter):
        _append_batches(log, start, min(quarter, events - start))
        rss.append((start + quarter, _rss_mib()))
    batch_rate = events / (time.perf_counter() - started)
    log.close()
    size = sum(p.stat().st_size for p in directory.glob("batch.sqlite*"))
    print(f"batch path, 1 process ({BATCH}/call): {batch_rate:,.0f} events/s ({events:,})")
    print(f"store: {size / events:,.0f} bytes per event ({size / 2**20:,.1f} MiB)")
    print("memory (RSS) as the log grows: " + ", ".join(f"{n:,}: {m:.0f} MiB" for n, m in rss))

    two = directory / "two.sqlite"
    _open_log(two).close()  # create the schema before the workers race for it
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--append-worker", str(two), str(i * events), str(events)]
        )
        for i in range(2)
    ]
    if any(worker.wait() != 0 for worker in workers):
        raise SystemExit("an append worker failed")
    two_rate = 2 * events / (time.perf_counter() - started)
    print(f"batch path, 2 processes on one store: {two_rate:,.0f} events/s ({2 * events:,})")

    single = _open_log(directory / "single.sqlite")
    count = min(2000, events // 10)
    started = time.perf_counter()
    for n in range(count):
        single.append(CALLER, _event(n))
    single_rate = count / (time.perf_counter() - started)
    single.close()
    print(f"one event per call, 1 thread: {single_rate:,.0f} events/s (baseline)")

    grouped = _open_log(directory / "grouped.sqlite")
    per_thread = count // 4

    def worker(offset: int) -> None:
        for n in range(per_thread):
            grouped.append(CALLER, _event(offset + n))

    threads = [threading.Thread(target=worker, args=(t * per_thread,)) for t in range(16)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    grouped_rate = 16 * per_thread / (time.perf_counter() - started)
    grouped.close()
    print(f"one event per call, 16 threads: {grouped_rate:,.0f} events/s (group commit)")
    print(
        f"ratios to the baseline: batch {batch_rate / single_rate:,.1f}x, "
        f"two processes {two_rate / single_rate:,.1f}x, group commit "
        f"{grouped_rate / single_rate:,.1f}x"
    )
    print()


def _log_round(where: Path | str, events: int) -> float:
    """Seconds to append ``events`` through the batch path into a fresh log."""
    log = _open_log(where)
    started = time.perf_counter()
    _append_batches(log, 0, events)
    elapsed = time.perf_counter() - started
    _close_log(log)
    return elapsed


def _pipelined_round(where: Path | str, events: int) -> float:
    """Seconds to append ``events`` with ``submit``, the next call built while one commits."""
    log = _open_log(where)
    started = time.perf_counter()
    in_flight: list[Future[list[AppendResult]]] = []
    for first in range(0, events, BATCH):
        in_flight.append(log.submit(CALLER, [_event(n) for n in range(first, first + BATCH)]))
        if len(in_flight) > 1:
            in_flight.pop(0).result()
    for future in in_flight:
        future.result()
    elapsed = time.perf_counter() - started
    _close_log(log)
    return elapsed


def _stored_rows(path: Path) -> tuple[list[str], dict[str, list[tuple[object, ...]]]]:
    """The log's schema (tables and indexes) and every row of its append tables."""
    connection = sqlite3.connect(path)
    schema = [
        str(sql)
        for (sql,) in connection.execute(
            "SELECT sql FROM sqlite_master WHERE name LIKE 'audit%' AND sql IS NOT NULL "
            "ORDER BY type DESC, rowid"
        )
    ]
    rows = {
        table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608
        for table in ("audit_batches", "audit_events", "audit_nodes")
    }
    connection.close()
    return schema, rows


Rows = dict[str, list[tuple[object, ...]]]
Chunk = tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[object, ...]]]
TABLES = ("audit_batches", "audit_events", "audit_nodes")


def _chunks(rows: Rows) -> list[Chunk]:
    """Per ``BATCH`` events: the batch rows, event rows and node rows one ``append_many`` stores."""
    events, batches, nodes = rows["audit_events"], rows["audit_batches"], rows["audit_nodes"]
    chunks: list[Chunk] = []
    b = n = 0
    for first in range(0, len(events), BATCH):
        end = first + BATCH
        # Node (level, idx) is complete once leaf idx * 2**level + 2**level - 1 is in.
        m = n
        while m < len(nodes) and (int(nodes[m][1]) + 1) << int(nodes[m][0]) <= end:  # type: ignore[call-overload]
            m += 1
        c = b
        while c < len(batches) and int(batches[c][1]) < end:  # type: ignore[call-overload]
            c += 1
        chunks.append((batches[b:c], events[first:end], nodes[n:m]))
        b, n = c, m
    return chunks


def _plain_round(path: Path, schema: list[str], rows: Rows) -> float:
    """Seconds to insert ``rows`` into a fresh database, one transaction per ``BATCH`` events.

    Each transaction carries the batch rows, event rows and node rows of its
    events, as one ``append_many`` call of the log does.
    """
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in _PRAGMAS:
        connection.execute(pragma)
    for statement in schema:
        connection.execute(statement)
    marks = {t: ",".join("?" * len(r[0])) for t, r in rows.items() if r}
    chunks = _chunks(rows)
    started = time.perf_counter()
    for chunk in chunks:
        connection.execute("BEGIN IMMEDIATE")
        for table, part in zip(TABLES, chunk, strict=True):
            if part:
                connection.executemany(
                    f"INSERT INTO {table} VALUES ({marks[table]})",  # noqa: S608
                    part,
                )
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def _pg_rows(url: str) -> Rows:
    """Every row of the log's append tables in a PostgreSQL database."""
    import psycopg

    with psycopg.connect(url) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608
            for table in TABLES
        }


def _pg_plain_round(url: str, rows: Rows, *, copy: bool) -> float:
    """Seconds for plain psycopg to insert ``rows`` into ``url`` (the log's schema, empty).

    One transaction per ``BATCH`` events on one connection, by pipelined
    ``executemany`` or by ``COPY ... FROM STDIN``.
    """
    import psycopg

    marks = {t: ",".join(["%s"] * len(r[0])) for t, r in rows.items() if r}
    chunks = _chunks(rows)
    with psycopg.connect(url) as connection:
        started = time.perf_counter()
        for chunk in chunks:
            with connection.transaction(), connection.cursor() as cursor:
                for table, part in zip(TABLES, chunk, strict=True):
                    if not part:
                        continue
                    if copy:
                        with cursor.copy(f"COPY {table} FROM STDIN") as stream:
                            for row in part:
                                stream.write_row(row)
                    else:
                        cursor.executemany(
                            f"INSERT INTO {table} VALUES ({marks[table]})",  # noqa: S608
                            part,
                        )
        return time.perf_counter() - started


def _sqlite_round(directory: Path, events: int, number: int) -> dict[str, float]:
    """One SQLite round: rates of append_many, submit (two in flight) and plain inserts."""
    path = directory / f"ceiling-log-{number}.sqlite"
    piped = events / _pipelined_round(directory / f"ceiling-piped-{number}.sqlite", events)
    log = events / _log_round(path, events)
    schema, rows = _stored_rows(path)
    plain = events / _plain_round(directory / f"ceiling-plain-{number}.sqlite", schema, rows)
    if number == 0:
        size = sum(p.stat().st_size for p in directory.glob(f"ceiling-log-{number}.sqlite*"))
        print(
            f"sqlite per event: {len(rows['audit_nodes']) / events:.2f} node rows, "
            f"{size / events:,.0f} bytes in the store"
        )
    for stale in directory.glob(f"ceiling-*-{number}.sqlite*"):
        stale.unlink()
    return {"append_many": log, "submit x2": piped, "plain": plain}


def _postgres_round(cluster: PostgresCluster, events: int, first: bool) -> dict[str, float]:
    """One PostgreSQL round, each figure in a fresh database of the same server."""
    import psycopg

    names = [cluster.create_database() for _ in range(4)]
    urls = [cluster.url(name) for name in names]
    try:
        piped = events / _pipelined_round(urls[0], events)
        log = events / _log_round(urls[1], events)
        rows = _pg_rows(urls[1])
        if first:
            sizes = []
            for url in urls[1:3]:  # the log's database, and an empty one to subtract
                with psycopg.connect(url) as connection:
                    query = "SELECT pg_database_size(current_database())"
                    row = connection.execute(query).fetchone()
                sizes.append(int(str(row[0])) if row else 0)
            print(f"postgresql: {(sizes[0] - sizes[1]) / events:,.0f} bytes per event in tables")
        for url in urls[2:]:
            migrate_db = open_database(url)
            migrate(migrate_db, "audit", MIGRATIONS)  # the log's schema and indexes, no rows
            migrate_db.close()
        plain = events / _pg_plain_round(urls[2], rows, copy=False)
        copied = events / _pg_plain_round(urls[3], rows, copy=True)
    finally:
        for name in names:
            cluster.drop_database(name)
    return {"append_many": log, "submit x2": piped, "plain": plain, "plain COPY": copied}


def bench_ceiling(directory: Path, events: int, rounds: int = 3, engine: str = "sqlite") -> None:
    """The batch path against plain inserts of the same rows, engines and rounds interleaved."""
    engines = ["sqlite", "postgresql"] if engine == "both" else [engine]
    print(f"## Audit appends against the ceiling (plain inserts), {rounds} rounds, {engines}")
    cluster = start_cluster(durable=True) if "postgresql" in engines else None
    rates: dict[str, dict[str, list[float]]] = {e: {} for e in engines}
    try:
        for number in range(rounds):
            for name in engines if number % 2 == 0 else engines[::-1]:
                if cluster is not None and name == "postgresql":
                    got = _postgres_round(cluster, events, number == 0)
                else:
                    got = _sqlite_round(directory, events, number)
                for key, value in got.items():
                    rates[name].setdefault(key, []).append(value)
                figures = ", ".join(f"{k} {v:,.0f}" for k, v in got.items())
                print(
                    f"round {number + 1} {name}: {figures} events/s; append_many/plain "
                    f"{got['append_many'] / got['plain']:.2f}"
                )
    finally:
        if cluster is not None:
            cluster.stop()
    medians = {e: {k: statistics.median(v) for k, v in r.items()} for e, r in rates.items()}
    print(f"medians ({events:,} events a round, one transaction per {BATCH:,} events):")
    print(
        "| engine | append_many | submit, two in flight | plain executemany | plain COPY "
        "| append_many / plain | append_many / COPY |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, m in medians.items():
        copy = m.get("plain COPY")
        print(
            f"| {name} | {m['append_many']:,.0f} | {m['submit x2']:,.0f} | {m['plain']:,.0f} | "
            + (f"{copy:,.0f}" if copy else "-")
            + f" | {m['append_many'] / m['plain']:.2f} | "
            + (f"{m['append_many'] / copy:.2f}" if copy else "-")
            + " |"
        )
    if len(medians) == 2:
        pg, lite = medians["postgresql"], medians["sqlite"]
        print(
            f"postgresql/sqlite: append_many {pg['append_many'] / lite['append_many']:.2f}, "
            f"submit x2 {pg['submit x2'] / lite['submit x2']:.2f}, "
            f"plain {pg['plain'] / lite['plain']:.2f}"
        )
    print()


def _synthesise(path: Path, size: int) -> SqliteDatabase:
    # Bulk loading is not what is measured: no fsync while building the tree.
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    for statement in MIGRATIONS[0].statements:
        head = statement.split("(")[0]
        if statement.startswith("CREATE TABLE") and ("events" in head or "nodes" in head):
            connection.execute(statement.replace("REFERENCES audit_batches (id)", ""))
    border = CompactRange(SM3_TREE)
    chunk = 200_000
    for start in range(0, size, chunk):
        events = []
        nodes = []
        for seq in range(start, min(size, start + chunk)):
            leaf = SM3_TREE.hash_leaf(seq.to_bytes(8, "big"))
            events.append((seq, f"e{seq}", 0, "bench", b"{}", leaf, 0))
            for (level, index), node in border.append(leaf):
                if level:
                    nodes.append((level, index, node))
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO audit_events (seq, event_id, time_ms, actor, body, leaf_hash, "
            "batch_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        connection.executemany("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)
        connection.execute("COMMIT")
    connection.close()
    return SqliteDatabase(path)


def _median(function: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _naive_root(db: SqliteDatabase, size: int) -> bytes:
    with db.read() as tx:
        level = [
            bytes(row[0])
            for row in tx.iterate(
                "SELECT leaf_hash FROM audit_events WHERE seq < ? ORDER BY seq", (size,)
            )
        ]
    while len(level) > 1:
        parents = [
            SM3_TREE.hash_children(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            parents.append(level[-1])
        level = parents
    return level[0]


def bench_proofs(directory: Path, sizes: list[int], naive_limit: int) -> None:
    """Proof generation and verification from the store at each size, against naive."""
    print("## Proofs from the store (median of 200; naive: root from all leaves)")
    for size in sizes:
        started = time.perf_counter()
        db = _synthesise(directory / f"tree-{size}.sqlite", size)
        built = time.perf_counter() - started
        half, index = size // 2, size - size // 3
        with db.read() as tx:
            reader = StoreNodes(tx)
            root = merkle.root(SM3_TREE, reader, size)
            half_root = merkle.root(SM3_TREE, reader, half)
            leaf = reader.read_nodes([(0, index)])[0]
            inclusion = functools.partial(merkle.inclusion_proof, SM3_TREE, reader, index, size)
            consistency = functools.partial(merkle.consistency_proof, SM3_TREE, reader, half, size)
            path, cpath = inclusion(), consistency()
            make_incl = _median(inclusion, 200)
            make_cons = _median(consistency, 200)
        check_incl = _median(
            functools.partial(verify_inclusion, SM3_TREE, index, size, leaf, path, root), 200
        )
        check_cons = _median(
            functools.partial(verify_consistency, SM3_TREE, half, size, cpath, half_root, root),
            200,
        )
        line = (
            f"n={size:>10,}: inclusion {make_incl * 1e3:.3f} ms + verify "
            f"{check_incl * 1e3:.3f} ms; consistency {make_cons * 1e3:.3f} ms + verify "
            f"{check_cons * 1e3:.3f} ms"
        )
        if size <= naive_limit:
            naive = _median(functools.partial(_naive_root, db, size), 3 if size <= 10**6 else 1)
            if _naive_root(db, size) != root:
                raise SystemExit("naive root and stored-node root disagree")
            line += f"; naive root {naive * 1e3:,.1f} ms (ratio {naive / make_incl:,.0f}x)"
        print(line + f"  [tree built in {built:.0f} s]")
        db.close()
        for stale in directory.glob(f"tree-{size}.sqlite*"):
            stale.unlink()
    print()


def main(argv: list[str] | None = None) -> int:
    """Run the audit benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--ceiling", action="store_true", help="only the ceiling comparison")
    parser.add_argument("--rounds", type=int, default=3, help="ceiling rounds (default 3)")
    parser.add_argument(
        "--engine",
        choices=("sqlite", "postgresql", "both"),
        default="sqlite",
        help="the ceiling's store engine(s) (PostgreSQL: a durable throw-away server)",
    )
    parser.add_argument("--append-worker", nargs=3, metavar=("DB", "START", "COUNT"))
    args = parser.parse_args(argv)
    if args.append_worker:
        db_path, start, count = args.append_worker
        log = _open_log(Path(db_path))
        _append_batches(log, int(start), int(count))
        log.close()
        return 0
    print(f"tongban audit benchmark; {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="tongban-bench-audit-") as tmp:
        directory = Path(tmp)
        if args.ceiling:
            events = 4_000 if args.quick else 100_000
            bench_ceiling(directory, events, args.rounds, args.engine)
        elif args.quick:
            bench_ceiling(directory, 4_000, args.rounds)
            bench_appends(directory, 4_000)
            bench_proofs(directory, [1_000, 10_000], naive_limit=10_000)
        else:
            bench_ceiling(directory, 100_000, args.rounds)
            bench_appends(directory, 100_000)
            bench_proofs(directory, [10**4, 10**6, 10**7], naive_limit=10**7)
    return 0


if __name__ == "__main__":
    sys.exit(main())
