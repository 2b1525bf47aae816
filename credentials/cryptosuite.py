"""The ``sm2-jcs-2026`` Data Integrity cryptosuite, modelled on W3C ``ecdsa-jcs-2019``.

Creating a proof over an unsecured document (a credential's secured form, or a
presentation without its proof):

1. proof configuration = the proof's options without ``proofValue``
   (``type`` "DataIntegrityProof", ``cryptosuite`` "sm2-jcs-2026", ``created``,
   ``verificationMethod``, ``proofPurpose``, and for presentations ``challenge``
   and ``domain``), with the document's ``@context`` copied in as ``@context``;
2. ``proofConfigHash = SM3(JCS(proof configuration))``;
3. ``documentHash = SM3(JCS(document))``;
4. ``hashData = proofConfigHash || documentHash`` (64 bytes);
5. signature = SM2 over ``hashData`` with the default user ID, i.e. over
   ``SM3(Z_A || hashData)``: raw 64 bytes ``r || s``;
6. ``proofValue = "z" + base58btc(r || s)``.

The embedded proof carries the options and ``proofValue`` but no ``@context``.
Verification recomputes steps 1-4 from the document and the proof and checks the
signature with the key of ``verificationMethod``. ``docs/cryptosuite.md`` has a
worked example with every intermediate value, which a test recomputes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import base58

from credentials.jcs import canonicalize
from ledger.crypto.signer import Signer
from ledger.crypto.sm2 import SIGNATURE_SIZE, Sm2PublicKey
from ledger.crypto.sm2 import verify as sm2_verify
from ledger.crypto.sm3 import sm3

__all__ = [
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "create_proof",
    "decode_proof_value",
    "encode_proof_value",
    "hash_data",
    "proof_configuration",
    "verify_proof",
]

CRYPTOSUITE = "sm2-jcs-2026"
PROOF_TYPE = "DataIntegrityProof"

ASSERTION = "assertionMethod"
AUTHENTICATION = "authentication"

_PROOF_VALUE_MAX = 100  # 64 bytes are at most 88 base58 characters


def proof_configuration(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """The proof configuration that is hashed: ``proof`` minus ``proofValue``, plus ``@context``."""
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    return config


def hash_data(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    *,
    document_hash: bytes | None = None,
) -> bytes:
    """``SM3(JCS(proof configuration)) || SM3(JCS(document))``: the 64 bytes that are signed.

    ``document_hash`` may be passed when the caller already has ``SM3(JCS(document))``
    (for a credential it is the credential digest).
    """
    config_hash = sm3(canonicalize(proof_configuration(document, proof)))
    doc_hash = document_hash if document_hash is not None else sm3(canonicalize(dict(document)))
    return config_hash + doc_hash


def encode_proof_value(signature: bytes) -> str:
    """``"z" + base58btc(r || s)``."""
    return "z" + base58.b58encode(signature).decode("ascii")


def decode_proof_value(value: object) -> bytes:
    """The 64-byte ``r || s`` in a ``proofValue``; ValueError if it is not exactly that."""
    if not isinstance(value, str) or not value.startswith("z") or len(value) > _PROOF_VALUE_MAX:
        raise ValueError("proofValue must be base58btc multibase ('z...')")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError:
        raise ValueError("proofValue is not valid base58btc") from None
    # base58 has one spelling per byte string (each leading "1" is one leading zero
    # byte), so a decoded length check is all the canonical-form check needed.
    if len(raw) != SIGNATURE_SIZE:
        raise ValueError("proofValue must encode exactly 64 bytes (r || s)")
    return raw


def create_proof(
    document: Mapping[str, Any],
    signer: Signer,
    *,
    verification_method: str,
    proof_purpose: str,
    created: str,
    challenge: str | None = None,
    domain: str | None = None,
    document_hash: bytes | None = None,
) -> dict[str, Any]:
    """An ``sm2-jcs-2026`` DataIntegrityProof over ``document`` (which has no ``proof``)."""
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    signature = signer.unsafe_sign_message(hash_data(document, proof, document_hash=document_hash))
    proof["proofValue"] = encode_proof_value(signature)
    return proof


def verify_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: Sm2PublicKey,
    *,
    document_hash: bytes | None = None,
) -> None:
    """Check ``proof`` over ``document`` with ``public_key``.

    Raises ValueError for a malformed ``proofValue`` and
    ``ledger.crypto.errors.InvalidSignature`` if the signature does not verify. The
    caller checks ``type``, ``cryptosuite``, ``proofPurpose`` and that the key belongs
    to ``verificationMethod``.
    """
    signature = decode_proof_value(proof.get("proofValue"))
    sm2_verify(public_key, hash_data(document, proof, document_hash=document_hash), signature)
