"""HTTP benchmark: a real ``tongban serve`` on loopback, driven by a separate load generator.

    .venv/bin/python scripts/bench_http.py [--seconds 10] [--concurrency 16] [--workers 2]
        [--rounds 3] [--phases credentials,presentations,batch-verify,issuance]

What runs: ``tongban serve`` (the supervisor/writer plus ``--workers`` uvicorn
worker processes) on an in-memory anvil with 1-second blocks, seeded with the
demo consortium; this script is the load generator, in its own processes
(``--load-processes``, each with ``--concurrency`` threads on keep-alive
connections). On a 2-core machine the generator competes with the service for
the same cores: the figures are a floor, not a ceiling.

Measured, each phase for ``--seconds``:

1. credential verification, ``POST /credentials/verify`` of a pool of anchored
   credentials; baseline: the same requests one at a time on one connection;
2. presentation verification, ``POST /presentations/verify`` of presentations
   disclosing 2 of 10 claims, each with its own challenge (fetched and signed
   before the timed phase); baseline: one at a time;
3. issuance in batches, ``POST /credentials/issue/batch`` of 1,000; baseline:
   ``POST /credentials/issue`` one credential per request.

4. batch verification, ``POST /credentials/verify/batch`` of 1,000 credentials
   (2 in flight), when the service has the route (a 404 is reported and skipped).

Ceilings (issue #14): a minimal app of the same stack
(``scripts/bench_ceiling_app.py``: FastAPI, uvicorn with httptools and uvloop,
``--workers`` processes, loopback) that only parses the body and runs the SM2
verifications of the same credentials (one) and presentations (two). Phases 1
and 2 run in interleaved rounds (ceiling, Tongban, ceiling, Tongban, ...) under
the same load generator; Tongban's throughput, p50/p99 and service CPU per
request are printed as ratios to the ceiling, per round and as the median.

Prints throughput, p50/p99 latency and the ratio to the baseline, and a
final JSON line with every figure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_ceiling_app import ceiling_summary, ceiling_table, start_ceiling  # noqa: E402

from credentials.holder import Holder  # noqa: E402
from credentials.verify.parse import parse_credential  # noqa: E402
from ledger.crypto import multikey  # noqa: E402
from ledger.crypto.sm2 import Sm2PublicKey  # noqa: E402
from tests.helpers.credentials import DEGREE_CLAIMS  # noqa: E402

PERSONAL = {"X-Purpose": "cross-province.enrolment", "X-Legal-Basis": "prc.pipl.art13"}
TONGBAN = str(Path(sys.executable).with_name("tongban"))


@dataclass
class Phase:
    """One measured phase."""

    name: str
    requests: int
    items: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    service_cpu: float = 0.0
    """CPU seconds the service's processes (supervisor, workers, chain node) used."""

    @property
    def cpu_ms_per_item(self) -> float:
        return 1000 * self.service_cpu / self.items if self.items else 0.0

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @classmethod
    def merged(cls, name: str, phases: Sequence[Phase]) -> Phase:
        """The rounds of one phase as one: summed counts, time and CPU, every latency."""
        return cls(
            name,
            sum(p.requests for p in phases),
            sum(p.items for p in phases),
            sum(p.seconds for p in phases),
            [value for p in phases for value in p.latencies_ms],
            sum(p.errors for p in phases),
            sum(p.service_cpu for p in phases),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "requests": self.requests,
            "items": self.items,
            "seconds": round(self.seconds, 3),
            "itemsPerSecond": round(self.rate, 1),
            "p50Ms": round(self.percentile(0.50), 2),
            "p99Ms": round(self.percentile(0.99), 2),
            "errors": self.errors,
            "serviceCpuMsPerItem": round(self.cpu_ms_per_item, 3),
        }


def _cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root``'s descendants (the service's processes)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    total, frontier = 0.0, [root]
    while frontier:
        pid = frontier.pop()
        total += times.get(pid, 0.0)
        frontier += [child for child, parent in parents.items() if parent == pid]
    return total


