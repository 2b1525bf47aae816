"""The whole story over real HTTP between real processes: two provinces, one chain, a citizen.

Province A (Zhejiang, 330000) is ``tongban serve`` as ``make run`` starts it:
the embedded ganache chain, the demo consortium (three governors, 2-of-3),
the writer and two HTTP workers. Province B (Guangdong, 440000) is a second
``tongban serve`` with the configuration the demo wrote for it, joining A's
chain by URL. Every other actor is the ``tongban`` command line in its own
process: the citizen's wallet, A's issuing system, B's verifying system, the
auditor. Nothing here reaches into a store or calls a library directly.

1. A issues a degree certificate to the citizen's wallet; the wallet fetches
   the anchor proof once A's batch is final.
2. The wallet presents 2 of its claims to B; B verifies it VALID from the
   chain alone.
3. A revokes it; B now answers INVALID with the revocation reason.
4. The auditor exports B's log and ``tongban audit verify`` accepts it.
5. The citizen, signing with the holder key, sees B's verification in their
   access history at B.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import TONGBAN, Served, e2e_env, serve

WALLET_PASSPHRASE = "citizen wallet passphrase"
DISCLOSED = ["degreeLevel", "awardingInstitution"]

pytestmark = pytest.mark.slow


def _cli(
    *args: str, expect: tuple[int, ...] = (0,), stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [TONGBAN, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=e2e_env(TONGBAN_WALLET_PASSPHRASE=WALLET_PASSPHRASE, **env),
        timeout=120,
    )
    assert result.returncode in expect, (args, result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def _until(what: str, check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def provinces(tmp_path: Path) -> Iterator[tuple[Served, Served]]:
    """A (demo, embedded chain) and B (the demo's second province, joined by URL)."""
    a = serve(tmp_path / "a.log", "--data-dir", str(tmp_path / "a"), TONGBAN_DEMO="1")
    b: Served | None = None
    try:
        config = tmp_path / "a" / "demo" / "440000" / "tongban.toml"
        joined = ["--config", str(config), "--chain", a.description["rpcUrl"]]
        assert shlex.split(a.description["demoSecondProvince"])[1:] == ["serve", *joined]
        b = serve(tmp_path / "b.log", *joined)
        yield a, b
    finally:
        if b is not None:
            assert b.stop() == 0, b.log.read_text()[-3000:]
        assert a.stop() == 0, a.log.read_text()[-3000:]


def test_a_citizen_credential_across_two_provinces(
    provinces: tuple[Served, Served], tmp_path: Path
) -> None:
    a, b = provinces
    assert a.description["issuerId"] == 1
    assert b.description["issuerId"] == 2
    assert a.description["rpcUrl"] == b.description["rpcUrl"]
    addresses = {name: c["address"] for name, c in a.description["contracts"].items()}
    assert addresses == {name: c["address"] for name, c in b.description["contracts"].items()}
    tokens_a = json.loads(Path(a.description["demoTokens"]["330000"]).read_text())
    tokens_b = json.loads(Path(a.description["demoTokens"]["440000"]).read_text())
    wallet = ["--wallet", str(tmp_path / "wallet")]

    # The citizen makes a wallet; A's issuing system issues a degree certificate to it.
    did = _cli("wallet", "create", *wallet).stdout.split("holder ")[-1].strip()
    assert did.startswith("did:key:z")
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps(DEGREE_CLAIMS, ensure_ascii=False), "utf-8")
    issued = _cli(
        "issue", "--json", "--url", a.url, "--token", tokens_a["issuer"],
        "--template", "degree-certificate", "--holder", did, "--claims", str(claims),
    )  # fmt: skip
    answer = json.loads(issued.stdout)
    digest = answer["digest"]
    assert answer["anchoring"]["state"] in ("pending", "sealed", "anchored")
    _cli("wallet", "receive", "-", *wallet, stdin=issued.stdout)

    # Once A's batch is final the wallet fetches the anchor proof.
    def anchored() -> bool:
        fetched = _cli(
            "wallet", "fetch-proofs", *wallet, "--url", a.url, "--token", tokens_a["holder"]
        )
        return "anchored" in fetched.stdout

    _until("the anchor proof", anchored)

    # The wallet presents 2 claims to B; B verifies from the chain alone.
    def present(name: str) -> Path:
        out = tmp_path / name
        _cli(
            "wallet", "present", digest[:12], *wallet, "--claims", ",".join(DISCLOSED),
            "--verifier", b.url, "--token", tokens_b["verifier"], "--out", str(out),
        )  # fmt: skip
        return out

    first = present("first.json")
    presentation = json.loads(first.read_text("utf-8"))
    disclosed = presentation["verifiableCredential"][0]["disclosures"]
    assert sorted(d[1].rsplit("/", 1)[-1] for d in disclosed) == sorted(DISCLOSED)
    assert DEGREE_CLAIMS["holderName"] not in first.read_text("utf-8")

    def verified_at_b() -> dict[str, Any] | None:
        # Exit 2 (503, undecided) until B's chain index reaches the anchor's block; the
        # presentation's challenge survives an undecided answer, so it is sent again.
        answer = _cli(
            "verify", str(first), "--json", "--url", b.url, "--token", tokens_b["verifier"],
            expect=(0, 2),
        )  # fmt: skip
        return json.loads(answer.stdout) if answer.returncode == 0 else None

    result = _until("B to verify the presentation", verified_at_b)
    assert result["verdict"] == "VALID", result
    assert result["credentialDigests"] == [digest]

    # A revokes; once B's index has the revocation, B answers INVALID with its reason.
    _cli(
        "revoke", digest, "--reason", "holder_request", "--wait",
        "--url", a.url, "--token", tokens_a["issuer"],
    )  # fmt: skip

    def revoked_at_b() -> dict[str, Any] | None:
        again = present(f"again-{time.monotonic_ns()}.json")
        answer = _cli(
            "verify", str(again), "--json", "--url", b.url, "--token", tokens_b["verifier"],
            expect=(0, 1),  # VALID until B's chain index has the revocation, then INVALID
        )  # fmt: skip
        checked = json.loads(answer.stdout)
        return checked if checked["verdict"] == "INVALID" else None

    result = _until("B to see the revocation", revoked_at_b)
    status = next(c for c in result["checks"] if c["number"] == 4)
    assert status["status"] == "INVALID"
    assert "revoked" in status["reasonCode"]

    # The auditor exports B's log once a checkpoint covers it, and it verifies against the chain.
    export = tmp_path / "b-export.jsonl"

    def export_is_anchored() -> bool:
        _cli(
            "audit", "export", "--out", str(export), "--url", b.url, "--token", tokens_b["auditor"]
        )
        lines = [json.loads(line) for line in export.read_text("utf-8").splitlines()]
        return any(line.get("type") == "checkpoint" for line in lines)

    _until("an anchored checkpoint of B's log", export_is_anchored)
    contracts = a.description["contracts"]
    checked = _cli(
        "audit", "verify", str(export), "--chain", b.description["rpcUrl"],
        "--chain-id", str(b.description["chainId"]),
        "--audit-anchor", contracts["AuditAnchor"]["address"],
        "--registry", contracts["IssuerRegistry"]["address"],
        "--data-dir", str(tmp_path / "auditor"),
    )  # fmt: skip
    assert "valid" in checked.stdout

    # The citizen sees B's verifications of their credential in their history at B.
    history = _cli("wallet", "history", *wallet, "--url", b.url).stdout
    assert "presentation.verify" in history
    assert "demo-verifier (440000)" in history
    assert "MISMATCH" not in history
