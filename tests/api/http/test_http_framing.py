"""Requests the HTTP server cannot parse get the app's 400 problem, over real sockets.

uvicorn (httptools) refuses a malformed ``Content-Length``, request line or
chunk before any app runs; the workers' ``ProblemHttpToolsProtocol`` hands it
to the app, which answers 400 ``bad-request`` with the usual headers.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.errors import PROBLEM_TYPE_BASE, ProblemCode
from api.runtime.worker import ProblemHttpToolsProtocol
from tests.helpers.metrics import parse_exposition, series_name
from tests.helpers.server import Province, running_province

ID_NUMBER = "110101199003071234"


class RawServer:
    """uvicorn with ``protocol`` serving ``province``'s app on a free port, in a thread."""

    def __init__(self, province: Province, protocol: type[HttpToolsProtocol]) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])
        config = uvicorn.Config(
            province.app,
            http=protocol,
            loop="uvloop",
            lifespan="off",
            access_log=False,
            log_config=None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()

    def exchange(self, data: bytes) -> bytes:
        """Send ``data`` and read until the server closes the connection."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            connection.sendall(data)
            received = b""
            while chunk := connection.recv(65536):
                received += chunk
        return received


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Province]:
    with running_province(tmp_path) as served:
        yield served


@pytest.fixture
def server(province: Province) -> Iterator[RawServer]:
    raw = RawServer(province, ProblemHttpToolsProtocol)
    yield raw
    raw.stop()


def _responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split HTTP/1.1 responses framed by Content-Length."""
    found = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        found.append((status, headers, rest[:length]))
        data = rest[length:]
    return found


def _bad_request(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    document: dict[str, Any] = json.loads(body)
    assert document["code"] == ProblemCode.BAD_REQUEST.value
    assert document["type"] == PROBLEM_TYPE_BASE + "bad-request"
    assert document["status"] == 400
    assert document["requestId"] == headers["x-request-id"]
    assert document["instance"] == f"urn:tongban:request:{headers['x-request-id']}"
    return document


POST = b"POST /audit/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"

MALFORMED = {
    "letters": POST + b"Content-Length: abc\r\n\r\n",
    "negative": POST + b"Content-Length: -1\r\n\r\n",
    "a list": POST + b"Content-Length: 1, 2\r\n\r\nab",
    "two values": POST + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "overflow": POST + b"Content-Length: 99999999999999999999999\r\n\r\n",
    "with chunked": POST + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "personal data": POST + f"Content-Length: {ID_NUMBER}x\r\n\r\n".encode(),
    "request line": b"GARBAGE\r\n\r\n",
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_framing_is_a_bad_request_problem(
    province: Province, server: RawServer, data: bytes
) -> None:
    [(status, headers, body)] = _responses(server.exchange(data))
    _bad_request(status, headers, body)
    assert ID_NUMBER.encode() not in body
    assert province.log.size() == 0  # no route ran


def test_a_malformed_chunk_is_a_bad_request_problem_and_the_only_answer(
    server: RawServer,
) -> None:
    # The headers were fine, so the app had started on the request; its answer is dropped.
    data = POST + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\nzz\r\n"
    [(status, headers, body)] = _responses(server.exchange(data))
    _bad_request(status, headers, body)


def test_malformed_requests_are_counted_and_logged_like_others(
    province: Province, server: RawServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tongban.access")
    for _ in range(3):
        [(status, headers, body)] = _responses(server.exchange(MALFORMED["personal data"]))
        _bad_request(status, headers, body)
    metrics = parse_exposition(province.request("GET", "/metrics").text)
    requests = series_name("tongban_http_requests_total", route="malformed", status="400")
    assert metrics[requests] == 3
    logged = [r for r in caplog.records if r.name == "tongban.access"]
    assert [getattr(r, "route", None) for r in logged[:3]] == ["malformed"] * 3
    assert all(ID_NUMBER not in str(r.__dict__) for r in caplog.records)


def test_a_request_before_a_malformed_one_is_answered_first(server: RawServer) -> None:
    # Pipelined on one connection: the good request's answer, then the problem, then close.
    data = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" + MALFORMED["letters"]
    first, second = _responses(server.exchange(data))
    assert first[0] == 200
    assert json.loads(first[2]) == {"status": "ok"}
    _bad_request(*second)
    assert first[1]["x-request-id"] != second[1]["x-request-id"]


def test_a_well_framed_request_on_the_same_server_is_unaffected(server: RawServer) -> None:
    data = POST + b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
    [(status, headers, _)] = _responses(server.exchange(data))
    assert status == 401  # reached the app: no token
    assert headers["content-type"] == "application/problem+json"


def test_uvicorns_own_protocol_answers_in_plain_text(province: Province) -> None:
    # Why the workers need ProblemHttpToolsProtocol: the stock one never reaches the app.
    raw = RawServer(province, HttpToolsProtocol)
    try:
        [(status, headers, body)] = _responses(raw.exchange(MALFORMED["letters"]))
    finally:
        raw.stop()
    assert status == 400
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert "x-request-id" not in headers
    assert body == b"Invalid HTTP request received."
