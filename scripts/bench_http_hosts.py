"""Credential verification over HTTP from one and from two API hosts on one PostgreSQL (#15).

One province split into hosts as an operator would (tests/e2e/test_writer_takeover.py):
``tongban serve`` (role ``all``) deploys and provisions it on an anvil and a
throw-away durable PostgreSQL server on 127.0.0.1 (``tests/helpers/postgres.py``,
``durable=True``) and is stopped; a client with the issuer and verifier roles is
created; then a ``tongban serve --role writer`` host and two ``--role api``
hosts (``--workers`` HTTP workers each, own data directories with the keys
copied in) run on the one database. After a pool of anchored credentials,
``POST /credentials/verify`` runs for ``--seconds`` against API host 1 alone
and against hosts 1 and 2 together (the same load generator split in two),
interleaved rounds. Printed: rates, p99, the API hosts' CPU per verification,
the writer's and the database server's. All on this one machine: the hosts
share its cores. This is a benchmark, not a test.

    .venv/bin/python scripts/bench_http_hosts.py [--rounds 3] [--seconds 10] [--workers 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.helpers

from bench_engines_service import server_cpu_s
from bench_http import TONGBAN, App, Load, Phase, _cpu_seconds, drive, fetch_anchored, issue_pool

from credentials.holder import Holder
from ledger.chain.node.processes import start_anvil
from tests.helpers.postgres import start_cluster
from tests.helpers.processes import Served, e2e_env, serve

CHAIN_ID = 31337


def main() -> int:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1, help="HTTP workers per API host")
    parser.add_argument("--concurrency", type=int, default=16, help="threads per load process")
    parser.add_argument("--pool", type=int, default=2000, help="credentials to verify")
    args = parser.parse_args()
    print(f"# bench_http_hosts: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    node = start_anvil(CHAIN_ID)
    cluster = start_cluster(durable=True)
    hosts: list[Served] = []
    tmp = Path(tempfile.mkdtemp(prefix="tongban-bench-hosts-"))
    runs: dict[str, list[tuple[float, float, float, float, float]]] = {"1 host": [], "2 hosts": []}
    try:
        database = cluster.url(cluster.create_database())
        shared = {
            "TONGBAN_CHAIN": node.url,
            "TONGBAN_CHAIN_ID": str(CHAIN_ID),
            "TONGBAN_DATABASE_URL": database,
            "TONGBAN_LOG_LEVEL": "WARNING",
            "TONGBAN_CLIENT_RATE": "1000000",
            "TONGBAN_CLIENT_BURST": "1000000",
            "TONGBAN_BATCH_MAX_WAIT_MS": "500",
        }
        first = serve(tmp / "first.log", "--data-dir", str(tmp / "first"), **shared)
        contracts = {n: c["address"] for n, c in first.description["contracts"].items()}
        first.stop()
        created = subprocess.run(
            [TONGBAN, "clients", "create", "--name", "load", "--org", "330000", "--role",
             "issuer", "--role", "verifier", "--data-dir", str(tmp / "first"), "--json"],
            capture_output=True, text=True, env=e2e_env(**shared), timeout=120, check=True,
        )  # fmt: skip
        token = str(json.loads(created.stdout)["token"])
        split = {
            **shared,
            "TONGBAN_REGISTRY": contracts["IssuerRegistry"],
            "TONGBAN_CREDENTIAL_ANCHOR": contracts["CredentialAnchor"],
            "TONGBAN_AUDIT_ANCHOR": contracts["AuditAnchor"],
            "TONGBAN_WORKERS": str(args.workers),
        }
        for name, role in (("writer", "writer"), ("api-1", "api"), ("api-2", "api")):
            shutil.copytree(tmp / "first" / "keys", tmp / name / "keys")
            data = str(tmp / name)
            hosts.append(serve(tmp / f"{name}.log", "--role", role, "--data-dir", data, **split))
        writer, api = hosts[0], hosts[1:]
        ports = [int(h.url.rsplit(":", 1)[1]) for h in api]
        holders = [Holder.generate() for _ in range(50)]
        credentials = fetch_anchored(
            ports[0], token, issue_pool(ports[0], token, holders, args.pool)
        )
        pool = [{"verifiableCredential": c} for c in credentials]
        bodies = pool * (1 + int(3000 * args.seconds) // len(pool))
        apps = [App(port, token, h.process.pid) for port, h in zip(ports, api, strict=True)]
        print(f"writer and API hosts {[h.url for h in api]}, {len(pool)} credentials")
        for number in range(args.rounds):
            order = ["1 host", "2 hosts"]
            for config in order if number % 2 == 0 else order[::-1]:
                used = apps[:1] if config == "1 host" else apps
                load = Load(2 // len(used), args.concurrency, args.seconds)
                before = server_cpu_s(cluster), _cpu_seconds(writer.process.pid)
                phases: list[Phase] = [Phase("", 0, 0, 0.0, [], 0)] * len(used)

                def run(i: int, app: App, load: Load = load, out: list[Phase] = phases) -> None:
                    out[i] = drive(f"host {i + 1}", app, "/credentials/verify", bodies[i::2], load)

                threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(used)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                items = sum(p.items for p in phases)
                rate = items / max(p.seconds for p in phases)
                p99 = max(p.percentile(0.99) for p in phases)
                api_ms = 1000 * sum(p.service_cpu for p in phases) / items
                writer_ms = 1000 * (_cpu_seconds(writer.process.pid) - before[1]) / items
                server_ms = 1000 * (server_cpu_s(cluster) - before[0]) / items
                runs[config].append((rate, p99, api_ms, writer_ms, server_ms))
                print(
                    f"round {number + 1}, {config}: {rate:,.0f}/s, p99 {p99:.0f} ms, CPU ms "
                    f"each: API hosts {api_ms:.2f}, writer {writer_ms:.2f}, "
                    f"database {server_ms:.2f}; errors {sum(p.errors for p in phases)}"
                )
    finally:
        for host in hosts:
            host.stop()
        cluster.stop()
        node.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    med = statistics.median
    print(f"\nload at the end {os.getloadavg()[0]:.2f}; medians of {args.rounds} rounds:\n")
    print(
        "| API hosts on one PostgreSQL | /s | p99 ms | CPU ms each: API hosts | writer | database |"
    )
    print("|---|---|---|---|---|---|")
    for config, values in runs.items():
        columns = [med(v[k] for v in values) for k in range(5)]
        print(
            f"| {config}, {args.workers} worker(s) each | {columns[0]:,.0f} | {columns[1]:.0f} | "
            + " | ".join(f"{c:.2f}" for c in columns[2:])
            + " |"
        )
    growth = med(b[0] / a[0] for a, b in zip(runs["1 host"], runs["2 hosts"], strict=True))
    print(f"2 hosts / 1 host, median of same-round ratios: {growth:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
