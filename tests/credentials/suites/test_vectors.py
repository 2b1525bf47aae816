"""The specifications' own vectors verify, their intermediate values match, and tampering fails.

Vectors: W3C vc-di-eddsa (eddsa-rdfc-2022, eddsa-jcs-2022), the vc-di-ecdsa Recommendation's
Appendix A (ecdsa-rdfc-2019 and ecdsa-jcs-2019 on P-256 and P-384) and digitalbazaar's
Ed25519Signature2020 fixture; provenance in ``tests/vectors/w3c-di/PROVENANCE.md``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import socket
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credentials.jcs import canonicalize
from credentials.suites import StaticMethods, canonize_rdfc, verify_proofs
from tests.credentials.suites.conftest import ED25519, ISSUER, P256, P384, VECTORS, Vector

NOW = 1_800_000_000_000  # 2027-01-15, after every vector's created


def _verify(document: dict[str, Any], resolver: StaticMethods) -> list[Any]:
    return verify_proofs(document, purpose="assertionMethod", now_ms=NOW, resolver=resolver)


def _text(relative: str) -> str:
    return (VECTORS / relative).read_text(encoding="utf-8")


def _unsecured(vector: Vector) -> dict[str, Any]:
    return {k: v for k, v in vector.document.items() if k != "proof"}


def test_every_vector_verifies(vector: Vector) -> None:
    (result,) = _verify(vector.document, vector.resolver)
    assert result.verified, (result.reason, result.message)
    assert result.reason is None
    assert result.index == 0
    assert result.verification_method == vector.document["proof"]["verificationMethod"]
    assert result.controller in {ISSUER, result.verification_method.partition("#")[0]}


def test_eddsa_3_2_canonical_proof_configuration_and_hashes() -> None:
    document = copy.deepcopy(json.loads(_text("vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json")))
    proof = document.pop("proof")
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    published = json.loads(_text("vc-di-eddsa/eddsa-rdfc-2022/proofConfigDataInt.json"))
    assert config == published
    canonical_config = canonize_rdfc(config)
    assert canonical_config == _text("vc-di-eddsa/eddsa-rdfc-2022/proofCanonDataInt.txt")
    combined = (
        hashlib.sha256(canonical_config.encode()).digest()
        + hashlib.sha256(canonize_rdfc(document).encode()).digest()
    )
    assert combined.hex() == _text("vc-di-eddsa/eddsa-rdfc-2022/combinedHashDataInt.txt")


def test_ecdsa_a_3_canonical_document_proof_configuration_and_hashes() -> None:
    document = json.loads(_text("vc-di-ecdsa/rec/example-37-ecdsa-rdfc-2019-p384-signed.json"))
    proof = document.pop("proof")
    canonical_document = canonize_rdfc(document)
    assert canonical_document == _text("vc-di-ecdsa/rec/example-29-canonical-credential.nq") + "\n"
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    canonical_config = canonize_rdfc(config)
    assert (
        canonical_config
        == _text("vc-di-ecdsa/rec/example-32-canonical-proof-options-p384.nq") + "\n"
    )
    combined = (
        hashlib.sha384(canonical_config.encode()).digest()
        + hashlib.sha384(canonical_document.encode()).digest()
    )
    assert combined.hex() == _text("vc-di-ecdsa/rec/example-34-combined-hashes-p384.txt")


@pytest.mark.parametrize(
    ("signed", "combined", "digest"),
    [
        ("example-59-ecdsa-jcs-2019-p256-signed.json",
         "example-56-combined-hashes-jcs-p256.txt", hashlib.sha256),
        ("example-70-ecdsa-jcs-2019-p384-signed.json",
         "example-67-combined-hashes-jcs-p384.txt", hashlib.sha384),
    ],
)  # fmt: skip
def test_ecdsa_a_5_a_6_jcs_proof_configuration_and_hashes(
    signed: str, combined: str, digest: Any
) -> None:
    document = json.loads(_text(f"vc-di-ecdsa/rec/{signed}"))
    proof = document.pop("proof")
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    if signed.endswith("p256-signed.json"):
        assert canonicalize(config).decode() == _text(
            "vc-di-ecdsa/rec/example-54-canonical-proof-options-jcs-p256.json"
        )
    hashes = digest(canonicalize(config)).digest() + digest(canonicalize(document)).digest()
    assert hashes.hex() == _text(f"vc-di-ecdsa/rec/{combined}")


def test_eddsa_3_3_jcs_canonical_document_and_signature() -> None:
    document = json.loads(_text("vc-di-eddsa/eddsa-jcs-2022/signedJCS.json"))
    proof = document.pop("proof")
    assert canonicalize(document).decode() == _text("vc-di-eddsa/eddsa-jcs-2022/canonDocJCS.txt")
    signature = base58.b58decode(proof["proofValue"][1:])
    assert signature.hex() == _text("vc-di-eddsa/eddsa-jcs-2022/sigHexJCS.txt")


def test_every_single_byte_mutation_of_the_proof_value_fails(vector: Vector) -> None:
    signature = bytearray(base58.b58decode(vector.document["proof"]["proofValue"][1:]))
    for position in range(len(signature)):
        mutated = bytearray(signature)
        mutated[position] ^= 0x01
        document = copy.deepcopy(vector.document)
        document["proof"]["proofValue"] = "z" + base58.b58encode(bytes(mutated)).decode()
        (result,) = _verify(document, vector.resolver)
        assert not result.verified, position
        assert result.reason == "proof_signature_invalid", position


def _change_one_character(value: Any) -> Any:
    if isinstance(value, str):
        return value[:-1] + ("A" if value[-1] != "A" else "B")
    if isinstance(value, list):
        return [_change_one_character(value[0]), *value[1:]]
    raise AssertionError("vectors hold only strings and lists of strings in proofs")


def test_a_one_character_change_to_each_proof_member_fails(vector: Vector) -> None:
    for member in vector.document["proof"]:
        if member == "proofValue":
            continue
        document = copy.deepcopy(vector.document)
        document["proof"][member] = _change_one_character(document["proof"][member])
        (result,) = _verify(document, vector.resolver)
        assert not result.verified, member
        assert result.reason is not None
        assert "urn:uuid" not in (result.message or "")


def test_a_one_character_change_to_a_claim_fails(vector: Vector) -> None:
    document = copy.deepcopy(vector.document)
    document["credentialSubject"]["alumniOf"] = "The School of Examplez"
    (result,) = _verify(document, vector.resolver)
    assert not result.verified
    assert result.reason == "proof_signature_invalid"
    assert "Examplez" not in (result.message or "")


def _fresh_multikey(algorithm_of: str) -> str:
    """A new public key of the same algorithm as ``algorithm_of``, as ``publicKeyMultibase``."""
    if algorithm_of == ED25519:
        raw = (
            ed25519.Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        prefix = b"\xed\x01"
    else:
        curve, prefix = (
            (ec.SECP256R1(), b"\x80\x24") if algorithm_of == P256 else (ec.SECP384R1(), b"\x81\x24")
        )
        raw = (
            ec.generate_private_key(curve)
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        )
    return "z" + base58.b58encode(prefix + raw).decode()


def test_a_proof_checked_with_another_key_of_the_same_algorithm_fails(vector: Vector) -> None:
    method = vector.document["proof"]["verificationMethod"]
    own = method.rpartition("#")[2]
    assert own in {ED25519, P256, P384}
    other = _fresh_multikey(own)
    resolver = StaticMethods({method: (method.partition("#")[0], other)})
    (result,) = _verify(vector.document, resolver)
    assert not result.verified
    assert result.reason == "proof_signature_invalid"


def test_a_key_of_another_algorithm_is_refused_before_any_signature_check(vector: Vector) -> None:
    method = vector.document["proof"]["verificationMethod"]
    own = method.rpartition("#")[2]
    other = _fresh_multikey(P384 if own == ED25519 else ED25519)
    resolver = StaticMethods({method: (method.partition("#")[0], other)})
    (result,) = _verify(vector.document, resolver)
    assert not result.verified
    assert result.reason == "verification_method_key_mismatch"


def test_a_did_key_method_whose_fragment_is_not_the_key_is_refused(vector: Vector) -> None:
    document = copy.deepcopy(vector.document)
    key = document["proof"]["verificationMethod"].rpartition("#")[2]
    document["proof"]["verificationMethod"] = f"did:key:{key}#key-1"
    (result,) = verify_proofs(document, purpose="assertionMethod", now_ms=NOW)
    assert not result.verified
    assert result.reason == "verification_method_unresolvable"


def test_a_vector_with_a_context_outside_the_allow_list_is_refused_without_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the verifier tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    document = json.loads(_text("vc-di-ecdsa/rec/example-15-ecdsa-rdfc-2019-p256-signed.json"))
    # The Recommendation's employment examples use this context, which is not packaged.
    document["@context"] = [*document["@context"], "https://w3id.org/citizenship/v4rc1"]
    (result,) = verify_proofs(document, purpose="assertionMethod", now_ms=NOW)
    assert not result.verified
    assert result.reason == "context_not_allowed"
    assert "citizenship" not in (result.message or "")
