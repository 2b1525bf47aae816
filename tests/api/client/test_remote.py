"""The command line's HTTP client when the service dies mid-answer.

A service killed (or a proxy cut) after the status line but before the whole
body leaves the client not knowing whether the request was carried out: the
same position as a refused connection. The client must say so as a status-0
``unreachable`` error, which ``send_with_retries`` sends again under the same
idempotency key, never raise ``http.client.IncompleteRead`` out of the command
(CI once saw that as a traceback's last line, in the kill -9 end-to-end test).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from api.cli.credentials import send_with_retries
from api.client.remote import RemoteApi, RemoteApiError


class CuttingServer:
    """A loopback TCP server whose answers stop after ``prefix`` (then the socket closes)."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        for answer in self.answers:
            try:
                peer, _ = self._listener.accept()
            except OSError:
                return
            with peer:
                peer.recv(65536)
                self.requests += 1
                peer.sendall(answer)

    def close(self) -> None:
        """Stop listening."""
        self._listener.close()
        self._thread.join(timeout=5)


JSON = b"Content-Type: application/json\r\n"
CUT_BODY = b"HTTP/1.1 200 OK\r\n" + JSON + b'Content-Length: 6006\r\n\r\n{"id":'
WHOLE = b"HTTP/1.1 201 Created\r\n" + JSON + b'Content-Length: 11\r\n\r\n{"id": "x"}'
NOT_JSON = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n<h1>x"


@pytest.fixture
def cutting() -> Iterator[list[CuttingServer]]:
    servers: list[CuttingServer] = []
    yield servers
    for server in servers:
        server.close()


def test_an_answer_cut_off_mid_body_is_no_answer_not_a_crash(
    cutting: list[CuttingServer],
) -> None:
    server = CuttingServer([CUT_BODY])
    cutting.append(server)
    with pytest.raises(RemoteApiError) as caught:
        RemoteApi(server.url, "token").post("/credentials/issue", {"template": "t"})
    assert caught.value.status == 0
    assert caught.value.code == "unreachable"
    assert "before the whole answer arrived" in str(caught.value)


def test_a_cut_off_answer_is_sent_again_and_the_retry_answers(
    cutting: list[CuttingServer],
) -> None:
    server = CuttingServer([CUT_BODY, WHOLE])
    cutting.append(server)
    api = RemoteApi(server.url, "token")
    heard: list[str] = []
    body = send_with_retries(
        lambda: api.post("/credentials/issue", {"template": "t"}),
        retries=2,
        sleep=lambda _: None,
        notify=heard.append,
    )
    assert body == {"id": "x"}
    assert server.requests == 2
    assert len(heard) == 1
    assert "no answer (0 unreachable)" in heard[0]


def test_a_2xx_body_that_is_not_json_is_a_clear_error(cutting: list[CuttingServer]) -> None:
    server = CuttingServer([NOT_JSON])
    cutting.append(server)
    with pytest.raises(RemoteApiError) as caught:
        RemoteApi(server.url).get("/")
    assert caught.value.code == "not-json"
    assert "<h1>" not in str(caught.value)


def test_an_export_stream_cut_off_mid_line_is_no_answer(cutting: list[CuttingServer]) -> None:
    cut_stream = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nContent-Length: 500\r\n\r\n"
        b'{"seq": 1}\n{"seq": 2'
    )
    server = CuttingServer([cut_stream])
    cutting.append(server)
    lines: list[bytes] = []
    with pytest.raises(RemoteApiError) as caught:
        lines.extend(RemoteApi(server.url).stream_lines("/audit/export"))
    assert caught.value.status == 0
    assert lines[0] == b'{"seq": 1}\n'


def test_a_chunked_export_stream_cut_off_is_no_answer(cutting: list[CuttingServer]) -> None:
    cut_stream = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        b'b\r\n{"seq": 1}\n\r\n40\r\n{"seq": 2'
    )
    server = CuttingServer([cut_stream])
    cutting.append(server)
    lines: list[bytes] = []
    with pytest.raises(RemoteApiError) as caught:
        lines.extend(RemoteApi(server.url).stream_lines("/audit/export"))
    assert caught.value.status == 0
    assert lines == [b'{"seq": 1}\n']
