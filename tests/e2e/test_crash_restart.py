"""kill -9 the whole service while it issues: everything it acknowledged survives and anchors.

A ``tongban serve`` (embedded ganache, demo consortium) is killed with SIGKILL
while a client is issuing credentials and appending audit events over HTTP,
right after some answers came back and before their batches can be anchored.
Started again on the same data directory, the service must still hold every
credential and event it acknowledged, and anchor every one of those
credentials on the same chain, each exactly once.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest

from api.client.remote import RemoteApi, RemoteApiError
from credentials.holder import Holder
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import Served, serve

pytestmark = pytest.mark.slow

PERSONAL = {"X-Purpose": "credential.issuance", "X-Legal-Basis": "prc.pipl.art13"}


def _issue_until_stopped(
    api: RemoteApi, holder: str, acked: list[str], stop: threading.Event
) -> None:
    body = {"template": "degree-certificate", "holder": holder, "claims": DEGREE_CLAIMS}
    while not stop.is_set():
        try:
            answer = api.post("/credentials/issue", body, headers=PERSONAL)
        except RemoteApiError:
            return  # the service is gone: what was acknowledged is in ``acked``
        acked.append(str(answer["digest"]))


def test_a_killed_service_keeps_and_anchors_what_it_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # Batches wait 30 s, so nothing acknowledged before the kill can be anchored by then.
    settings = {"TONGBAN_DEMO": "1", "TONGBAN_BATCH_MAX_WAIT_MS": "30000"}
    first = serve(tmp_path / "first.log", "--data-dir", str(data), **settings)
    tokens = json.loads(Path(first.description["demoTokens"]["330000"]).read_text())
    api = RemoteApi(first.url, tokens["issuer"])
    acked: list[str] = []
    stop = threading.Event()
    issuers = [
        threading.Thread(
            target=_issue_until_stopped, args=(api, Holder.generate().did, acked, stop)
        )
        for _ in range(4)
    ]
    for thread in issuers:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acked) < 40:
        assert time.monotonic() < deadline, "the service issued too slowly"
        time.sleep(0.05)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=30)
    stop.set()
    for thread in issuers:
        thread.join(timeout=30)
    acknowledged = list(acked)
    assert len(set(acknowledged)) == len(acknowledged) >= 40

    second: Served = serve(
        tmp_path / "second.log",
        "--data-dir",
        str(data),
        TONGBAN_DEMO="1",
        TONGBAN_BATCH_MAX_WAIT_MS="300",
    )
    try:
        assert second.description["contracts"] == first.description["contracts"]
        reader = RemoteApi(second.url, tokens["issuer"])
        deadline = time.monotonic() + 90
        pending = set(acknowledged)
        roots: dict[str, tuple[str, int]] = {}
        while pending:
            assert time.monotonic() < deadline, f"{len(pending)} acknowledged never anchored"
            for digest in sorted(pending):
                state = reader.get(f"/credentials/{digest}/anchoring")
                if state["state"] == "anchored":
                    roots[digest] = (state["root"], state["leafIndex"])
                    pending.discard(digest)
            time.sleep(0.3)
        # Each acknowledged credential sits at its own leaf of an anchored root.
        assert len(set(roots.values())) == len(acknowledged)
        proof = reader.get(f"/credentials/{acknowledged[0]}/anchor-proof")
        assert proof["root"] == roots[acknowledged[0]][0]
        # The audit log kept one credential.issue event per acknowledged credential.
        auditor = RemoteApi(second.url, tokens["auditor"])
        lines = [
            json.loads(line)
            for line in auditor.stream_lines(
                "/audit/export",
                headers={"X-Purpose": "audit.review", "X-Legal-Basis": "prc.pipl.art54"},
            )
        ]
        issued = {
            line["event"]["resource"].removeprefix("credential:")
            for line in lines
            if line.get("event", {}).get("action") == "credential.issue"
        }
        assert set(acknowledged) <= issued
    finally:
        assert second.stop() == 0, second.log.read_text()[-3000:]
