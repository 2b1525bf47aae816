"""Probe requests to ``POST /credentials/verify`` while a large batch verification runs.

Shared by the batch route's test (which asserts that the batch does not hold the
worker: many probes answered during it, none waiting a sizeable share of it) and by
``scripts/bench_verify_batch.py --probe`` (which prints the probe p99 against the
50 ms target of #14; a latency target is a benchmark's figure, not a test's bound).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from api.province.clients import Role
from tests.helpers.provinces import PERSONAL, ServedProvince
from tests.helpers.server import Reply

BATCH = "/credentials/verify/batch"
VERIFY = "/credentials/verify"


@dataclass(frozen=True)
class ProbeRun:
    """One batch with probes around it: the batch's answer and every probe's latency."""

    batch_seconds: float
    batch_reply: Reply
    before: list[float]
    """Probe latencies (s) just before the batch, on the same worker."""
    inside: list[float]
    """Latencies of the probes that started and ended while the batch ran."""
    replies: list[Reply]
    """Every probe answer sent while the batch ran."""


def p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _probe(province: ServedProvince, body: dict[str, Any]) -> tuple[float, float, Reply]:
    started = time.monotonic()
    reply = province.request("POST", VERIFY, Role.VERIFIER, json_body=body, headers=PERSONAL)
    return started, time.monotonic(), reply


def probe_during_batch(
    province: ServedProvince, credentials: list[dict[str, Any]], size: int = 1000
) -> ProbeRun:
    """Send a ``size``-credential batch and probe the single route until it answers."""
    items = [credentials[i % len(credentials)] for i in range(size)]
    probe = {"verifiableCredential": credentials[0]}
    before = [end - start for start, end, _ in (_probe(province, probe) for _ in range(50))]
    # Encoded first: in the tests the client shares the server's process (and its GIL).
    encoded = json.dumps({"verifiableCredentials": items}).encode()
    headers = PERSONAL | {"Content-Type": "application/json"}
    batch: list[tuple[float, float, Reply]] = []

    def send_batch() -> None:
        started = time.monotonic()
        reply = province.request("POST", BATCH, Role.VERIFIER, body=encoded, headers=headers)
        batch.append((started, time.monotonic(), reply))

    sender = threading.Thread(target=send_batch)
    sender.start()
    probes: list[tuple[float, float, Reply]] = []
    while sender.is_alive():
        probes.append(_probe(province, probe))
    sender.join()
    [(b_start, b_end, b_reply)] = batch
    inside = [end - start for start, end, _ in probes if b_start < start and end < b_end]
    return ProbeRun(b_end - b_start, b_reply, before, inside, [r for _, _, r in probes])


def describe(run: ProbeRun) -> str:
    """One line of figures for a report."""
    inside = sorted(run.inside)
    middle = inside[len(inside) // 2] * 1000 if inside else float("nan")
    worst = inside[-1] * 1000 if inside else float("nan")
    during = p99(inside) * 1000 if inside else float("nan")
    return (
        f"batch of {len(run.batch_reply.json().get('results', []))}: {run.batch_seconds:.2f} s; "
        f"probe p99 before {p99(run.before) * 1000:.1f} ms; {len(inside)} probes during it: "
        f"p50 {middle:.1f} ms, p99 {during:.1f} ms, max {worst:.1f} ms"
    )
