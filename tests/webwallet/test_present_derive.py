"""wallet.js builds presentations as credentials/holder.py does, field for field.

Without the chain: the derived credential (disclosures cut to the chosen claims, sorted by
pointer in code point order, as Python sorts, which differs from UTF-16 order past U+FFFF)
equals ``derive_credential``'s; a JS presentation equals ``Holder.present``'s with the same key
and time except its random id and SM2 signature, and that signature verifies with
``credentials.cryptosuite.verify_proof``; purpose codes are accepted and refused by the same
rule as ``purpose_binding.is_purpose_code``; and a request object the CLI wallet refuses, JS
refuses with the same words.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from credentials.cryptosuite import verify_proof
from credentials.holder import Holder, derive_credential
from credentials.verify.purpose_binding import is_purpose_code
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.webwallet.jsside import JsError
from tests.webwallet.walletside import run_wallet, wallet_one

NAMES = ["z", "a~b", "a/b", "É", "\U0001f600", "\uff71", "b"]


def _pointer(name: str) -> str:
    return "/credentialSubject/" + name.replace("~", "~0").replace("/", "~1")


def _credential() -> dict[str, Any]:
    disclosures = [[secrets.token_urlsafe(16), _pointer(n), f"value {n}"] for n in NAMES]
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:key:zx", "_sd": ["digest"], "clear": 1},
        "disclosures": disclosures,
        "proof": [{"type": "DataIntegrityProof"}],
    }


def test_the_derived_credential_is_pythons_with_code_point_ordered_disclosures() -> None:
    credential = _credential()
    choices = [["\U0001f600", "\uff71", "a~b"], ["b", "z", "b"], [], NAMES]
    results = run_wallet([["derive", credential, c] for c in choices])
    for chosen, result in zip(choices, results, strict=True):
        assert result == derive_credential(credential, chosen)
        assert list(result) == list(derive_credential(credential, chosen))
    missing = wallet_one("derive", credential, ["clear"])
    assert isinstance(missing, JsError)
    assert "no disclosure" in missing.message


def test_a_js_presentation_is_holder_presents_but_for_its_id_and_signature() -> None:
    key = Sm2PrivateKey.generate()
    credential = _credential()
    options = {
        "challenge": "nonce-1",
        "domain": "did:tongban:1:440000",
        "purpose": "cross-province.enrolment",
        "createdMs": 1_765_000_000_123,
    }
    chosen: list[tuple[dict[str, Any], list[str]]] = [
        (credential, ["z", "\U0001f600"]),
        (credential, []),
    ]
    selections = [[c, claims] for c, claims in chosen]
    made = wallet_one("present", key.to_bytes().hex(), selections, options)
    expected = Holder(key).present(
        chosen,
        challenge="nonce-1",
        domain="did:tongban:1:440000",
        purpose="cross-province.enrolment",
        created_ms=1_765_000_000_123,
    )
    assert made["proof"]["created"] == "2025-12-06T05:46:40Z"
    assert made["id"].startswith("urn:uuid:")
    assert made["id"][23] == "4"
    assert made["id"] != expected["id"]
    assert {k: v for k, v in made.items() if k not in ("id", "proof")} == {
        k: v for k, v in expected.items() if k not in ("id", "proof")
    }
    assert list(made) == list(expected)
    without_value = {k: v for k, v in made["proof"].items() if k != "proofValue"}
    assert without_value == {k: v for k, v in expected["proof"].items() if k != "proofValue"}
    verify_proof({k: v for k, v in made.items() if k != "proof"}, made["proof"], key.public_key)


@pytest.mark.parametrize("count", [0, 51])
def test_a_presentation_of_no_or_too_many_credentials_is_refused(count: int) -> None:
    key = Sm2PrivateKey.generate().to_bytes().hex()
    refused = wallet_one(
        "present", key, [[_credential(), []]] * count, {"challenge": "c", "domain": "d"}
    )
    assert refused == JsError("PresentError: a presentation carries 1 to 50 credentials")


def test_purpose_codes_follow_the_verifiers_rule() -> None:
    codes: list[object] = [
        "cross-province.enrolment",
        "a",
        "a" * 64,
        "a" * 65,
        "Audit",
        "1abc",
        "a12345678",
        "a123456789",
        "a b",
        "",
        "审计",
        None,
        7,
    ]
    assert run_wallet([["isPurposeCode", c] for c in codes]) == [is_purpose_code(c) for c in codes]


def _request(**changes: Any) -> dict[str, Any]:
    uri = "https://verifier.example/oid4vp/responses/r1"
    document: dict[str, Any] = {
        "client_id": f"redirect_uri:{uri}",
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": uri,
        "nonce": "n",
        "state": "s",
        "dcql_query": {"credentials": [{"claims": [{"path": ["credentialSubject", "x"]}]}]},
        "client_metadata": {"tongban_domain": "did:tongban:1:440000"},
    }
    document.update(changes)
    return document


def test_request_objects_the_cli_wallet_refuses_are_refused_in_the_same_words() -> None:
    at = "https://verifier.example/oid4vp/requests/r1"
    cases = [
        (_request(response_mode="fragment"), "another response_mode than direct_post"),
        (_request(client_id="x"), "the client_id is not redirect_uri: of the response_uri"),
        (
            _request(
                response_uri="https://elsewhere.example/r",
                client_id="redirect_uri:https://elsewhere.example/r",
            ),
            "the response_uri is on another origin than the request",
        ),
        (_request(client_metadata={}), "the request names no verifier DID"),
        (
            _request(dcql_query={"credentials": [{"claims": [{"path": ["other", "x"]}]}]}),
            "the DCQL query asks for a claim outside credentialSubject",
        ),
        (_request(nonce=""), "the request object has no nonce"),
    ]
    results = run_wallet([["readRequest", document, at] for document, _ in cases])
    for (_, words), result in zip(cases, results, strict=True):
        assert isinstance(result, JsError)
        assert words in result.message
    read = wallet_one("readRequest", _request(), at)
    assert (read["nonce"], read["state"], read["claims"], read["purpose"]) == (
        "n",
        "s",
        ["x"],
        None,
    )
    assert wallet_one("requestUriOf", f"openid4vp://?request_uri={at}") == at
    assert isinstance(wallet_one("requestUriOf", "ftp://x/y"), JsError)
