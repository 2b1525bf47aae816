"""`tongban wallet present --purpose` and the purposes in `tongban wallet history` (用证事由).

One served province issues, verifies and keeps the log; the commands run as the
citizen and the verifier would run them, in their own processes.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.client.wallet import Wallet
from api.province.clients import Role
from tests.helpers.contracts import ZJ, World
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import FAST, ServedProvince, served_province

PASSPHRASE = "correct horse battery staple"


def _run(
    *args: str, wallet: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = tongban_env(
        **{"TONGBAN_WALLET": str(wallet), "TONGBAN_WALLET_PASSPHRASE": PASSPHRASE, **env}
    )
    return subprocess.run(
        [TONGBAN, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path, ZJ) as zj:
        yield zj


def _stored_credential(zj: ServedProvince, url: str, home: Path, tmp_path: Path) -> str:
    holder = Wallet.create(home, PASSPHRASE, kdf=FAST).did
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps(DEGREE_CLAIMS, ensure_ascii=False), encoding="utf-8")
    issuer = {"TONGBAN_API_URL": url, "TONGBAN_API_TOKEN": zj.tokens[Role.ISSUER]}
    issued = _run(
        "issue",
        "--template",
        "degree-certificate",
        "--holder",
        holder,
        "--claims",
        str(claims),
        "--out",
        str(tmp_path / "issued"),
        "--json",
        wallet=home,
        **issuer,
    )
    assert issued.returncode == 0, issued.stderr
    answer = json.loads(issued.stdout)
    verifier = {"TONGBAN_API_URL": url, "TONGBAN_API_TOKEN": zj.tokens[Role.VERIFIER]}
    received = _run("wallet", "receive", answer["file"], wallet=home, **verifier)
    assert received.returncode == 0, received.stderr
    zj.anchor_all()
    holder_env = {"TONGBAN_API_URL": url, "TONGBAN_API_TOKEN": zj.tokens[Role.HOLDER]}
    fetched = _run("wallet", "fetch-proofs", wallet=home, **holder_env)
    assert fetched.returncode == 0, fetched.stderr
    return str(answer["digest"])


def _present(zj: ServedProvince, url: str, home: Path, digest: str, *extra: str) -> str:
    presented = _run(
        "wallet",
        "present",
        digest,
        "--verifier",
        url,
        "--token",
        zj.tokens[Role.VERIFIER],
        *extra,
        wallet=home,
    )
    assert presented.returncode == 0, presented.stderr
    assert "not in the purpose catalogue" not in presented.stderr
    return presented.stdout


def _verify(zj: ServedProvince, url: str, home: Path, presentation: str) -> Any:
    verifier = {"TONGBAN_API_URL": url, "TONGBAN_API_TOKEN": zj.tokens[Role.VERIFIER]}
    # tongban verify declares X-Purpose credential.verification unless told otherwise.
    result = _run("verify", "-", "--json", wallet=home, stdin=presentation, **verifier)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_a_presentation_bound_with_present_purpose_is_checked_against_the_declared_one(
    zhejiang: ServedProvince, tmp_path: Path
) -> None:
    zj = zhejiang
    url = f"http://127.0.0.1:{zj.server.port}"
    home = tmp_path / "wallet"
    digest = _stored_credential(zj, url, home, tmp_path)

    bound = _present(zj, url, home, digest, "--purpose", "credential.verification")
    assert json.loads(bound)["termsOfUse"] == {
        "type": "TongbanPurposeOfUse",
        "purpose": "credential.verification",
    }
    assert _verify(zj, url, home, bound)["verdict"] == "VALID"

    other = _present(zj, url, home, digest, "--purpose", "audit.review")
    refused = _verify(zj, url, home, other)
    assert refused["verdict"] == "INVALID"
    presentation = next(c for c in refused["checks"] if c["number"] == 6)
    assert (presentation["status"], presentation["reasonCode"]) == ("INVALID", "purpose_mismatch")

    # The citizen's history names each purpose in Chinese and English.
    history = _run("wallet", "history", "--url", url, wallet=home)
    assert history.returncode == 0, history.stderr
    assert "credential.verification (核验电子证照 / Verifying an electronic certificate)" in (
        history.stdout
    )
    report = json.loads(_run("wallet", "history", "--url", url, "--json", wallet=home).stdout)
    labels = {r["purposeLabel"]["code"]: r["purposeLabel"] for r in report["records"]}
    assert labels["credential.verification"]["zh"] == "核验电子证照"
    assert labels["credential.verification"]["listed"] is True
    # Both verifications are logged under the purpose the verifier declared.
    verified = [r for r in report["records"] if r["action"] == "presentation.verify"]
    assert [(r["purpose"], r["outcome"]) for r in verified] == [
        ("credential.verification", "success"),
        ("credential.verification", "invalid"),
    ]

    # A well-formed code the catalogue lacks is bound all the same, with a note.
    presented = _run(
        "wallet",
        "present",
        digest,
        "--challenge",
        "c",
        "--domain",
        zj.did,
        "--purpose",
        "local.pilot",
        wallet=home,
    )
    assert presented.returncode == 0, presented.stderr
    assert json.loads(presented.stdout)["termsOfUse"]["purpose"] == "local.pilot"
    assert "not in the purpose catalogue" in presented.stderr


def test_present_refuses_a_malformed_purpose_in_one_line(
    zhejiang: ServedProvince, tmp_path: Path
) -> None:
    zj = zhejiang
    url = f"http://127.0.0.1:{zj.server.port}"
    home = tmp_path / "wallet"
    digest = _stored_credential(zj, url, home, tmp_path)
    refused = _run(
        "wallet",
        "present",
        digest,
        "--challenge",
        "c",
        "--domain",
        zj.did,
        "--purpose",
        "Enrolment 110101199003071234",
        wallet=home,
    )
    assert refused.returncode != 0
    assert "purpose code" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "110101199003071234" not in refused.stderr
