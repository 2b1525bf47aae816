"""wallet.js's offer functions (src/offer.js) redeem a real province's credential offer.

A province built by the service's own assembly on the test chain is served on 127.0.0.1; its
issuer system creates the offer through ``POST /credential-offers``; ``node`` runs the
committed bundle's ``readOffer`` and ``redeemOffer`` against it over HTTP, with a holder key made
in JS (OpenID4VCI 1.0 pre-authorized code flow: §4.1 offer by reference, §6 token, §7 nonce,
§8 credential, Appendix F.2 ``di_vp`` proof; docs/oid4vci.md). The credential JS received is
the one the province issued to the JS DID, and Python's verifier finds it VALID once anchored.
A wrong ``tx_code``, a second redemption and an expired offer are refused with the server's
error in words, naming no claim value.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from api.province import credential_offers as offers
from api.province.clients import Role
from api.webwallet import WALLET_MODULE
from credentials.cryptosuite import AUTHENTICATION, verify_proof
from credentials.did import parse_holder_verification_method
from ledger.crypto.errors import InvalidSignature
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import verify_at

DRIVER = Path(__file__).resolve().parent / "offer_driver.mjs"
LICENCE = "business-licence"
CLAIMS = dict(CLAIMS_BY_TEMPLATE[LICENCE])
PERSONAL_VALUES = [v for v in CLAIMS.values() if isinstance(v, str) and len(v) > 3]


def _run(calls: list[list[Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node, "node is missing: the browser module's tests run it under node"
    completed = subprocess.run(
        [node, str(DRIVER)],
        input=json.dumps({"bundle": str(WALLET_MODULE), "calls": calls}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "", completed.stderr
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


def _ok(result: dict[str, Any]) -> Any:
    assert "ok" in result, result.get("error")
    return result["ok"]


def _refused(result: dict[str, Any], expected: str) -> None:
    assert "error" in result, result
    assert result["error"] == f"OfferError: {expected}"
    for value in PERSONAL_VALUES:
        assert value not in result["error"]


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path) as served:
        yield served


def _offer(province: ServedProvince) -> tuple[str, str]:
    """A new offer's ``openid-credential-offer://`` link and its tx_code."""
    reply = province.request(
        "POST",
        "/credential-offers",
        Role.ISSUER,
        json_body={"template": LICENCE, "claims": CLAIMS, "txCodeDescription": "短信"},
        headers=PERSONAL,
    )
    assert reply.status == 201, reply.text
    answer = reply.json()
    assert answer["credentialOffer"].startswith("openid-credential-offer://")
    return answer["credentialOffer"], answer["txCode"]


def test_a_js_wallet_redeems_an_offer_and_the_credential_is_valid_for_its_did(
    province: ServedProvince,
) -> None:
    link, tx_code = _offer(province)
    key = _ok(_run([["newKey"]])[0])
    redeemed = _ok(_run([["redeem", link, tx_code, key["privateKey"]]])[0])
    origin = f"http://127.0.0.1:{province.server.port}"
    offer = redeemed["offer"]
    assert offer["credentialIssuer"] == origin
    assert offer["configurationId"] == LICENCE
    assert offer["txCode"] == {"length": 6, "inputMode": "numeric", "description": "短信"}
    assert offer["credentialEndpoint"] == f"{origin}/credential"
    credential = redeemed["credential"]
    assert credential["credentialSubject"]["id"] == key["did"]
    assert credential["issuer"] == province.did
    province.anchor_all()
    stored = province.request(
        "GET", f"/credentials/{redeemed['digest']}", Role.ISSUER, headers=PERSONAL
    )
    assert stored.status == 200, stored.text
    anchored = stored.json()["credential"]
    # The digest JS computed names the credential the province holds: the same one, anchored.
    assert anchored["credentialSubject"] == credential["credentialSubject"]
    assert anchored["proof"] == credential["proof"]
    assert verify_at(province, anchored)["verdict"] == "VALID"


def test_the_js_key_proof_verifies_as_the_server_checks_it(province: ServedProvince) -> None:
    key = _ok(_run([["newKey"]])[0])
    proof = _ok(_run([["keyProof", key["privateKey"], "nonce-1", "https://issuer.example"]])[0])
    signed = proof["proof"]
    assert signed["challenge"] == "nonce-1"
    assert signed["domain"] == "https://issuer.example"
    assert signed["proofPurpose"] == AUTHENTICATION
    assert proof["holder"] == key["did"]
    assert "verifiableCredential" not in proof
    did, public_key = parse_holder_verification_method(signed["verificationMethod"])
    assert did == key["did"]
    unsecured = {name: value for name, value in proof.items() if name != "proof"}
    verify_proof(unsecured, signed, public_key)
    tampered = {**unsecured, "holder": "did:key:zElsewhere"}
    with pytest.raises(InvalidSignature):
        verify_proof(tampered, signed, public_key)


def test_s6_3_a_wrong_tx_code_and_a_second_redemption_are_refused_in_words(
    province: ServedProvince,
) -> None:
    link, tx_code = _offer(province)
    key = _ok(_run([["newKey"]])[0])
    wrong = f"{(int(tx_code) + 1) % 1_000_000:06d}"
    short, wrong_try, first, second = _run(
        [
            ["redeem", link, "123", key["privateKey"]],
            ["redeem", link, wrong, key["privateKey"]],
            ["redeem", link, tx_code, key["privateKey"]],
            ["redeem", link, tx_code, key["privateKey"]],
        ]
    )
    _refused(short, "the tx_code is 6 digits")
    _refused(wrong_try, "the issuer refused (invalid_grant): wrong tx_code")
    _ok(first)
    _refused(second, "the issuer refused (invalid_request): the credential offer was already used")


def test_s6_3_an_expired_offer_is_refused_in_words(province: ServedProvince) -> None:
    context = province.context
    assert context.issuer is not None
    wanted = offers.OfferRequest(
        "issuer-app", "credential.issuance", "prc.pipl.art13", LICENCE, None, CLAIMS
    )
    created = offers.create(
        context.db, context.issuer.data_key, wanted, now_ms=context.clock() - offers.OFFER_TTL_MS
    )
    uri = f"http://127.0.0.1:{province.server.port}/credential-offers/{created.handle}"
    key = _ok(_run([["newKey"]])[0])
    link = "openid-credential-offer://?credential_offer_uri=" + quote(uri, safe="")
    (expired,) = _run([["redeem", link, created.tx_code, key["privateKey"]]])
    _refused(expired, "the issuer refused (invalid_request): the credential offer has expired")


def test_links_that_are_no_offer_are_refused_before_any_request() -> None:
    results = _run(
        [
            ["read", "openid4vp://?request_uri=https://x.example/r"],
            ["read", "openid-credential-offer://?credential_issuer=https://x.example"],
            ["read", "ftp://x.example/offer"],
            ["read", "not a link"],
        ]
    )
    wrong = "the offer must be openid-credential-offer://… or an http(s) URL"
    _refused(results[0], wrong)
    _refused(results[1], "the offer link has no single credential_offer_uri")
    _refused(results[2], wrong)
    _refused(results[3], wrong)
