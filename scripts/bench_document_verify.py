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
baseline's measured in the same run, and the service's CPU per request. Then, in
this process on the 20 MiB upload (64 KiB chunks, median of 5): reading it through
the multipart reader (``api.http.uploads.read_form``) beside reading the same body
raw (``api.http.deps.read_capped``, the JSON routes' reader: the baseline), and
``inspect_file`` (SM3 and the media type). This is a benchmark, not a test: it
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
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
from starlette.requests import Request

from api.client.documents import encode_form
from api.http.deps import read_capped
from api.http.uploads import FormParts, read_form
from credentials.file_binding import MAX_FILE_BYTES, describe_file, inspect_file
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


def _request(body: bytes, content_type: str) -> Request:
    chunks = [body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024)]
    messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    messages.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/documents/verify",
        "headers": [(b"content-type", content_type.encode())],
        "query_string": b"",
    }
    return Request(scope, receive)


def in_process(data: bytes) -> None:
    """Reading a 20 MiB upload as multipart beside reading it raw; SM3 and sniffing."""
    body, content_type = encode_form(data, {"credential": "stand-in"})
    form = FormParts({"file": MAX_FILE_BYTES, "credential": MIB}, MAX_FILE_BYTES + 2 * MIB)
    timings: dict[str, list[float]] = {"raw": [], "multipart": [], "inspect": []}

    async def timed(read: Awaitable[object]) -> float:
        # Timed inside the loop: asyncio.run's own start and shutdown are not the reader's.
        started = time.perf_counter()
        await read
        return time.perf_counter() - started

    for _ in range(5):
        reading = timed(read_capped(_request(body, content_type), len(body)))
        timings["raw"].append(asyncio.run(reading))
        timings["multipart"].append(
            asyncio.run(timed(read_form(_request(body, content_type), form)))
        )
        started = time.perf_counter()
        inspect_file(data)
        timings["inspect"].append(time.perf_counter() - started)
    raw, multipart, inspect = (statistics.median(timings[k]) * 1000 for k in timings)
    print(
        f"in process, 20 MiB: raw read (baseline) {raw:.1f} ms, multipart read {multipart:.1f} "
        f"ms (x{multipart / raw:.2f}), SM3 + media type {inspect:.1f} ms "
        f"({len(data) / MIB / (inspect / 1000):.0f} MiB/s)"
    )


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
    in_process(files["20 MiB PDF"])


if __name__ == "__main__":
    main()
