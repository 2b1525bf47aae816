"""Issuance and verification on PostgreSQL beside SQLite, in process, same run (#15).

Starts its own anvil (one block per transaction) and a throw-away PostgreSQL
server on 127.0.0.1 with PostgreSQL's durable defaults (``fsync`` and
``synchronous_commit`` on; ``tests/helpers/postgres.py``, ``durable=True``),
deploys the consortium (scripts/bench_issuance.py) and measures, every round
running the engines in alternating order on the same N:

1. **Issuance end to end** (build, sign in a ``SigningPool``, store sealed,
   batch of ``--batch``, anchor through the outbox, wait for finality, anchor
   proofs available), each round into a fresh store: a SQLite file
   (``synchronous=FULL``) or a fresh PostgreSQL database on the one server.
2. **Verification of credentials with durable access events** (Guangdong's
   verifier: chain state from its synced ``ChainIndex`` in the store, one access
   event per verification into the ``AuditLog`` there) from **one** spawned
   process and from **two** spawned processes sharing the store (the same SQLite
   file, the same PostgreSQL database), each with ``--threads`` threads, over the
   same ``--verify`` credentials: the growth from one to two processes.

Also printed, per verification: the verifying processes' CPU time and, on
PostgreSQL, the server's CPU time (its backends, from /proc) and the
transactions committed (``pg_stat_database``): the database's share of a
verification. This is a benchmark, not a test.

    .venv/bin/python scripts/bench_engines_service.py [--rounds 3] [--credentials 5000]
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.helpers

from bench_issuance import (
    CHAIN_ID,
    GD,
    ZJ,
    check_valid,
    issue_end_to_end,
    issuing_province,
    make_verifier,
    requests,
    setup_chain,
    threaded,
)

from credentials.did import issuer_did
from credentials.holder import Holder
from credentials.signing import SigningPool
from credentials.verify import VerifierConfig
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.chain.index import ChainIndex
from ledger.chain.node.client import ChainClient
from ledger.chain.node.processes import start_anvil
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.open import open_database
from tests.helpers.postgres import PostgresCluster, start_cluster

ENGINES = ("sqlite", "postgresql")
START_DELAY_S = 6.0  # time for the spawned processes to import and open the store


def server_cpu_s(cluster: PostgresCluster) -> float:
    """CPU seconds of the PostgreSQL server so far: the postmaster, its live and ended children."""
    tick = os.sysconf("SC_CLK_TCK")
    root = cluster.process.pid
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == root:  # utime, stime, and cutime, cstime: its ended children
            total += sum(int(f) for f in fields[11:15]) / tick
        elif ppid == root:
            total += sum(int(f) for f in fields[11:13]) / tick
    return total


def server_transactions(cluster: PostgresCluster) -> int:
    """Transactions committed on the server so far (``pg_stat_database``, every database).

    Read after the benchmark's processes closed their connections: a backend
    flushes its counts when it exits.
    """
    time.sleep(0.5)
    with cluster.admin() as connection:
        row = connection.execute("SELECT sum(xact_commit)::bigint FROM pg_stat_database").fetchone()
    return int(str(row[0])) if row else 0


def _verify_worker(
    where: str,
    config: VerifierConfig,
    audit_key: bytes,
    keys: tuple[dict[int, bytes], int],
    documents: list[bytes],
    threads: int,
    start_at: float,
) -> tuple[float, float, float]:
    """In a spawned process: verify ``documents``; (start, end, CPU seconds)."""
    db = open_database(where)
    pseudonyms = PseudonymKeys(*keys)
    verifier = make_verifier(db, config, Sm2PrivateKey.from_bytes(audit_key), pseudonyms)
    check_valid(verifier, documents[0])  # warm: connections, caches
    time.sleep(max(0.0, start_at - time.time()))  # every process starts together
    start, cpu = time.time(), time.process_time()
    threaded(documents, threads, functools.partial(check_valid, verifier))
    end, cpu = time.time(), time.process_time() - cpu
    verifier.access_log.close()  # type: ignore[attr-defined]
    db.close()
    return start, end, cpu


def verify_in_processes(
    where: str,
    config: VerifierConfig,
    audit_key: Sm2PrivateKey,
    keys: PseudonymKeys,
    documents: list[bytes],
    threads: int,
    processes: int,
) -> tuple[float, float]:
    """Verifications/s of ``processes`` spawned processes sharing ``documents``; CPU s each."""
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + START_DELAY_S
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        futures = [
            pool.submit(
                _verify_worker,
                where,
                config,
                audit_key.to_bytes(),
                (dict(keys.keys), keys.current),
                documents[i::processes],
                threads,
                start_at,
            )
            for i in range(processes)
        ]
        spans = [f.result(timeout=600) for f in futures]
    if max(s for s, _, _ in spans) > start_at + 0.5:
        raise RuntimeError("a verifying process started late; raise START_DELAY_S")
    seconds = max(e for _, e, _ in spans) - min(s for s, _, _ in spans)
    return len(documents) / seconds, sum(c for _, _, c in spans) / len(documents)


def main() -> int:
    """Run the rounds and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--credentials", type=int, default=5000, help="issued per round")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="SigningPool processes")
    parser.add_argument("--threads", type=int, default=4, help="verifying threads a process")
    parser.add_argument("--verify", type=int, default=4000, help="credentials verified a run")
    args = parser.parse_args()
    print(f"# bench_engines_service: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    node = start_anvil(CHAIN_ID)
    cluster = start_cluster(durable=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-engines-"))
    issued_rate: dict[str, list[float]] = {e: [] for e in ENGINES}
    verify_rate: dict[tuple[str, int], list[float]] = {}
    client_cpu: dict[tuple[str, int], list[float]] = {}
    server_cpu: dict[int, list[float]] = {1: [], 2: []}
    transactions: list[float] = []
    try:
        client = ChainClient(node.url, CHAIN_ID)
        chain = setup_chain(client)
        holders = [Holder.generate() for _ in range(200)]
        key_id = f"{issuer_did(CHAIN_ID, ZJ)}#key-1"
        counter = iter(range(10**6))

        def store(engine: str) -> str:
            if engine == "postgresql":
                return cluster.url(cluster.create_database())
            return str(workdir / f"store-{next(counter)}.sqlite")

        # -- 1. issuance end to end, engines interleaved -----------------------------
        documents: list[bytes] = []
        with SigningPool(key_id, chain.zj_key, workers=args.workers, chunk=100) as pool:
            warm = issuing_province(chain, workdir / "warm.sqlite", args.batch, pool)
            issue_end_to_end(warm, requests(holders, 400), 400)
            warm.db.close()
            for number in range(args.rounds):
                for engine in ENGINES if number % 2 == 0 else ENGINES[::-1]:
                    province = issuing_province(chain, store(engine), args.batch, pool)
                    work = requests(holders, args.credentials)
                    elapsed, issued, _ = issue_end_to_end(province, work, args.batch // 2)
                    issued_rate[engine].append(len(work) / elapsed)
                    print(f"round {number + 1} issuance {engine}: {len(work) / elapsed:,.0f}/s")
                    if not documents:
                        documents = [
                            json.dumps(province.issuer.credential(c.digest)).encode()
                            for c in issued[: args.verify]
                        ]
                    province.db.close()

        # -- 2. verification with access events, 1 and 2 processes -------------------
        consortium = chain.consortium
        vconfig = VerifierConfig(
            CHAIN_ID,
            consortium.registry.address,
            consortium.credential_anchor.address,
            issuer_did(CHAIN_ID, GD),
        )
        audit_key, pseudonyms = Sm2PrivateKey.generate(), PseudonymKeys.generate()
        verifier_store: dict[str, str] = {}
        for engine in ENGINES:
            verifier_store[engine] = where = store(engine)
            db = open_database(where)
            ChainIndex(
                db, CHAIN_ID, vconfig.registry, vconfig.credential_anchor, client=client
            ).sync()
            db.close()
        for number in range(args.rounds):
            order = [(e, p) for e in ENGINES for p in (1, 2)]
            for engine, processes in order if number % 2 == 0 else order[::-1]:
                before, committed = server_cpu_s(cluster), server_transactions(cluster)
                rate, cpu = verify_in_processes(
                    verifier_store[engine],
                    vconfig,
                    audit_key,
                    pseudonyms,
                    documents,
                    args.threads,
                    processes,
                )
                if engine == "postgresql":
                    server_cpu[processes].append((server_cpu_s(cluster) - before) / len(documents))
                    committed = server_transactions(cluster) - committed
                    transactions.append(committed / len(documents))
                verify_rate.setdefault((engine, processes), []).append(rate)
                client_cpu.setdefault((engine, processes), []).append(cpu)
                print(
                    f"round {number + 1} verify {engine}, {processes} process(es): "
                    f"{rate:,.0f}/s, {cpu * 1e3:.2f} ms CPU each in the verifier"
                )
    finally:
        cluster.stop()
        node.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    med = statistics.median
    print(f"\nload at the end {os.getloadavg()[0]:.2f}; medians of {args.rounds} rounds:\n")
    print(f"| issuance end to end, batch {args.batch:,}, {args.credentials:,} a round | /s |")
    print("|---|---|")
    for engine in ENGINES:
        print(f"| {engine} | {med(issued_rate[engine]):,.0f} |")
    pg_over = med(
        a / b for a, b in zip(issued_rate["postgresql"], issued_rate["sqlite"], strict=True)
    )
    print(f"| PostgreSQL / SQLite (median of same-round ratios) | {pg_over:.2f} |\n")

    def ratio(top: tuple[str, int], bottom: tuple[str, int]) -> float:
        """Median over the rounds of a same-round ratio (the two runs were adjacent)."""
        return med(a / b for a, b in zip(verify_rate[top], verify_rate[bottom], strict=True))

    print(
        f"| verification + access event, {args.threads} threads a process | 1 process /s "
        "| 2 processes /s | growth 2/1 (median of same-round ratios) "
        "| verifier CPU ms each (1 / 2) | server CPU ms each (1 / 2) |"
    )
    print("|---|---|---|---|---|---|")
    for engine in ENGINES:
        one, two = med(verify_rate[(engine, 1)]), med(verify_rate[(engine, 2)])
        cpus = (
            f"{med(client_cpu[(engine, 1)]) * 1e3:.2f} / {med(client_cpu[(engine, 2)]) * 1e3:.2f}"
        )
        server = (
            f"{med(server_cpu[1]) * 1e3:.2f} / {med(server_cpu[2]) * 1e3:.2f}"
            if engine == "postgresql"
            else "-"
        )
        growth = ratio((engine, 2), (engine, 1))
        print(f"| {engine} | {one:,.0f} | {two:,.0f} | {growth:.2f} | {cpus} | {server} |")
    print(f"PostgreSQL transactions per verification: {med(transactions):.2f}")
    for processes in (1, 2):
        pg_lite = ratio(("postgresql", processes), ("sqlite", processes))
        print(f"PostgreSQL / SQLite, {processes} process(es), same-round ratios: {pg_lite:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
