"""Whether ``POST /zhengzhao/lookup`` times unknown and not-visible identifiers alike.

    .venv/bin/python scripts/bench_zhengzhao_lookup.py [--certificates 20] [--requests 400]

One ``tongban serve`` (demo province, anvil with 1 s blocks, one HTTP worker, the
lookup rate limit lifted) on loopback. It issues ``--certificates`` degree
certificates, waits until they are anchored, and registers an issuer client that
may issue for another demo agency only (so it may not see them). That client then
sends, one request at a time on one keep-alive connection, in a random interleaved
order (so drift of the shared machine falls on both alike):

- *not visible*: the real identifiers, of an agency it may not see (404);
- *unknown*: well-formed identifiers of the same type and agency whose serials were
  never issued (404).

A verifier client's lookups of the real identifiers (*found*, 200) are measured in
the same run as the reference. Printed: p50/p90/p99 of each distribution, the ratio
of the not-visible and unknown medians, and the two-sample Kolmogorov-Smirnov
statistic D between them with its 5% critical value for these sample sizes (D
below it: the test cannot tell the two distributions apart). A benchmark: it
asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_http import PERSONAL, Connection, fetch_anchored, tokens_of  # noqa: E402

from credentials.holder import Holder  # noqa: E402
from credentials.zhengzhao.check_characters import ALPHANUMERIC  # noqa: E402
from credentials.zhengzhao.identifier import parse_zhengzhao_id  # noqa: E402
from tests.helpers.credentials import DEGREE_CLAIMS  # noqa: E402

TONGBAN = str(ROOT / ".venv" / "bin" / "tongban")
LOOKUP = "/zhengzhao/lookup"


def start_service(data_dir: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """``tongban serve`` of the demo province, one worker, rate limits lifted."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    env.update(
        TONGBAN_DEMO="1",
        TONGBAN_CHAIN="anvil",
        TONGBAN_BLOCK_TIME="1",
        TONGBAN_HTTP_PORT="0",
        TONGBAN_WORKERS="1",
        TONGBAN_CLIENT_RATE="1000000",
        TONGBAN_CLIENT_BURST="1000000",
        TONGBAN_ZHENGZHAO_LOOKUP_RATE="1000000",
        TONGBAN_ZHENGZHAO_LOOKUP_BURST="1000000",
        TONGBAN_BATCH_MAX_WAIT_MS="500",
        TONGBAN_LOG_LEVEL="WARNING",
    )
    process = subprocess.Popen(
        [TONGBAN, "serve", "--json", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if process.stdout is None:
        raise SystemExit("no pipe to tongban serve")
    line = process.stdout.readline()
    if not line:
        raise SystemExit("tongban serve did not start")
    return process, json.loads(line)


def _issue(connection: Connection, count: int) -> list[str]:
    requests = [
        {"template": "degree-certificate", "holder": Holder.generate().did, "claims": DEGREE_CLAIMS}
        for _ in range(count)
    ]
    status, body = connection.call(
        "POST", "/credentials/issue/batch", {"requests": requests}, PERSONAL
    )
    if status != 201:
        raise SystemExit(f"batch issue failed: {status} {body}")
    return [r["digest"] for r in body["results"]]


def _blind_client(operator: Connection, degree_agency: str) -> str:
    """An issuer client of another demo agency: it may not see degree certificates."""
    status, agencies = operator.call("GET", "/agencies")
    if status != 200:
        raise SystemExit(f"GET /agencies answered {status}")
    others = [a["code"] for a in agencies["agencies"] if a["code"] != degree_agency]
    body = {
        "name": "bench blind issuer",
        "organisation": "330000",
        "roles": ["issuer"],
        "agencies": others[:1],
    }
    status, created = operator.call("POST", "/clients", body)
    if status != 201:
        raise SystemExit(f"POST /clients answered {status} {created}")
    return str(created["token"])


def _unknown(identifier: str) -> str:
    serial = "".join(secrets.choice(ALPHANUMERIC) for _ in range(20))
    return str(dataclasses.replace(parse_zhengzhao_id(identifier), serial_number=serial))


def _timed(connection: Connection, identifier: str, expected: int) -> float:
    started = time.perf_counter()
    status, body = connection.call("POST", LOOKUP, {"identifier": identifier}, PERSONAL)
    elapsed = (time.perf_counter() - started) * 1000
    if status != expected:
        raise SystemExit(f"lookup answered {status}, expected {expected}: {body}")
    return elapsed


def ks_statistic(a: Sequence[float], b: Sequence[float]) -> float:
    """The two-sample Kolmogorov-Smirnov statistic D (largest gap of the two ECDFs)."""
    xs, ys = sorted(a), sorted(b)
    i = j = 0
    gap = 0.0
    while i < len(xs) and j < len(ys):
        value = min(xs[i], ys[j])
        while i < len(xs) and xs[i] <= value:
            i += 1
        while j < len(ys) and ys[j] <= value:
            j += 1
        gap = max(gap, abs(i / len(xs) - j / len(ys)))
    return gap


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--certificates", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="per kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        process, description = start_service(Path(scratch) / "data")
        try:
            port = int(str(description["apiUrl"]).rstrip("/").rsplit(":", 1)[1])
            tokens = tokens_of(description)
            issuer = Connection(port, tokens["issuer"])
            digests = _issue(issuer, args.certificates)
            credentials = fetch_anchored(port, tokens["issuer"], digests)
            identifiers = [c["zhengzhao"]["identifier"] for c in credentials]
            agency = credentials[0]["zhengzhao"]["issuingAgency"]["code"]
            blind = Connection(port, _blind_client(Connection(port, tokens["operator"]), agency))
            verifier = Connection(port, tokens["verifier"])
            plan = [("not visible", blind, 404), ("unknown", blind, 404), ("found", verifier, 200)]
            kinds = [kind for kind in plan for _ in range(args.requests)]
            for kind in plan:  # warm-up, and a check of each answer's status
                for identifier in identifiers[:5]:
                    target = identifier if kind[0] != "unknown" else _unknown(identifier)
                    _timed(kind[1], target, kind[2])
            random.shuffle(kinds)
            latencies: dict[str, list[float]] = {name: [] for name, _, _ in plan}
            for number, (name, connection, expected) in enumerate(kinds):
                identifier = identifiers[number % len(identifiers)]
                target = _unknown(identifier) if name == "unknown" else identifier
                latencies[name].append(_timed(connection, target, expected))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    print(
        f"\n{args.requests} lookups per kind, interleaved at random, one at a time, "
        f"1 HTTP worker, same run ({args.certificates} anchored certificates)"
    )
    for name, values in latencies.items():
        print(
            f"{name:<12} p50 {statistics.median(values):7.3f} ms  "
            f"p90 {_percentile(values, 0.90):7.3f} ms  p99 {_percentile(values, 0.99):7.3f} ms"
        )
    hidden, unknown = latencies["not visible"], latencies["unknown"]
    ratio = statistics.median(hidden) / statistics.median(unknown)
    d = ks_statistic(hidden, unknown)
    n, m = len(hidden), len(unknown)
    critical = 1.358 * math.sqrt((n + m) / (n * m))
    print(f"median not visible / median unknown: {ratio:.3f}")
    print(f"Kolmogorov-Smirnov D = {d:.3f} (5% critical value {critical:.3f})")
    found = statistics.median(latencies["found"]) / statistics.median(unknown)
    print(f"median found (reference: 200 with the answer) / median unknown: {found:.3f}")


if __name__ == "__main__":
    main()
