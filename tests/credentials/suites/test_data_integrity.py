"""The shared Data Integrity steps (VC Data Integrity 1.0 §4.4, §4.5) around the suites."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from credentials.cryptosuite import create_proof
from credentials.did import holder_verification_method
from credentials.suites import SUPPORTED_SUITES, verify_proofs
from credentials.suites.data_integrity import MAX_PROOFS
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.credentials.suites.conftest import Vector, all_vectors, ed25519_2020_fixture

NOW = 1_800_000_000_000
ECDSA_P256 = next(v for v in all_vectors() if v.name == "ecdsa-rdfc-2019-p256")


def _did_key_document() -> dict[str, Any]:
    return copy.deepcopy(ECDSA_P256.document)


def _one(document: Any, purpose: str = "assertionMethod", now: int = NOW) -> Any:
    (result,) = verify_proofs(document, purpose=purpose, now_ms=now)
    return result


def test_supported_suites_are_named() -> None:
    assert set(SUPPORTED_SUITES) == {
        "eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019", "ecdsa-jcs-2019",
        "Ed25519Signature2020", "sm2-jcs-2026",
    }  # fmt: skip


def test_vc_di_4_4_proof_purpose_must_be_the_expected_one() -> None:
    result = _one(_did_key_document(), purpose="authentication")
    assert (result.verified, result.reason) == (False, "proof_purpose_mismatch")
    with pytest.raises(ValueError, match="purpose"):
        verify_proofs(_did_key_document(), purpose="capabilityInvocation")


def test_vc_di_4_4_expires_in_the_past_fails_and_created_in_the_future_fails() -> None:
    created_ms = 1_677_281_798_000  # the vectors' created, 2023-02-24T23:36:38Z
    result = _one(_did_key_document(), now=created_ms - 10 * 60 * 1000)
    assert result.reason == "proof_created_in_future"
    expired = _did_key_document()
    expired["proof"]["expires"] = "2024-01-01T00:00:00Z"
    assert _one(expired).reason == "proof_expired"
    malformed = _did_key_document()
    malformed["proof"]["created"] = "yesterday"
    assert _one(malformed).reason == "proof_malformed"


def test_vc_di_4_5_a_proof_set_verifies_each_proof_independently() -> None:
    document = _did_key_document()
    good = document["proof"]
    broken = {**good, "proofValue": good["proofValue"][:-1] + "1"}
    jcs = next(v for v in all_vectors() if v.name == "ecdsa-jcs-2019-p256").document["proof"]
    document["proof"] = [good, broken, jcs, {"type": "DataIntegrityProof", "cryptosuite": "x"}]
    results = verify_proofs(document, purpose="assertionMethod", now_ms=NOW)
    assert [r.index for r in results] == [0, 1, 2, 3]
    # the JCS proof was made alone over the same claims: each proof is checked on its own
    assert [r.verified for r in results] == [True, False, True, False]
    assert results[1].reason == "proof_signature_invalid"
    assert results[3].reason == "cryptosuite_unsupported"


def test_vc_di_4_5_the_jcs_proof_of_the_same_credential_verifies_in_a_set() -> None:
    rdfc = _did_key_document()
    jcs = next(v for v in all_vectors() if v.name == "ecdsa-jcs-2019-p256").document
    assert {k: v for k, v in rdfc.items() if k != "proof"} == {
        k: v for k, v in jcs.items() if k != "proof"
    }
    rdfc["proof"] = [rdfc["proof"], jcs["proof"]]
    assert [r.verified for r in verify_proofs(rdfc, purpose="assertionMethod", now_ms=NOW)] == [
        True,
        True,
    ]


def test_proof_chains_are_refused_with_a_reason() -> None:
    document = _did_key_document()
    document["proof"]["previousProof"] = "urn:uuid:1"
    assert _one(document).reason == "proof_chain_unsupported"


def test_challenge_and_domain_are_returned_to_the_caller() -> None:
    document = _did_key_document()
    document["proof"]["challenge"] = "c-123"
    document["proof"]["domain"] = ["https://a.example", "https://b.example"]
    result = _one(document)
    # the proof now covers members it was not signed with: it fails, yet reports them
    assert result.reason == "proof_signature_invalid"
    assert (result.challenge, result.domain) == (
        "c-123",
        ["https://a.example", "https://b.example"],
    )


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "document_invalid"),
        ({"@context": []}, "proof_missing"),
        ({"proof": []}, "proof_missing"),
        ({"proof": "text"}, "proof_malformed"),
        ({"proof": {"type": "RsaSignature2018"}}, "proof_type_unsupported"),
        ({"proof": {"type": "DataIntegrityProof"}}, "proof_malformed"),
    ],
)
def test_bad_input_gets_a_reason(document: Any, reason: str) -> None:
    assert _one(document).reason == reason


def test_proof_sets_are_capped() -> None:
    document = _did_key_document()
    document["proof"] = [document["proof"]] * (MAX_PROOFS + 1)
    results = verify_proofs(document, purpose="assertionMethod", now_ms=NOW)
    assert all(r.verified for r in results[:MAX_PROOFS])
    assert results[MAX_PROOFS].reason == "proof_set_too_large"


def test_ed25519_2020_requires_its_context() -> None:
    document = ed25519_2020_fixture()
    document["@context"] = document["@context"][:2]
    assert _one(document).reason == "proof_context_mismatch"


def test_sm2_jcs_2026_by_an_sm2_did_key_verifies_through_the_same_entry_point() -> None:
    key = Sm2PrivateKey.generate()
    method = holder_verification_method(key.public_key)
    signer = LocalSigner(method, key)
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": method.partition("#")[0],
    }
    document["proof"] = create_proof(
        document, signer, verification_method=method, proof_purpose="authentication",
        created="2026-01-01T00:00:00Z", challenge="n-1", domain="https://verifier.example",
    )  # fmt: skip
    result = _one(document, purpose="authentication")
    assert result.verified, result.reason
    assert (result.controller, result.challenge) == (method.partition("#")[0], "n-1")
    document["holder"] = "did:example:other"
    assert _one(document, purpose="authentication").reason == "proof_signature_invalid"


def test_messages_never_quote_document_values(vector: Vector) -> None:
    document = copy.deepcopy(vector.document)
    document["proof"]["proofPurpose"] = "SECRET-PURPOSE"
    document["proof"]["verificationMethod"] = "SECRET-METHOD"
    for purpose in ("assertionMethod", "authentication"):
        for result in verify_proofs(document, purpose=purpose, now_ms=NOW):
            assert "SECRET" not in (result.message or "")
