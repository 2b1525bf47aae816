"""Idle cost: the CPU a ``tongban serve`` uses when nothing happens.

    .venv/bin/python scripts/bench_idle.py [--seconds 60] [--chain embedded] [--workers 2]

Starts ``tongban serve`` with the demo consortium (``TONGBAN_DEMO=1``) in a
fresh data directory, waits until ``/readyz`` answers 200 and then
``--settle`` seconds more (start-up work: deployment, first checkpoints), and
reads the CPU time (user + system, all threads) of every process of its tree
from ``/proc`` before and after ``--seconds`` of idleness. Prints the
percentage of one core per process (supervisor, each API worker, the chain
node) and in total.

Then, so that a slower busy path would show, it measures the anchoring
latency: ``--anchorings`` credentials issued one at a time
(``POST /credentials/issue``), each timed until ``GET
/credentials/{digest}/anchoring`` says ``anchored`` (polled every 50 ms). The
first one comes right after the idle minute, the worst case for a service
that slows its polling down when idle. Ends with a JSON line of every figure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from credentials.holder import Holder  # noqa: E402
from tests.helpers.credentials import DEGREE_CLAIMS  # noqa: E402

PERSONAL = {"X-Purpose": "cross-province.enrolment", "X-Legal-Basis": "prc.pipl.art13"}
TONGBAN = str(Path(sys.executable).with_name("tongban"))


@dataclass(frozen=True)
class Sample:
    """One process's CPU seconds at one moment."""

    pid: int
    role: str
    cpu: float


def _stat(pid: int) -> tuple[int, float] | None:
    """``pid``'s parent and its user + system CPU seconds (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks


def _role(pid: int, root: int) -> str:
    """What process ``pid`` is, from its command line."""
    if pid == root:
        return "supervisor"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    line = b" ".join(argv).decode(errors="replace")
    if "ganache" in line:
        return "chain node (ganache)"
    if "anvil" in line:
        return "chain node (anvil)"
    if "python" in line or "tongban" in line:
        return "API worker"
    return Path(argv[0].decode(errors="replace")).name or "other"


def sample_tree(root: int) -> dict[int, Sample]:
    """CPU seconds of ``root`` and all its descendants, by pid."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                parents[int(entry)], cpu[int(entry)] = stat
    found: dict[int, Sample] = {}
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        if pid in cpu:
            found[pid] = Sample(pid, _role(pid, root), cpu[pid])
        frontier += [child for child, parent in parents.items() if parent == pid]
    return found


def start_service(data_dir: Path, chain: str, workers: int) -> tuple[subprocess.Popen[str], Any]:
    """``tongban serve --json`` with the demo consortium; its process and description."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    env.update(
        TONGBAN_DEMO="1",
        TONGBAN_CHAIN=chain,
        TONGBAN_HTTP_PORT="0",
        TONGBAN_WORKERS=str(workers),
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


def _address(url: str) -> tuple[str, int]:
    host, port = url.split("//", 1)[1].rstrip("/").rsplit(":", 1)
    return host, int(port)


def wait_ready(url: str, timeout: float = 180.0) -> None:
    """Poll ``/readyz`` until it answers 200."""
    host, port = _address(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(host, port, timeout=5)
        try:
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.5)
    raise SystemExit(f"/readyz did not answer 200 within {timeout:g} s")


def measure(root: int, seconds: float) -> dict[str, Any]:
    """CPU of ``root``'s tree over ``seconds``: percent of one core by process and in total."""
    before = sample_tree(root)
    started = time.monotonic()
    time.sleep(seconds)
    after = sample_tree(root)
    elapsed = time.monotonic() - started
    rows: list[dict[str, Any]] = []
    total = 0.0
    for pid, sample in sorted(after.items()):
        percent = 100 * (sample.cpu - (before[pid].cpu if pid in before else 0.0)) / elapsed
        total += percent
        rows.append({"pid": pid, "role": sample.role, "percentOfCore": percent})
    return {"seconds": round(elapsed, 2), "processes": rows, "totalPercentOfCore": total}


def _call(
    connection: http.client.HTTPConnection, token: str, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", **PERSONAL}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    return response.status, json.loads(raw) if raw else None


def anchoring_latencies(url: str, token: str, count: int) -> list[float]:
    """Seconds from ``POST /credentials/issue`` to ``anchored``, for ``count`` in a row."""
    host, port = _address(url)
    connection = http.client.HTTPConnection(host, port, timeout=60)
    holder = Holder.generate()
    latencies = []
    for _ in range(count):
        body = {"template": "degree-certificate", "holder": holder.did, "claims": DEGREE_CLAIMS}
        began = time.monotonic()
        status, answer = _call(connection, token, "POST", "/credentials/issue", body)
        if status != 201:
            raise SystemExit(f"issue failed: {status} {answer}")
        digest = answer["digest"]
        while True:
            status, state = _call(connection, token, "GET", f"/credentials/{digest}/anchoring")
            if status == 200 and state["state"] == "anchored":
                break
            if time.monotonic() - began > 120:
                raise SystemExit("a credential was not anchored within 120 s")
            time.sleep(0.05)
        latencies.append(time.monotonic() - began)
    return latencies


def main() -> None:
    """Start the service, let it settle, measure it idle, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=15.0)
    parser.add_argument("--chain", default="embedded", help="embedded (ganache) or anvil")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--anchorings", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tongban-idle-") as tmp:
        process, description = start_service(Path(tmp) / "data", args.chain, args.workers)
        try:
            wait_ready(str(description["apiUrl"]))
            time.sleep(args.settle)
            result = measure(process.pid, args.seconds)
            token = json.loads(Path(description["demoTokens"]["330000"]).read_text("utf-8"))
            latencies = anchoring_latencies(
                str(description["apiUrl"]), token["issuer"], args.anchorings
            )
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
    print(f"idle {args.chain}, {args.workers} workers, {result['seconds']} s:")
    for row in result["processes"]:
        print(f"  {row['role']:<24} pid {row['pid']:>7}  {row['percentOfCore']:6.2f} % of a core")
    print(f"  {'total':<36} {result['totalPercentOfCore']:6.2f} % of a core")
    if latencies:
        shown = ", ".join(f"{s:.2f}" for s in latencies)
        print(f"issue -> anchored, one at a time (s): {shown} (first: right after idling)")
    result["anchoringSeconds"] = [round(s, 3) for s in latencies]
    for row in result["processes"]:
        row["percentOfCore"] = round(row["percentOfCore"], 3)
    result["totalPercentOfCore"] = round(result["totalPercentOfCore"], 3)
    print(json.dumps({"chain": args.chain, "workers": args.workers, **result}))


if __name__ == "__main__":
    main()
