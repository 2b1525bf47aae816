"""What a certificate file costs a verification: /documents/verify beside /credentials/verify.

    .venv/bin/python scripts/bench_document_verify.py [--rounds 3] [--requests 20]

One ``tongban serve`` (demo province, anvil with 1 s blocks, one HTTP worker) on
loopback. Four anchored degree certificates: one naming no file (the baseline
credential), and three naming PDFs of 605 bytes, 1 MiB and 20 MiB (the upload
cap). Each round sends, one request at a time on one keep-alive connection, in
an order reversed every other round:

- baseline: ``POST /credentials/verify`` of the baseline credential (JSON);
- ``POST /documents/verify`` (multipart) of each file with its credential.

Printed per kind: p50 and p99 latency over all rounds, the ratio of its p50 to the
baseline's measured in the same run, and the service's CPU per request; then the
SM3 throughput of ``credentials.file_binding.file_digest`` in this process on the
20 MiB file, for scale. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_http import (
    PERSONAL,
    _cpu_seconds,
    fetch_anchored,
    start_service,
    tokens_of,
)

from api.client.documents import encode_form
from credentials.file_binding import MAX_FILE_BYTES, describe_file, file_digest
from credentials.holder import Holder
from tests.helpers.certificate_files import sample_pdf
from tests.helpers.credentials import DEGREE_CLAIMS

MIB = 1024 * 1024


def _padded_pdf(size: int) -> bytes:
    """A PDF of exactly ``size`` bytes: the sample, then a comment line of padding."""
    base = sample_pdf()
    return base + b"%" + b"0" * (size - len(base) - 2) + b"\n"


def _issue(port: int, token: str, data: bytes | None) -> str:
    body: dict[str, Any] = {
        "template": "degree-certificate",
        "holder": Holder.generate().did,
        "claims": DEGREE_CLAIMS,
    }
    if data is not None:
        body["certificateFile"] = describe_file(data).to_request_json()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **PERSONAL}
    connection.request("POST", "/credentials/issue", json.dumps(body), headers)
    reply = connection.getresponse()
    answer = json.loads(reply.read())
    if reply.status != 201:
        raise SystemExit(f"issuing failed: {reply.status} {answer}")
    return str(answer["digest"])


class Sender:
    """One keep-alive connection as the verifier."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.token = token

    def send(self, path: str, body: bytes, content_type: str) -> tuple[float, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type}
        started = time.perf_counter()
        self.connection.request("POST", path, body, {**headers, **PERSONAL})
        reply = self.connection.getresponse()
        raw = reply.read()
        elapsed = (time.perf_counter() - started) * 1000
        if reply.status != 200:
            raise SystemExit(f"{path} answered {reply.status}: {raw[:300]!r}")
        answer: dict[str, Any] = json.loads(raw)
        return elapsed, answer


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20, help="per kind and round")
    args = parser.parse_args()
    files = {
        "605 B PDF": sample_pdf(),
        "1 MiB PDF": _padded_pdf(MIB),
        "20 MiB PDF": _padded_pdf(MAX_FILE_BYTES),
    }
    with tempfile.TemporaryDirectory() as scratch:
        process, description = start_service(Path(scratch) / "data", workers=1)
        try:
            port = int(str(description["apiUrl"]).rstrip("/").rsplit(":", 1)[1])
            tokens = tokens_of(description)
            digests = [_issue(port, tokens["issuer"], None)]
            digests += [_issue(port, tokens["issuer"], data) for data in files.values()]
            credentials = fetch_anchored(port, tokens["issuer"], digests)
            sender = Sender(port, tokens["verifier"])
            bodies: dict[str, tuple[str, bytes, str]] = {
                "baseline /credentials/verify": (
                    "/credentials/verify",
                    json.dumps({"verifiableCredential": credentials[0]}).encode(),
                    "application/json",
                )
            }
            for (name, data), credential in zip(files.items(), credentials[1:], strict=True):
                body, content_type = encode_form(data, credential)
                bodies[f"/documents/verify {name}"] = ("/documents/verify", body, content_type)
            for path, body, content_type in bodies.values():  # warm-up, and a sanity check
                _, answer = sender.send(path, body, content_type)
                if answer["verdict"] != "VALID":
                    raise SystemExit(f"{path}: {answer['verdict']} {answer.get('file')}")
            latencies: dict[str, list[float]] = {name: [] for name in bodies}
            cpu: dict[str, float] = dict.fromkeys(bodies, 0.0)
            order = list(bodies)
            for round_number in range(args.rounds):
                for name in order if round_number % 2 == 0 else list(reversed(order)):
                    path, body, content_type = bodies[name]
                    before = _cpu_seconds(process.pid)
                    for _ in range(args.requests):
                        latencies[name].append(sender.send(path, body, content_type)[0])
                    cpu[name] += _cpu_seconds(process.pid) - before
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    count = args.rounds * args.requests
    base = statistics.median(latencies[order[0]])
    print(f"\n{count} requests per kind, one at a time, 1 HTTP worker, same run")
    for name in order:
        values = sorted(latencies[name])
        p50 = statistics.median(values)
        p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
        print(
            f"{name:<34} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  x{p50 / base:6.2f} of baseline  "
            f"service CPU {cpu[name] / count * 1000:7.2f} ms/request"
        )
    big = files["20 MiB PDF"]
    started = time.perf_counter()
    file_digest(big)
    seconds = time.perf_counter() - started
    rate = len(big) / MIB / seconds
    print(f"SM3 of 20 MiB in this process: {seconds * 1000:.1f} ms ({rate:.0f} MiB/s)")


if __name__ == "__main__":
    main()
