"""The province service on PostgreSQL, over real processes (issue #15).

``tongban serve`` (the demo consortium on an anvil chain, the writer and two
HTTP workers) runs with ``TONGBAN_DATABASE_URL`` pointing at a fresh database
of the tests' PostgreSQL cluster:

1. The issuing system issues a degree certificate (the catalogue dialect).
2. The writer seals and anchors it; the issuer reads it back with its proof.
3. The province's verifier verifies it VALID.
4. The auditor exports the audit log once a checkpoint covers it, and
   ``tongban audit verify`` accepts the export against the chain.
5. The rows are in PostgreSQL (queried directly) and the data directory holds
   no ``store.sqlite``.

A URL that does not answer ends ``tongban serve`` with one line naming
``host:port/database``, never the password.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.client.remote import RemoteApi
from api.province.clients import Role
from credentials.holder import Holder
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import TONGBAN, Served, T, e2e_env, serve, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

ISSUING = {"X-Purpose": "credential.issuance", "X-Legal-Basis": "prc.pipl.art13"}
VERIFYING = {"X-Purpose": "cross-province.enrolment", "X-Legal-Basis": "prc.pipl.art13"}


def _wait(what: str, check: Callable[[], T | None], timeout: float = 90.0) -> T:
    return wait_for(what, check, timeout=timeout, interval=0.3)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=e2e_env(), timeout=120, check=False
    )
    assert result.returncode == 0, (args, result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture
def on_postgres(tmp_path: Path, postgres_database: str) -> Iterator[tuple[Served, str]]:
    """``tongban serve`` (demo, anvil) on a fresh PostgreSQL database; the service and the URL."""
    served = serve(
        tmp_path / "serve.log",
        "--data-dir",
        str(tmp_path / "data"),
        TONGBAN_DEMO="1",
        TONGBAN_CHAIN="anvil",
        TONGBAN_DATABASE_URL=postgres_database,
    )
    try:
        yield served, postgres_database
    finally:
        assert served.stop() == 0, served.log.read_text()[-3000:]


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_a_credential_issued_anchored_verified_and_audited_on_postgresql(
    on_postgres: tuple[Served, str], tmp_path: Path
) -> None:
    served, url = on_postgres
    tokens = json.loads(Path(served.description["demoTokens"]["330000"]).read_text())
    issuer = RemoteApi(served.url, tokens["issuer"])
    verifier = RemoteApi(served.url, tokens["verifier"])

    # 1. Issue in the catalogue dialect.
    body = {
        "template": "degree-certificate",
        "holder": Holder.generate().did,
        "claims": DEGREE_CLAIMS,
    }
    issued = issuer.post(
        "/credentials/issue", body, headers={**ISSUING, "Idempotency-Key": "pg-e2e-1"}
    )
    digest = issued["digest"]

    # 2. Anchored by the writer, whose outbox and batches live in PostgreSQL.
    def anchoring() -> dict[str, Any] | None:
        state: dict[str, Any] = issuer.get(f"/credentials/{digest}/anchoring")
        return state if state["state"] == "anchored" else None

    assert _wait("the credential's anchoring", anchoring)["treeSize"] >= 1
    credential = issuer.get(f"/credentials/{digest}", headers=ISSUING)["credential"]

    # 3. Verified by the province's verifier (challenges and the index in PostgreSQL too).
    # "anchored" waits for the province's chain index, so the first answer decides.
    def verified() -> dict[str, Any] | None:
        answer: dict[str, Any] = verifier.post(
            "/credentials/verify", {"verifiableCredential": credential}, headers=VERIFYING
        )
        return answer if answer["verdict"] == "VALID" else None

    verdict = verified()
    assert verdict is not None, "anchored, yet not VALID at the same province"
    assert verdict["credentialDigests"] == [digest]

    # 4. The audit log, exported once a checkpoint covers it, verifies against the chain.
    export = tmp_path / "export.jsonl"

    def anchored_export() -> bool | None:
        _cli(
            "audit", "export", "--out", str(export), "--url", served.url,
            "--token", tokens["auditor"],
        )  # fmt: skip
        lines = [json.loads(line) for line in export.read_text("utf-8").splitlines()]
        kinds = [line.get("type") for line in lines]
        return True if kinds.count("checkpoint") and len(lines) >= 3 else None

    _wait("an anchored checkpoint over the log", anchored_export)
    contracts = served.description["contracts"]
    checked = _cli(
        "audit", "verify", str(export), "--chain", served.description["rpcUrl"],
        "--chain-id", str(served.description["chainId"]),
        "--audit-anchor", contracts["AuditAnchor"]["address"],
        "--registry", contracts["IssuerRegistry"]["address"],
        "--data-dir", str(tmp_path / "auditor"),
    )  # fmt: skip
    assert "valid" in checked.stdout
    assert "invalid" not in checked.stdout.lower()

    # 5. Everything is in PostgreSQL; the data directory has no SQLite store.
    assert _count(url, "cred_issued") == 1
    assert _count(url, "audit_events") >= 2  # the issuance and the verification
    assert _count(url, "audit_checkpoints") >= 1
    assert _count(url, "api_clients") == len(Role)  # the demo's client per role
    data = tmp_path / "data"
    assert not (data / "store.sqlite").exists()
    assert not list(data.glob("store.sqlite*"))


def test_a_database_that_does_not_answer_is_one_start_up_line_without_the_password(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://tongban:s3cret-pw@127.0.0.1:{port}/tongban_prod"
    result = subprocess.run(
        [TONGBAN, "serve", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env=e2e_env(TONGBAN_CHAIN="anvil", TONGBAN_DATABASE_URL=url),
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, (result.stdout, result.stderr[-3000:])
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert errors, result.stderr
    assert "Traceback" not in result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert any(
        f"cannot reach the store at 127.0.0.1:{port}/tongban_prod" in line for line in errors
    )
