"""The citizen's wallet: ``api.client.wallet`` in process, then ``tongban wallet`` processes.

The unit tests sign credentials locally as Zhejiang (its key-1 is scalar 1) and build
anchor proofs over in-memory Merkle trees: no chain. The process test runs the
whole citizen journey against two served provinces on the test chain.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.client.history import access_history, check_access_history
from api.client.remote import RemoteApi
from api.client.wallet import Wallet, WalletError, check_anchor_proof
from api.province.clients import Role
from credentials.anchor_proof import AnchorProof
from credentials.credential import IssueRequest, credential_digest, issue_credential
from credentials.did import issuer_verification_method
from ledger.crypto.signer import LocalSigner
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.tree import MemoryTree
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.credentials import DEGREE_CLAIMS, ZJ_KEY
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import FAST, ServedProvince, served_province

CHAIN_ID = 31337
PASSPHRASE = "correct horse battery staple"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _issue(holder: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    signer = LocalSigner(issuer_verification_method(CHAIN_ID, ZJ, "key-1"), ZJ_KEY)
    request = IssueRequest("degree-certificate", holder, claims or DEGREE_CLAIMS)
    return issue_credential(
        request, signer, chain_id=CHAIN_ID, issuer_id=ZJ, now_ms=1_780_000_000_000
    ).document


def _anchor_proof(digests: list[bytes], index: int) -> dict[str, Any]:
    tree = MemoryTree(SM3_TREE)
    for digest in digests:
        tree.append_data(digest)
    return AnchorProof(
        chain_id=CHAIN_ID,
        contract=CONTRACT,
        issuer_id=ZJ,
        root=tree.root(),
        leaf_index=index,
        tree_size=tree.size,
        audit_path=tuple(tree.inclusion_proof(index)),
        block_number=42,
    ).to_json()


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    return Wallet.create(tmp_path / "wallet", PASSPHRASE, kdf=FAST)


def test_a_wallet_reopens_with_its_passphrase_only(wallet: Wallet, tmp_path: Path) -> None:
    assert wallet.did.startswith("did:key:z")
    assert Wallet.open(wallet.directory, PASSPHRASE).did == wallet.did
    with pytest.raises(WalletError, match="wrong passphrase"):
        Wallet.open(wallet.directory, "not the passphrase")
    with pytest.raises(WalletError, match="already exists"):
        Wallet.create(wallet.directory, PASSPHRASE, kdf=FAST)
    with pytest.raises(WalletError, match="no wallet"):
        Wallet.open(tmp_path / "elsewhere", PASSPHRASE)
    # wallet.json naming another holder than the key is refused, not believed.
    meta = wallet.directory / "wallet.json"
    other = Wallet.create(tmp_path / "other", PASSPHRASE, kdf=FAST)
    meta.write_text(json.dumps({"format": "tongban-wallet/v1", "holder": other.did}))
    with pytest.raises(WalletError, match="names another holder"):
        Wallet.open(wallet.directory, PASSPHRASE)


def test_receive_stores_sealed_and_list_hides_claim_values(wallet: Wallet) -> None:
    credential = _issue(wallet.did)
    received = wallet.receive(credential)
    assert received.new
    digest = credential_digest(credential).hex()
    assert received.stored.digest == digest
    assert wallet.digests() == [digest]
    assert not wallet.receive(credential).new  # the same credential twice is kept once

    summary = wallet.credentials()[0].summary()
    assert summary["type"] == "DegreeCertificate"
    assert summary["issuer"] == credential["issuer"]
    assert summary["anchored"] is False
    assert "holderName" in summary["claims"]
    text = json.dumps(summary, ensure_ascii=False)
    for value in DEGREE_CLAIMS.values():
        assert str(value) not in text
    shown = wallet.credentials()[0].summary(show_claims=True)
    assert shown["claims"]["holderName"] == DEGREE_CLAIMS["holderName"]

    # At rest the credential is sealed: neither a claim nor the holder DID is readable.
    sealed = (wallet.directory / "credentials" / f"{digest}.sealed").read_bytes()
    assert DEGREE_CLAIMS["holderName"].encode() not in sealed
    assert wallet.did.encode() not in sealed
    # A sealed file renamed to another digest does not open.
    moved = wallet.directory / "credentials" / f"{'0' * 64}.sealed"
    moved.write_bytes(sealed)
    with pytest.raises(WalletError, match="damaged wallet entry"):
        wallet.get("0" * 64)


def test_receive_refuses_other_holders_and_tampered_credentials(
    wallet: Wallet, tmp_path: Path
) -> None:
    other = Wallet.create(tmp_path / "other", PASSPHRASE, kdf=FAST)
    with pytest.raises(WalletError, match="another holder"):
        wallet.receive(_issue(other.did))

    credential = _issue(wallet.did)
    changed_claim = copy.deepcopy(credential)
    changed_claim["disclosures"][0][2] = "tampered"
    with pytest.raises(WalletError, match="does not match the signed digests"):
        wallet.receive(changed_claim)

    changed_date = copy.deepcopy(credential)
    changed_date["validFrom"] = "2020-01-01T00:00:00Z"
    with pytest.raises(WalletError, match="signature does not verify"):
        wallet.receive(changed_date, issuer_public_key=ZJ_KEY.public_key)
    with pytest.raises(WalletError, match="not the one announced"):
        wallet.receive(credential, expected_digest="ab" * 32)

    extra_proof = copy.deepcopy(credential)
    extra_proof["proof"] = [credential["proof"], dict(credential["proof"])]
    with pytest.raises(WalletError, match="one issuer proof"):
        wallet.receive(extra_proof)
    with pytest.raises(WalletError, match="not a verifiable credential"):
        wallet.receive({"type": ["VerifiablePresentation"]})
    assert wallet.digests() == []  # nothing refused was stored

    wallet.receive(credential, issuer_public_key=ZJ_KEY.public_key)
    assert wallet.digests() == [credential_digest(credential).hex()]


def test_anchor_proofs_are_checked_then_presentations_disclose_only_the_chosen_claims(
    wallet: Wallet,
) -> None:
    credential = _issue(wallet.did)
    digest = credential_digest(credential)
    wallet.receive(credential)
    with pytest.raises(WalletError, match="no anchor proof yet"):
        wallet.present([(digest.hex(), ["degreeLevel"])], challenge="c", domain="d")

    siblings = [bytes([i]) * 32 for i in range(4)]
    good = _anchor_proof([*siblings[:2], digest, *siblings[2:]], 2)
    wrong_leaf = _anchor_proof([*siblings[:2], digest, *siblings[2:]], 1)
    with pytest.raises(WalletError, match="does not lead from this credential"):
        wallet.attach_anchor_proof(digest.hex(), wrong_leaf)
    other_issuer = {**good, "issuerId": GD}
    with pytest.raises(WalletError, match="another chain or issuer"):
        check_anchor_proof(digest, credential["issuer"], other_issuer)
    assert wallet.attach_anchor_proof(digest.hex(), good).anchored
    assert Wallet.open(wallet.directory, PASSPHRASE).get(digest.hex()[:10]).anchored

    presentation = wallet.present(
        [(digest.hex()[:12], ["degreeLevel", "awardingInstitution"])],
        challenge="challenge-1",
        domain="did:tongban:31337:2",
    )
    assert presentation["holder"] == wallet.did
    assert presentation["proof"]["challenge"] == "challenge-1"
    derived = presentation["verifiableCredential"][0]
    assert [d[1] for d in derived["disclosures"]] == [
        "/credentialSubject/awardingInstitution",
        "/credentialSubject/degreeLevel",
    ]
    assert DEGREE_CLAIMS["holderName"] not in json.dumps(presentation, ensure_ascii=False)
    with pytest.raises(WalletError, match="no disclosure for claim"):
        wallet.present([(digest.hex(), ["favouriteColour"])], challenge="c", domain="d")
    with pytest.raises(WalletError, match="8 to 64 lowercase hex"):
        wallet.get("abc")


# -- real processes against served provinces ------------------------------------------------


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
    )


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _url(province: ServedProvince) -> str:
    return f"http://127.0.0.1:{province.server.port}"


@pytest.fixture
def two_provinces(world: World, tmp_path: Path) -> Iterator[tuple[ServedProvince, ServedProvince]]:
    with (
        served_province(world, tmp_path, ZJ) as zj,
        served_province(world, tmp_path, GD) as gd,
    ):
        yield zj, gd


def test_the_citizen_journey_issue_receive_anchor_present_verify_and_history(
    two_provinces: tuple[ServedProvince, ServedProvince], tmp_path: Path
) -> None:
    zj, gd = two_provinces
    zj_url, gd_url = _url(zj), _url(gd)
    home = tmp_path / "wallet"

    # Created in process with the cheap test KDF (`wallet create` runs in its own test).
    holder = Wallet.create(home, PASSPHRASE, kdf=FAST).did

    # The issuing system issues to the holder; the credential goes to a file.
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps(DEGREE_CLAIMS, ensure_ascii=False), encoding="utf-8")
    issued_dir = tmp_path / "issued"
    issued = _json(
        _run(
            "issue",
            "--template",
            "degree-certificate",
            "--holder",
            holder,
            "--claims",
            str(claims),
            "--out",
            str(issued_dir),
            "--json",
            "--url",
            zj_url,
            "--token",
            zj.tokens[Role.ISSUER],
            wallet=home,
        )
    )
    digest = issued["digest"]
    assert issued["anchoring"]["state"] == "pending"
    credential_file = Path(issued["file"])
    assert credential_file.stat().st_mode & 0o077 == 0

    # Received with the issuer's signature checked against its DID document.
    received = _json(
        _run(
            "wallet",
            "receive",
            str(credential_file),
            "--json",
            "--url",
            gd_url,
            "--token",
            gd.tokens[Role.VERIFIER],
            wallet=home,
        )
    )
    assert received["digest"] == digest
    assert received["state"] == "stored"
    assert received["issuerSignatureChecked"] is True

    holder_token = {"TONGBAN_API_URL": zj_url, "TONGBAN_API_TOKEN": zj.tokens[Role.HOLDER]}
    before = _json(_run("wallet", "fetch-proofs", "--json", wallet=home, **holder_token))
    assert before["results"] == [{"digest": digest, "state": "pending"}]
    zj.anchor_all()
    after = _json(_run("wallet", "fetch-proofs", "--json", wallet=home, **holder_token))
    assert after["results"] == [{"digest": digest, "state": "anchored"}]
    listed = _run("wallet", "list", wallet=home)
    assert listed.returncode == 0, listed.stderr
    assert f"{digest}  DegreeCertificate  {zj.did}  anchored" in listed.stdout
    assert DEGREE_CLAIMS["holderName"] not in listed.stdout

    # Present two claims to Guangdong, with its challenge; Guangdong verifies: VALID.
    gd.sync()
    presentation_file = tmp_path / "presentation.json"
    presented = _run(
        "wallet",
        "present",
        digest[:16],
        "--claims",
        "degreeLevel,awardingInstitution",
        "--verifier",
        gd_url,
        "--token",
        gd.tokens[Role.VERIFIER],
        "--out",
        str(presentation_file),
        wallet=home,
    )
    assert presented.returncode == 0, presented.stderr
    presentation = json.loads(presentation_file.read_text(encoding="utf-8"))
    assert presentation["proof"]["domain"] == gd.did
    assert len(presentation["verifiableCredential"][0]["disclosures"]) == 2

    verifier = {"TONGBAN_API_URL": gd_url, "TONGBAN_API_TOKEN": gd.tokens[Role.VERIFIER]}
    valid = _run("verify", str(presentation_file), wallet=home, **verifier)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "VALID" in valid.stdout
    assert "anchor-inclusion" in valid.stdout

    # The citizen sees Guangdong's verifications in Guangdong's log, each checked.
    history = _run("wallet", "history", "--url", gd_url, "--json", wallet=home)
    report = _json(history)
    assert report["consistent"] is True
    actions = [r["action"] for r in report["records"]]
    assert actions.count("presentation.verify") == 1
    verification = next(r for r in report["records"] if r["action"] == "presentation.verify")
    assert verification["actor"] == "verifier-app"
    assert verification["actorOrg"] == "440000"
    assert verification["purpose"] == "credential.verification"
    assert verification["proof"] in ("receipt", "anchored")

    # Tampered answers are caught locally (in process: the same functions the CLI uses).
    wallet = Wallet.open(home, PASSPHRASE)
    gd_api = RemoteApi(gd_url)
    offer = gd_api.post("/citizen/challenge", {"holder": wallet.did})
    answer = gd_api.post(
        "/citizen/access-history",
        {
            "holder": wallet.did,
            "challenge": offer["challenge"],
            "signature": wallet.sign_access_request(offer["logId"], offer["challenge"]),
        },
    )
    answer["records"][0]["event"]["purpose"] = "something.else"
    tampered = check_access_history(answer, wallet.did, offer["logId"])
    assert tampered.entries[0].proof == "mismatch"
    assert not tampered.consistent
    assert access_history(wallet, gd_api).consistent

    # Zhejiang revokes; once final and synced at Guangdong, a fresh presentation is INVALID.
    issuer = {"TONGBAN_API_URL": zj_url, "TONGBAN_API_TOKEN": zj.tokens[Role.ISSUER]}
    revoked = _json(
        _run("revoke", digest, "--reason", "issued_in_error", "--json", wallet=home, **issuer)
    )
    assert revoked["requests"][0]["state"] == "pending"
    zj.anchor_all()
    gd.sync()
    again = tmp_path / "again.json"
    presented = _run(
        "wallet",
        "present",
        digest,
        "--claims",
        "degreeLevel",
        "--verifier",
        gd_url,
        "--token",
        gd.tokens[Role.VERIFIER],
        "--out",
        str(again),
        wallet=home,
    )
    assert presented.returncode == 0, presented.stderr
    stdin = again.read_text(encoding="utf-8")
    result = _json_result(_run("verify", "-", "--json", wallet=home, stdin=stdin, **verifier))
    assert result["verdict"] == "INVALID"
    status = next(c for c in result["checks"] if c["name"] == "status")
    assert status["status"] == "INVALID"


def _json_result(result: subprocess.CompletedProcess[str]) -> Any:
    """The JSON verdict of a `tongban verify --json` that is not VALID (exit status 1)."""
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)


def test_wallet_create_then_did_with_the_passphrase_from_the_environment(tmp_path: Path) -> None:
    home = tmp_path / "w"
    refused = _run("wallet", "create", wallet=home, TONGBAN_WALLET_PASSPHRASE="")
    assert refused.returncode == 2
    assert "TONGBAN_WALLET_PASSPHRASE" in refused.stderr
    assert not home.exists()

    created = _json(_run("wallet", "create", "--json", wallet=home))
    assert created["wallet"] == str(home)
    assert Wallet.open(home, PASSPHRASE).did == created["holder"]
    keys = list((home / "keys").glob("*.json"))
    assert len(keys) == 1
    assert keys[0].stat().st_mode & 0o077 == 0
    assert json.loads(keys[0].read_text())["kdf"]["n"] == 2**17  # production strength

    wrong = _run("wallet", "did", wallet=home, TONGBAN_WALLET_PASSPHRASE="wrong")
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("error: cannot unlock the wallet")
