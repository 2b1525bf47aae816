"""``/metrics`` over the service's processes: sums never go down, whichever worker answers.

A scrape reaches one HTTP worker at random; every process keeps its series in
the shared directory and the answering worker sums them all
(``api.http.metrics``). Shown here with processes sharing a directory, and with
a real ``tongban serve`` with two workers under traffic, one of them killed
and restarted half way.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from credentials.holder import Holder
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.metrics import monotonic_series, parse_exposition, series_name
from tests.helpers.processes import serve

REQUESTS = "tongban_http_requests_total"
PERSONAL = {"X-Purpose": "credential.issuance", "X-Legal-Basis": "prc.pipl.art13"}


def _python(code: str, directory: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


_COUNT = """
import sys
from pathlib import Path
from api.http.metrics import Metrics, WriterMetrics, share_between_processes
share_between_processes(Path(sys.argv[1]))
metrics = Metrics()
for _ in range({n}):
    metrics.observe_request("/healthz", 200, 0.002)
metrics.issued.inc(amount={n})
WriterMetrics().anchored.inc("credential_batch", amount={n})
"""

_RENDER = """
import sys
from pathlib import Path
from api.http.metrics import Metrics, Sample, share_between_processes
share_between_processes(Path(sys.argv[1]))
print(Metrics().render([Sample("tongban_audit_events_total", "Events.", 7, "counter")]))
"""


def test_processes_sharing_a_directory_are_summed_after_they_end(tmp_path: Path) -> None:
    # Each process imports prometheus_client before it is told to share: the switch
    # must still take effect (the supervisor works that way).
    shared = tmp_path / "metrics"
    _python(_COUNT.format(n=3), shared)
    _python(_COUNT.format(n=4), shared)
    values = parse_exposition(_python(_RENDER, shared))
    assert values[series_name(REQUESTS, route="/healthz", status="200")] == 7
    assert values[series_name("tongban_http_request_duration_seconds_count", route="/healthz")] == 7
    assert values["tongban_credentials_issued_total"] == 7
    assert values[series_name("tongban_anchored_total", kind="credential_batch")] == 7
    assert values[series_name("tongban_anchored_total", kind="audit_checkpoint")] == 0
    assert values["tongban_audit_events_total"] == 7
    assert len(list(shared.glob("counter_*.db"))) == 3  # one file per process


class Traffic:
    """Threads sending requests on fresh connections (so both workers get some)."""

    def __init__(self, url: str, tokens: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = str(parts.hostname), int(parts.port or 80)
        self.tokens = tokens
        self.completed = 0
        self.errors = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.holder = Holder.generate().did

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            sent = dict(headers or {})
            data = None if body is None else json.dumps(body).encode()
            if data is not None:
                sent["Content-Type"] = "application/json"
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def _one(self, n: int) -> None:
        issuer = {"Authorization": f"Bearer {self.tokens['issuer']}"}
        body = {"template": "degree-certificate", "holder": self.holder, "claims": DEGREE_CLAIMS}
        calls: list[tuple[str, str, Any, dict[str, str]]] = [
            ("GET", "/healthz", None, {}),
            ("GET", f"/nothing/{n}", None, {}),
            ("GET", "/credentials/issue", None, {}),
            ("POST", "/credentials/issue", body, issuer | PERSONAL),
        ]
        method, path, payload, headers = calls[n % len(calls)]
        self.request(method, path, payload, headers)

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                self._one(n)
            except (OSError, http.client.HTTPException):  # a worker killed mid-request
                with self.lock:
                    self.errors += 1
                continue
            with self.lock:
                self.completed += 1


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _workers(pid: int) -> list[int]:
    return [
        child
        for child in _children(pid)
        if b"api.runtime.worker" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def _scrape(traffic: Traffic) -> str:
    status, headers, body = traffic.request("GET", "/metrics")
    assert status == 200
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return body.decode()


def _assert_never_down(before: dict[str, float], after: dict[str, float], scrape: int) -> None:
    down = {
        name: (value, after.get(name))
        for name, value in before.items()
        if after.get(name, float("-inf")) < value
    }
    assert not down, f"scrape {scrape}: series went down or vanished: {down}"


@pytest.mark.slow
def test_counters_never_go_down_over_scrapes_of_two_workers(tmp_path: Path) -> None:
    served = serve(
        tmp_path / "serve.log",
        "--data-dir",
        str(tmp_path / "data"),
        TONGBAN_DEMO="1",
        TONGBAN_WORKERS="2",
    )
    try:
        tokens = json.loads(Path(served.description["demoTokens"]["330000"]).read_text())
        traffic = Traffic(served.url, tokens)
        workers = _workers(served.process.pid)
        assert len(workers) == 2
        threads = [threading.Thread(target=traffic.run) for _ in range(4)]
        for thread in threads:
            thread.start()
        previous: dict[str, float] = {}
        scrapes = 0
        try:
            for scrape in range(60):
                if scrape == 20:
                    # A worker dies: the supervisor starts another; its counts stay.
                    os.kill(workers[0], signal.SIGKILL)
                current = monotonic_series(_scrape(traffic))
                scrapes += 1
                _assert_never_down(previous, current, scrape)
                previous = current
                time.sleep(0.1)
            restarted = _workers(served.process.pid)
            assert len(restarted) == 2
            assert workers[0] not in restarted
        finally:
            traffic.stop.set()
            for thread in threads:
                thread.join(timeout=60)
        # Every answer that came back was counted, by whichever worker served it.
        final = parse_exposition(_scrape(traffic))
        _assert_never_down(previous, monotonic_series(_scrape(traffic)), scrapes)
        served_total = sum(v for k, v in final.items() if k.startswith(REQUESTS + "{"))
        assert traffic.completed > 100
        assert served_total >= traffic.completed + scrapes
        assert final[series_name(REQUESTS, route="/credentials/issue", status="405")] > 0
        assert final[series_name(REQUESTS, route="unmatched", status="404")] > 0
        assert final["tongban_credentials_issued_total"] > 0
        assert final["tongban_audit_append_duration_seconds_count"] > 0
        _writer_and_store_series(traffic)
        _real_server_answers(traffic)
    finally:
        assert served.stop() == 0
    _logs_are_json_without_escapes(tmp_path / "serve.log")


def _writer_and_store_series(traffic: Traffic) -> None:
    deadline = time.monotonic() + 60
    while True:
        values = parse_exposition(_scrape(traffic))
        anchored = [
            values[series_name("tongban_anchored_total", kind=kind)]
            for kind in ("credential_batch", "audit_checkpoint")
        ]
        if min(anchored) >= 1:
            break
        assert time.monotonic() < deadline, f"nothing anchored: {anchored}"
        time.sleep(0.5)
    assert values["tongban_credential_batch_size_count"] >= 1
    assert values["tongban_credential_batch_size_sum"] >= 1
    assert values["tongban_chain_height"] >= values["tongban_chain_index_height"] > 0
    assert values["tongban_signing_key_active"] == 1
    assert values["tongban_signing_key_age_seconds"] >= 0
    assert values[series_name("tongban_writer_duty_runs_total", duty="chain-index")] > 0
    assert values["tongban_outbox_failed_items"] == 0
    assert values["tongban_audit_events_total"] > 0


def _real_server_answers(traffic: Traffic) -> None:
    status, headers, body = traffic.request("GET", "/credentials/issue")
    assert status == 405
    assert headers["allow"] == "POST"
    assert json.loads(body)["code"] == "method-not-allowed"
    # uvicorn refuses this framing before any app runs; the workers' protocol answers.
    with socket.create_connection((traffic.host, traffic.port), timeout=10) as connection:
        connection.sendall(b"POST /audit/events HTTP/1.1\r\nHost: t\r\nContent-Length: 12a\r\n\r\n")
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/problem+json" in head.lower()
    assert b"x-request-id: " in head.lower()
    assert json.loads(body)["code"] == "bad-request"


def _logs_are_json_without_escapes(log: Path) -> None:
    lines = log.read_text("utf-8").splitlines()
    assert lines
    for line in lines:
        document = json.loads(line)  # every line is one JSON object
        assert "\x1b" not in line
        assert "\\u001b" not in line
        assert "color_message" not in document