class Connection:
    """One keep-alive connection to the API."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        try:
            self._connection.request(method, path, body=data, headers=sent)
            response = self._connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self._connection.close()
            self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return 0, None
        return response.status, json.loads(raw) if raw else None


# -- the service ---------------------------------------------------------------------------


def start_service(data_dir: Path, workers: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
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


def tokens_of(description: dict[str, Any]) -> dict[str, str]:
    path = description["demoTokens"]["330000"]
    tokens: dict[str, str] = json.loads(Path(path).read_text("utf-8"))
    return tokens


def issue_pool(port: int, token: str, holders: Sequence[Holder], count: int) -> list[str]:
    """Issue ``count`` credentials (batches of 1,000); returns their digests."""
    connection = Connection(port, token)
    digests: list[str] = []
    while len(digests) < count:
        size = min(1000, count - len(digests))
        requests = [
            {
                "template": "degree-certificate",
                "holder": holders[(len(digests) + i) % len(holders)].did,
                "claims": DEGREE_CLAIMS,
            }
            for i in range(size)
        ]
        status, body = connection.call(
            "POST", "/credentials/issue/batch", {"requests": requests}, PERSONAL
        )
        if status != 201:
            raise SystemExit(f"batch issue failed: {status} {body}")
        digests += [r["digest"] for r in body["results"]]
    return digests


def fetch_anchored(port: int, token: str, digests: Sequence[str]) -> list[dict[str, Any]]:
    """Wait until every credential is anchored; returns them with their anchor proofs."""
    connection = Connection(port, token)
    deadline = time.monotonic() + 120
    for digest in (digests[0], digests[-1]):
        while True:
            status, body = connection.call("GET", f"/credentials/{digest}/anchoring")
            if status == 200 and body["state"] == "anchored":
                break
            if time.monotonic() > deadline:
                raise SystemExit("credentials were not anchored within 120 s")
            time.sleep(0.2)
    credentials = []
    for digest in digests:
        status, body = connection.call("GET", f"/credentials/{digest}", None, PERSONAL)
        if status != 200:
            raise SystemExit(f"reading a credential failed: {status}")
        credentials.append(body["credential"])
    return credentials


# -- load ----------------------------------------------------------------------------------


def _load_worker(
    port: int,
    token: str,
    path: str,
    bodies: list[Any],
    threads: int,
    seconds: float,
    start_at: float,
    item_key: str | None,
    queue: Any,
) -> None:
    """One load-generator process: ``threads`` connections posting ``bodies`` in turn."""
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"requests": 0, "items": 0, "errors": 0}
    finished = [start_at]
    cursor = iter(range(len(bodies)))

    def run() -> None:
        connection = Connection(port, token)
        local: list[float] = []
        requests = items = errors = 0
        while time.perf_counter() < start_at:
            time.sleep(0.001)
        stop_at = start_at + seconds
        while time.perf_counter() < stop_at:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            body = bodies[index]
            began = time.perf_counter()
            status, answer = connection.call("POST", path, body, PERSONAL)
            local.append((time.perf_counter() - began) * 1000)
            requests += 1
            if status in (200, 201):
                done = answer[item_key] if item_key else [answer]
                items += len(done)
                errors += sum(1 for r in done if r.get("verdict") not in (None, "VALID"))
            else:
                errors += 1
        with lock:
            latencies.extend(local)
            finished.append(time.perf_counter())
            counts["requests"] += requests
            counts["items"] += items
            counts["errors"] += errors

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    queue.put((counts, latencies, max(finished)))


@dataclass(frozen=True)
class App:
    """An app under load: its port, the token sent, its root process (whose CPU is counted)."""

    port: int
    token: str
    service: int


@dataclass(frozen=True)
class Load:
    """The load generator: processes x threads (one connection each), for ``seconds``."""

    processes: int
    threads: int
    seconds: float


def drive(
    name: str, app: App, path: str, bodies: list[Any], load: Load, item_key: str | None = None
) -> Phase:
    """Post ``bodies`` (each at most once) to ``app`` under ``load``."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start_at = time.perf_counter() + 0.5
    shares = [bodies[i :: load.processes] for i in range(load.processes)]
    fixed = (app.port, app.token, path)
    workers = [
        context.Process(
            target=_load_worker,
            args=(*fixed, share, load.threads, load.seconds, start_at, item_key, queue),
        )
        for share in shares
    ]
    for worker in workers:
        worker.start()
    while time.perf_counter() < start_at:
        time.sleep(0.001)
    cpu_before = _cpu_seconds(app.service)
    results = [queue.get() for _ in workers]
    cpu_used = _cpu_seconds(app.service) - cpu_before
    for worker in workers:
        worker.join()
    counts = {k: sum(r[0][k] for r in results) for k in ("requests", "items", "errors")}
    latencies = [value for r in results for value in r[1]]
    # Until the last answer (perf_counter is one clock for every process here): a
    # request still in flight at the end counts, and so does the time it took.
    seconds = max(r[2] for r in results) - start_at
    return Phase(
        name, counts["requests"], counts["items"], seconds, latencies, counts["errors"], cpu_used
    )


