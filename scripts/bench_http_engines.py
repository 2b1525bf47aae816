"""Credential verification over HTTP on PostgreSQL beside SQLite, same run (#15).

``tongban serve`` services on loopback, each the demo province with its own
anvil (1 s blocks) as scripts/bench_http.py starts them, one per engine and
HTTP worker count in ``--workers`` (``1,2``: one and two API processes on the
same store): on its SQLite file, or with ``TONGBAN_DATABASE_URL`` on a
throw-away PostgreSQL server on 127.0.0.1 with PostgreSQL's durable defaults
(``tests/helpers/postgres.py``, ``durable=True``). Each issues and anchors its
own pool of credentials; then ``POST /credentials/verify`` runs for ``--seconds``
against each in turn, the order reversed every other round, under the same load
generator (scripts/bench_http.py's). Printed per round and as medians: rate, p50,
p99, the service's CPU per verification and, on PostgreSQL, the database
server's CPU per verification. This is a benchmark, not a test.

    .venv/bin/python scripts/bench_http_engines.py [--rounds 3] [--seconds 10] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.helpers

from bench_engines_service import server_cpu_s
from bench_http import (
    ROOT,
    TONGBAN,
    App,
    Load,
    Phase,
    drive,
    fetch_anchored,
    issue_pool,
    tokens_of,
)

from credentials.holder import Holder
from tests.helpers.postgres import start_cluster


def start_service(
    data_dir: Path, workers: int, database_url: str | None
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """``tongban serve`` as scripts/bench_http.py starts it, on ``database_url`` if given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    env.update(
        TONGBAN_DEMO="1",
        TONGBAN_CHAIN="anvil",
        TONGBAN_BLOCK_TIME="1",
        TONGBAN_HTTP_PORT="0",
        TONGBAN_WORKERS=str(workers),
        TONGBAN_CLIENT_RATE="1000000",
        TONGBAN_CLIENT_BURST="1000000",
        TONGBAN_BATCH_MAX_WAIT_MS="500",
        TONGBAN_LOG_LEVEL="WARNING",
    )
    if database_url is not None:
        env["TONGBAN_DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [TONGBAN, "serve", "--json", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    line = process.stdout.readline() if process.stdout is not None else ""
    if not line:
        raise SystemExit("tongban serve did not start")
    return process, json.loads(line)


def main() -> int:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--workers", default="2", help="HTTP worker counts to compare, e.g. 1,2 (one service each)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="threads per load process")
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--pool", type=int, default=2000, help="credentials per service")
    args = parser.parse_args()
    print(f"# bench_http_engines: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    load = Load(args.load_processes, args.concurrency, args.seconds)
    holders = [Holder.generate() for _ in range(50)]
    counts = [int(w) for w in args.workers.split(",")]
    configs = [(engine, w) for engine in ("sqlite", "postgresql") for w in counts]
    cluster = start_cluster(durable=True)
    services: list[subprocess.Popen[str]] = []
    phases: dict[tuple[str, int], list[Phase]] = {c: [] for c in configs}
    server_ms: dict[tuple[str, int], list[float]] = {c: [] for c in configs}
    try:
        with tempfile.TemporaryDirectory(prefix="tongban-bench-engines-") as tmp:
            apps: dict[tuple[str, int], App] = {}
            bodies: dict[tuple[str, int], list[Any]] = {}
            for engine, workers in configs:
                url = cluster.url(cluster.create_database()) if engine == "postgresql" else None
                data = Path(tmp) / f"{engine}-{workers}"
                process, description = start_service(data, workers, url)
                services.append(process)
                port = int(description["apiUrl"].rsplit(":", 1)[1])
                tokens = tokens_of(description)
                digests = issue_pool(port, tokens["issuer"], holders, args.pool)
                credentials = fetch_anchored(port, tokens["issuer"], digests)
                apps[(engine, workers)] = App(port, tokens["verifier"], process.pid)
                pool = [{"verifiableCredential": c} for c in credentials]
                bodies[(engine, workers)] = pool * (1 + int(3000 * args.seconds) // len(pool))
                print(
                    f"{engine}, {workers} workers: {description['apiUrl']}, {len(pool)} credentials"
                )
            for number in range(args.rounds):
                for config in configs if number % 2 == 0 else configs[::-1]:
                    before = server_cpu_s(cluster)
                    name = f"{config[0]}, {config[1]} workers, round {number + 1}"
                    phase = drive(name, apps[config], "/credentials/verify", bodies[config], load)
                    server_ms[config].append(1000 * (server_cpu_s(cluster) - before) / phase.items)
                    phases[config].append(phase)
                    print(
                        f"{name}: {phase.rate:,.0f}/s, p50 {phase.percentile(0.5):.1f} ms, "
                        f"p99 {phase.percentile(0.99):.1f} ms, service CPU "
                        f"{phase.cpu_ms_per_item:.2f} ms each, errors {phase.errors}"
                    )
    finally:
        for process in services:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        cluster.stop()
    med = statistics.median

    def ratio(top: tuple[str, int], bottom: tuple[str, int]) -> float:
        """Median over the rounds of a same-round rate ratio."""
        pairs = zip(phases[top], phases[bottom], strict=True)
        return med(a.rate / b.rate for a, b in pairs)

    in_flight = args.load_processes * args.concurrency
    print(f"\nload at the end {os.getloadavg()[0]:.2f}; medians of {args.rounds} rounds, ")
    print(f"{in_flight} in flight:\n")
    print(
        "| credential verify over HTTP | /s | p50 ms | p99 ms | service CPU ms each "
        "| database server CPU ms each |"
    )
    print("|---|---|---|---|---|---|")
    for (engine, workers), runs in phases.items():
        server = (
            f"{med(server_ms[(engine, workers)]):.2f}" if engine == "postgresql" else "(in service)"
        )
        print(
            f"| {engine}, {workers} workers | {med(p.rate for p in runs):,.0f} "
            f"| {med(p.percentile(0.5) for p in runs):.1f} "
            f"| {med(p.percentile(0.99) for p in runs):.1f} "
            f"| {med(p.cpu_ms_per_item for p in runs):.2f} | {server} |"
        )
    for workers in counts:
        pg_lite = ratio(("postgresql", workers), ("sqlite", workers))
        print(f"PostgreSQL / SQLite, {workers} workers, same-round ratios: {pg_lite:.2f}")
    if len(counts) == 2:
        for engine in ("sqlite", "postgresql"):
            growth = ratio((engine, counts[1]), (engine, counts[0]))
            print(f"{engine}: {counts[1]} workers / {counts[0]}, same-round ratios: {growth:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
