"""A second province survives a restart of the first, whose embedded chain it joined by URL.

Province A (Zhejiang) is ``tongban serve`` as ``make run`` starts it: the
embedded ganache and the demo consortium. Province B (Guangdong) is started
with the command A printed, exactly as printed. A is stopped with SIGTERM and
started again on the same data directory: its chain comes back on the same
port, so B, never restarted, reports the chain down in ``/readyz`` meanwhile
(logging the outage once, not on every attempt), then becomes ready again by
itself and verifies credentials A issued before and after the restart.
"""

from __future__ import annotations

import http.client
import json
import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from api.client.remote import RemoteApi, RemoteApiError
from credentials.holder import Holder
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import TONGBAN, Served, e2e_env, serve

pytestmark = pytest.mark.slow

ISSUING = {"X-Purpose": "credential.issuance", "X-Legal-Basis": "prc.pipl.art13"}
VERIFYING = {"X-Purpose": "cross-province.enrolment", "X-Legal-Basis": "prc.pipl.art13"}
A_SETTINGS = {"TONGBAN_DEMO": "1", "TONGBAN_WORKERS": "1"}

T = TypeVar("T")


def _until(what: str, check: Callable[[], T | None], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def _run_as_printed(command: str, log: Path) -> Served:
    """Start the printed command itself (plus ``--json`` to read its description)."""
    with log.open("w") as errors:
        process = subprocess.Popen(
            [*shlex.split(command), "--json"],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=e2e_env(TONGBAN_WORKERS="1"),
        )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=30)
        raise AssertionError(f"the printed command exited early:\n{log.read_text()[-3000:]}")
    return Served(process, json.loads(line), log)


def _readyz(url: str) -> tuple[int, dict[str, Any]]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", "/readyz")
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _issue_anchored(api: RemoteApi) -> dict[str, Any]:
    """Issue a credential at A and return it once its anchor proof is in it."""
    body = {
        "template": "degree-certificate",
        "holder": Holder.generate().did,
        "claims": DEGREE_CLAIMS,
    }
    digest = str(api.post("/credentials/issue", body, headers=ISSUING)["digest"])

    def anchored() -> bool:
        return bool(api.get(f"/credentials/{digest}/anchoring")["state"] == "anchored")

    _until("the credential to be anchored", anchored)
    stored: dict[str, Any] = api.get(f"/credentials/{digest}", headers=ISSUING)
    return dict(stored["credential"])


def _verdict(api: RemoteApi, credential: dict[str, Any]) -> str:
    try:
        answer = api.post(
            "/credentials/verify", {"verifiableCredential": credential}, headers=VERIFYING
        )
    except RemoteApiError as refused:
        # 503 until B's chain index reaches the anchor's block: undecided, ask again.
        if refused.status == 503:
            return "UNDECIDED"
        raise
    return str(answer["verdict"])


def test_the_second_province_keeps_working_while_the_first_restarts(tmp_path: Path) -> None:
    data = tmp_path / "a"
    a = serve(tmp_path / "a-first.log", "--data-dir", str(data), **A_SETTINGS)
    b: Served | None = None
    try:
        command = a.description["demoSecondProvince"]
        program = shlex.split(command)[0]
        assert Path(program).resolve() == Path(TONGBAN).resolve()
        b = _run_as_printed(command, tmp_path / "b.log")
        assert b.description["rpcUrl"] == a.description["rpcUrl"]
        tokens_a = json.loads(Path(a.description["demoTokens"]["330000"]).read_text())
        tokens_b = json.loads(Path(a.description["demoTokens"]["440000"]).read_text())
        verifier_b = RemoteApi(b.url, tokens_b["verifier"])
        before = _issue_anchored(RemoteApi(a.url, tokens_a["issuer"]))
        _until("B to verify A's credential", lambda: _verdict(verifier_b, before) == "VALID")
        assert _readyz(b.url)[0] == 200

        rpc_url = a.description["rpcUrl"]
        assert a.stop() == 0, a.log.read_text()[-3000:]

        def chain_down() -> dict[str, Any] | None:
            status, readiness = _readyz(b.url)
            return readiness if status == 503 else None

        readiness = _until("B's /readyz to report the chain down", chain_down)
        assert readiness["checks"]["chain"]["ok"] is False
        assert readiness["checks"]["store"]["ok"] is True

        a = serve(tmp_path / "a-second.log", "--data-dir", str(data), **A_SETTINGS)
        assert a.description["rpcUrl"] == rpc_url
        assert a.description["demoSecondProvince"] == command
        _until("B to be ready again", lambda: _readyz(b.url)[0] == 200)
        after = _issue_anchored(RemoteApi(a.url, tokens_a["issuer"]))
        _until("B to verify a credential issued after the restart",
               lambda: _verdict(verifier_b, after) == "VALID")  # fmt: skip
        assert _verdict(verifier_b, before) == "VALID"
        assert b.process.poll() is None

        # B was cut off for all of A's restart (seconds), yet said so once, and once when back.
        lines = b.log.read_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        messages = [record["message"] for record in records]
        assert messages.count("chain unreachable; retrying with backoff") == 1, messages
        assert messages.count("chain reachable again") == 1, messages
        unreachable = [r for r in records if r.get("error") == "ChainUnavailableError"]
        assert len(unreachable) <= 1, unreachable  # the writer may name the duty that found it
    finally:
        if b is not None:
            assert b.stop() == 0, b.log.read_text()[-3000:]
        assert a.stop() == 0, a.log.read_text()[-3000:]