def presentations(
    port: int,
    token: str,
    credentials: Sequence[dict[str, Any]],
    holders: dict[str, Holder],
    count: int,
) -> list[dict[str, Any]]:
    """``count`` presentations of 2 claims, each answering its own fresh challenge."""

    def make(indices: range) -> list[dict[str, Any]]:
        connection = Connection(port, token)
        made = []
        for i in indices:
            status, challenge = connection.call("POST", "/challenges", {})
            if status != 201:
                raise SystemExit(f"challenge failed: {status}")
            credential = credentials[i % len(credentials)]
            holder = holders[credential["credentialSubject"]["id"]]
            presentation = holder.present(
                [(credential, ["degreeLevel", "awardingInstitution"])],
                challenge=challenge["challenge"],
                domain=challenge["domain"],
            )
            made.append({"verifiablePresentation": presentation})
        return made

    # Four connections: preparation is not measured, only waited for.
    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(make, [range(k, count, 4) for k in range(4)]))
    return [body for part in parts for body in part]


# -- the ceiling -----------------------------------------------------------------------------


def issuer_keys(
    port: int, token: str, credentials: Sequence[dict[str, Any]]
) -> dict[str, Sm2PublicKey]:
    """Every verification method of the credentials' issuers (``GET /dids/{did}``), by id."""
    connection = Connection(port, token)
    keys: dict[str, Sm2PublicKey] = {}
    for did in {parse_credential(c).issuer for c in credentials}:
        status, document = connection.call("GET", f"/dids/{did}")
        if status != 200:
            raise SystemExit(f"resolving {did} failed: {status}")
        for method in document["verificationMethod"]:
            keys[method["id"]] = multikey.decode(method["publicKeyMultibase"])
    return keys


def batch_verification(app: App, credentials: list[dict[str, Any]], seconds: float) -> Phase | None:
    """``POST /credentials/verify/batch`` of 1,000, 2 in flight; None if the route is absent."""
    path = "/credentials/verify/batch"
    probe = {"verifiableCredentials": credentials[:2], "options": {}}
    status, answer = Connection(app.port, app.token).call("POST", path, probe, PERSONAL)
    if status == 404:
        return None
    if status != 200 or len(answer.get("results", [])) != 2:
        raise SystemExit(f"batch verification failed: {status} {answer}")
    pool = credentials * (1 + int(3000 * seconds) // len(credentials))
    batches = [
        {"verifiableCredentials": pool[i : i + 1000], "options": {}}
        for i in range(0, len(pool) - 999, 1000)
    ]
    name = "credential verify, batches of 1,000"
    return drive(name, app, path, batches, Load(1, 2, seconds), "results")


def report(phase: Phase, baseline: Phase, unit: str) -> None:
    ratio = phase.rate / baseline.rate if baseline.rate else float("inf")
    print(
        f"{phase.name:<34} {phase.rate:>9,.0f} {unit}/s  p50 {phase.percentile(0.5):6.1f} ms  "
        f"p99 {phase.percentile(0.99):6.1f} ms  service CPU {phase.cpu_ms_per_item:.2f} ms each  "
        f"errors {phase.errors}   "
        f"({ratio:.1f}x the baseline: {baseline.rate:,.0f} {unit}/s one at a time, "
        f"p50 {baseline.percentile(0.5):.1f} ms)"
    )


def main() -> None:
    """Run the phases and print the figures, the ratios and a final JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16, help="threads per load process")
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="HTTP worker processes")
    parser.add_argument("--pool", type=int, default=2000, help="credentials to verify")
    parser.add_argument("--rounds", type=int, default=3, help="ceiling/Tongban round pairs")
    parser.add_argument(
        "--phases",
        default="credentials,presentations,batch-verify,issuance",
        help="comma-separated subset of credentials,presentations,batch-verify,issuance",
    )
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    load = Load(args.load_processes, args.concurrency, args.seconds)
    one = Load(1, 1, args.baseline_seconds)
    in_flight = args.load_processes * args.concurrency

    holders = [Holder.generate() for _ in range(50)]
    by_did = {h.did: h for h in holders}
    results: list[tuple[Phase, Phase, str]] = []
    rounds: dict[str, list[tuple[Phase, Phase]]] = {}
    batch: Phase | None = None
    with tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp:
        process, description = start_service(Path(tmp) / "data", args.workers)
        ceiling: subprocess.Popen[bytes] | None = None
        try:
            port = int(description["apiUrl"].rsplit(":", 1)[1])
            tokens = tokens_of(description)
            issuer, verifier = tokens["issuer"], tokens["verifier"]
            print(
                f"service: {description['apiUrl']}, {description['workers']} workers, chain "
                f"{description['chain']} (1 s blocks); load: {args.load_processes} processes "
                f"x {args.concurrency} threads; {os.cpu_count()} cores shared"
            )
            began = time.perf_counter()
            digests = issue_pool(port, issuer, holders, args.pool)
            credentials = fetch_anchored(port, issuer, digests)
            elapsed = time.perf_counter() - began
            print(f"prepared {len(credentials)} anchored credentials in {elapsed:.1f} s")
            split = int(400 * args.baseline_seconds)
            wanted = split if "presentations" in phases else 0
            sample = presentations(port, verifier, credentials, by_did, wanted)
            table = Path(tmp) / "ceiling.json"
            keys = issuer_keys(port, verifier, credentials)
            table.write_text(json.dumps(ceiling_table(credentials, sample, keys)), "utf-8")
            ceiling, ceiling_port = start_ceiling(table, args.workers)
            print(f"ceiling app: http://127.0.0.1:{ceiling_port}, {args.workers} workers")
            tongban = App(port, verifier, process.pid)
            minimal = App(ceiling_port, verifier, ceiling.pid)

            if "credentials" in phases:
                bodies = [{"verifiableCredential": c} for c in credentials]
                bodies *= 1 + int(3000 * args.seconds) // len(bodies)
                path, name = "/credentials/verify", "credential verify"
                base = drive(f"{name}, one at a time", tongban, path, bodies, one)
                pairs = rounds.setdefault("credentials", [])
                for n in range(1, args.rounds + 1):
                    ceiling_phase = drive(f"{name}, ceiling {n}", minimal, path, bodies, load)
                    phase = drive(f"{name}, round {n}", tongban, path, bodies, load)
                    pairs.append((ceiling_phase, phase))
                phase = Phase.merged(f"{name}, concurrent", [t for _, t in pairs])
                results.append((phase, base, "credentials"))

            if "presentations" in phases:
                path, name = "/presentations/verify", "presentation verify"
                base = drive(f"{name}, one at a time", tongban, path, sample, one)
                # The ceiling uses up no challenge: the baseline's presentations, again.
                again = sample * (1 + int(3000 * args.seconds) // len(sample))
                pairs = rounds.setdefault("presentations", [])
                for n in range(1, args.rounds + 1):
                    began = time.perf_counter()
                    count = int(700 * args.seconds)
                    fresh = presentations(port, verifier, credentials, by_did, count)
                    elapsed = time.perf_counter() - began
                    print(f"round {n}: prepared {count} fresh presentations in {elapsed:.1f} s")
                    ceiling_phase = drive(f"{name}, ceiling {n}", minimal, path, again, load)
                    phase = drive(f"{name}, round {n}", tongban, path, fresh, load)
                    pairs.append((ceiling_phase, phase))
                phase = Phase.merged(f"{name}, concurrent", [t for _, t in pairs])
                results.append((phase, base, "presentations"))

            if "batch-verify" in phases:
                batch = batch_verification(tongban, credentials, args.seconds)
                if batch is None:
                    print("batch verification: route not available")

            if "issuance" in phases:
                degree = {"template": "degree-certificate", "claims": DEGREE_CLAIMS}
                singles = [{**degree, "holder": holders[i % 50].did} for i in range(20_000)]
                batches = [{"requests": singles[i : i + 1000]} for i in range(0, 20_000, 1000)]
                issuing = App(port, issuer, process.pid)
                base = drive("issue, one per request", issuing, "/credentials/issue", singles, one)
                phase = drive(
                    "issue, batches of 1,000",
                    issuing,
                    "/credentials/issue/batch",
                    batches * 3,
                    Load(1, 2, args.seconds),
                    "results",
                )
                results.append((phase, base, "credentials"))
        finally:
            if ceiling is not None:
                ceiling.send_signal(signal.SIGTERM)
                ceiling.wait(timeout=60)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)

    print()
    for phase, base, unit in results:
        report(phase, base, unit)
    if batch is not None:
        verdict = "met" if batch.rate >= 2000 else "MISSED"
        print(
            f"{batch.name:<34} {batch.rate:>9,.0f} credentials/s  p50 {batch.percentile(0.5):.0f} "
            f"ms per batch  p99 {batch.percentile(0.99):.0f} ms  service CPU "
            f"{batch.cpu_ms_per_item:.2f} ms each  errors {batch.errors}   "
            f"(target >= 2,000/s: {verdict})"
        )
    elif "batch-verify" in phases:
        print("batch verification: route not available")
    kinds = {"credentials": "credential verify", "presentations": "presentation verify"}
    ceilings = {
        kind: ceiling_summary(
            kinds[kind], [(c.to_json(), t.to_json()) for c, t in pairs], in_flight
        )
        for kind, pairs in rounds.items()
    }
    print(
        json.dumps(
            {
                "phases": [p.to_json() for pair in results for p in pair[:2]],
                "ceilings": ceilings,
                "batchVerification": None if batch is None else batch.to_json(),
                "targets": {
                    "credentialsPerSecond": 1000,
                    "presentationsPerSecond": 500,
                    "p99Ms": 50,
                    "batchVerificationCredentialsPerSecond": 2000,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
