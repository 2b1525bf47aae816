"""The W3C Data Integrity verification algorithm shared by every suite of this package.

Follows "Verifiable Credential Data Integrity 1.0" §4.4 (Verify Proof) and §4.5 (proof
sets), and the cryptosuites' common "Verify Proof" steps (EdDSA §3.2.2/§3.3.2, ECDSA
§3.2.2/§3.3.2):

1. The proof must be an object with ``type``, ``verificationMethod``, ``proofPurpose``
   and ``proofValue`` strings (``cryptosuite`` too for ``DataIntegrityProof``);
   ``previousProof`` (proof chains) is refused: this package verifies proof sets only.
2. ``proofPurpose`` must be the caller's expected purpose; ``created`` and ``expires``,
   when present, must be XML Schema ``dateTimeStamp`` values; ``expires`` must not be
   past and ``created`` not in the future (beyond ``CLOCK_SKEW_MS``).
3. ``unsecuredDocument`` is the document without ``proof``; ``proofOptions`` the proof
   without ``proofValue``. If ``proofOptions`` has ``@context``, the document's
   ``@context`` must start with the same values in the same order, and
   ``unsecuredDocument.@context`` becomes ``proofOptions.@context``.
4. ``proofConfig`` is ``proofOptions`` with ``@context`` set to the unsecured document's;
   both are canonicalized (RDFC-1.0 or JCS per suite), hashed with the suite's hash, and
   ``hashData = hash(proofConfig) || hash(document)``.
5. ``proofValue`` (multibase base58btc) is checked as a signature over ``hashData`` with
   the key of ``verificationMethod``.

Each proof of a set is verified on its own against the document without any proof.
Every outcome is a ``ProofVerification``; failures carry a stable snake_case ``reason``
and a message that names members, never document values.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import base58

from credentials.errors import InputRejectedError
from credentials.jcs import canonicalize as jcs_canonicalize
from credentials.suites.multikey import (
    Algorithm,
    MethodResolver,
    ResolvedMethod,
    UnresolvableMethodError,
)
from credentials.suites.rdfc import CanonicalizationError, CanonLimits, canonize_rdfc
from ledger.crypto.errors import InvalidSignature

__all__ = [
    "CLOCK_SKEW_MS",
    "MAX_PROOFS",
    "ProofVerification",
    "Suite",
    "VerificationContext",
    "sha256",
    "sha384",
    "verify_one",
]

CLOCK_SKEW_MS = 5 * 60 * 1000
"""How far in the future a proof's ``created`` may be (clocks differ)."""

MAX_PROOFS = 8
"""Proofs verified in one proof set; later ones are refused (``proof_set_too_large``)."""

_SIGNATURE_SIZES: dict[Algorithm, int] = {"Ed25519": 64, "P-256": 64, "P-384": 96, "SM2": 64}
_MAX_PROOF_VALUE = 200
_DATE_TIME_STAMP = re.compile(
    r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def sha256(data: bytes) -> bytes:
    """SHA-256 (the hash of Ed25519, P-256 and the legacy suite)."""
    return hashlib.sha256(data).digest()


def sha384(data: bytes) -> bytes:
    """SHA-384 (the hash of P-384)."""
    return hashlib.sha384(data).digest()


@dataclass(frozen=True)
class Suite:
    """What one proof type or cryptosuite does differently; the algorithm is shared."""

    proof_type: str
    cryptosuite: str | None
    canonicalization: Literal["rdfc", "jcs"]
    hashes: Mapping[Algorithm, Callable[[bytes], bytes]]
    """The key algorithms the suite accepts, each with the hash it uses."""
    required_context: str | None = None
    """A context the document must list (the legacy suite's own terms), or None."""
    hash_data: Callable[[dict[str, Any], dict[str, Any]], bytes] | None = None
    """Overrides steps 3-4 (unsecured document, proof) -> hashData, for a suite of our own."""

    @property
    def name(self) -> str:
        """The cryptosuite name, or the proof type for a legacy suite."""
        return self.cryptosuite or self.proof_type


@dataclass(frozen=True)
class ProofVerification:
    """The outcome of one proof: who made it, for what, and whether it verified.

    ``reason`` and ``message`` are None when ``verified``; otherwise ``reason`` is a
    stable snake_case code and ``message`` names members or positions, never values.
    ``challenge`` and ``domain`` are returned for the caller to enforce.
    """

    index: int
    type: str | None
    cryptosuite: str | None
    verification_method: str | None
    controller: str | None
    verified: bool
    reason: str | None = None
    message: str | None = None
    created: str | None = None
    expires: str | None = None
    challenge: str | None = None
    domain: str | list[str] | None = None


@dataclass
class VerificationContext:
    """What the proofs of one document share: purpose, time, resolver, limits, caches."""

    purpose: str
    now_ms: int
    resolver: MethodResolver
    limits: CanonLimits
    canonical_documents: dict[str, bytes]


class _RefusedError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _parse_time(value: object, member: str) -> int:
    if not isinstance(value, str) or not _DATE_TIME_STAMP.fullmatch(value):
        raise _RefusedError("proof_malformed", f"proof.{member} is not an XML Schema dateTimeStamp")
    text = value.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{(rest[:digits] + '000000')[:6]}{rest[digits:]}"
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1000)
    except (ValueError, OverflowError):
        raise _RefusedError("proof_malformed", f"proof.{member} is not a valid date-time") from None


def _string(proof: Mapping[str, Any], member: str) -> str:
    value = proof.get(member)
    if not isinstance(value, str) or not value:
        raise _RefusedError("proof_malformed", f"proof.{member} is missing or not a string")
    return value


def _contexts(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _canonical(kind: str, document: dict[str, Any], context: VerificationContext) -> bytes:
    try:
        if kind == "jcs":
            return jcs_canonicalize(document)
        return canonize_rdfc(document, context.limits).encode("utf-8")
    except CanonicalizationError as error:
        raise _RefusedError(error.reason, str(error)) from None
    except (ValueError, InputRejectedError):
        raise _RefusedError(
            "document_invalid", "document cannot be canonicalized as JSON"
        ) from None


def _document_bytes(kind: str, document: dict[str, Any], context: VerificationContext) -> bytes:
    # Proofs of one set share the unsecured document; only its @context can differ.
    key = kind + json.dumps(document.get("@context"), sort_keys=True)
    cached = context.canonical_documents.get(key)
    if cached is None:
        cached = _canonical(kind, document, context)
        context.canonical_documents[key] = cached
    return cached


def _proof_value(value: str, algorithm: Algorithm) -> bytes:
    if not value.startswith("z") or len(value) > _MAX_PROOF_VALUE or not value.isascii():
        raise _RefusedError("proof_value_invalid", "proof.proofValue is not base58btc multibase")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError:
        raise _RefusedError(
            "proof_value_invalid", "proof.proofValue is not valid base58btc"
        ) from None
    if len(raw) != _SIGNATURE_SIZES[algorithm]:
        raise _RefusedError(
            "proof_value_invalid", "proof.proofValue has the wrong length for its key"
        )
    return raw


def _resolve(method_id: str, suite: Suite, context: VerificationContext) -> ResolvedMethod:
    try:
        method = context.resolver.resolve(method_id)
    except UnresolvableMethodError as error:
        raise _RefusedError("verification_method_unresolvable", str(error)) from None
    if context.purpose not in method.purposes:
        raise _RefusedError(
            "verification_method_not_authorized",
            "proof.verificationMethod is not authorized for the proof purpose",
        )
    if method.key.algorithm not in suite.hashes:
        raise _RefusedError(
            "verification_method_key_mismatch",
            "proof.verificationMethod holds a key of another algorithm than the suite's",
        )
    return method


def _hash_data(
    suite: Suite,
    unsecured: dict[str, Any],
    options: dict[str, Any],
    algorithm: Algorithm,
    context: VerificationContext,
) -> bytes:
    if suite.hash_data is not None:
        try:
            return suite.hash_data(unsecured, options)
        except ValueError:
            raise _RefusedError(
                "document_invalid", "document cannot be canonicalized as JSON"
            ) from None
    config = dict(options)
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    digest = suite.hashes[algorithm]
    config_bytes = _canonical(suite.canonicalization, config, context)
    document_bytes = _document_bytes(suite.canonicalization, unsecured, context)
    return digest(config_bytes) + digest(document_bytes)


def _check(
    document: dict[str, Any],
    proof: dict[str, Any],
    suite: Suite,
    context: VerificationContext,
) -> tuple[ResolvedMethod, str | None, str | None]:
    method_id = _string(proof, "verificationMethod")
    purpose = _string(proof, "proofPurpose")
    value = _string(proof, "proofValue")
    if "previousProof" in proof:
        raise _RefusedError(
            "proof_chain_unsupported", "proof.previousProof (proof chains) is refused"
        )
    if purpose != context.purpose:
        raise _RefusedError(
            "proof_purpose_mismatch", "proof.proofPurpose is not the expected purpose"
        )
    created = expires = None
    if "created" in proof:
        created = proof["created"]
        if _parse_time(created, "created") > context.now_ms + CLOCK_SKEW_MS:
            raise _RefusedError("proof_created_in_future", "proof.created is in the future")
    if "expires" in proof:
        expires = proof["expires"]
        if _parse_time(expires, "expires") < context.now_ms:
            raise _RefusedError("proof_expired", "proof.expires is past")
    method = _resolve(method_id, suite, context)
    signature = _proof_value(value, method.key.algorithm)
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options:
        wanted = _contexts(options["@context"])
        if _contexts(unsecured.get("@context"))[: len(wanted)] != wanted:
            raise _RefusedError(
                "proof_context_mismatch", "document @context does not start with proof.@context"
            )
        unsecured["@context"] = options["@context"]
    if suite.required_context and suite.required_context not in _contexts(
        unsecured.get("@context")
    ):
        raise _RefusedError("proof_context_mismatch", "document @context lacks the suite's context")
    hash_data = _hash_data(suite, unsecured, options, method.key.algorithm, context)
    try:
        method.key.verify(hash_data, signature)
    except InvalidSignature:
        raise _RefusedError("proof_signature_invalid", "proof.proofValue does not verify") from None
    return method, created, expires


def _domain(proof: Mapping[str, Any]) -> str | list[str] | None:
    value = proof.get("domain")
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(item, str) for item in value)
    ):
        return value
    return None


def verify_one(
    index: int,
    document: dict[str, Any],
    proof: Any,
    suites: Mapping[tuple[str, str | None], Suite],
    context: VerificationContext,
) -> ProofVerification:
    """Verify proof number ``index`` of ``document`` (its ``proof`` set member ``proof``)."""
    if not isinstance(proof, dict):
        return ProofVerification(
            index, None, None, None, None, False, "proof_malformed", "proof is not an object"
        )
    kind = proof.get("type") if isinstance(proof.get("type"), str) else None
    suite_name = proof.get("cryptosuite") if isinstance(proof.get("cryptosuite"), str) else None
    method_id = proof.get("verificationMethod")
    method_text = method_id if isinstance(method_id, str) else None
    challenge = proof.get("challenge") if isinstance(proof.get("challenge"), str) else None

    def refused(reason: str, message: str, controller: str | None = None) -> ProofVerification:
        return ProofVerification(
            index,
            kind,
            suite_name,
            method_text,
            controller,
            False,
            reason,
            message,
            challenge=challenge,
            domain=_domain(proof),
        )

    if kind is None:
        return refused("proof_malformed", "proof.type is missing or not a string")
    if kind == "DataIntegrityProof" and suite_name is None:
        return refused("proof_malformed", "proof.cryptosuite is missing or not a string")
    suite = suites.get((kind, suite_name if kind == "DataIntegrityProof" else None))
    if suite is None:
        if kind == "DataIntegrityProof":
            return refused("cryptosuite_unsupported", "proof.cryptosuite is not supported")
        return refused("proof_type_unsupported", "proof.type is not supported")
    try:
        method, created, expires = _check(document, proof, suite, context)
    except _RefusedError as error:
        return refused(error.reason, str(error))
    return ProofVerification(
        index, kind, suite_name, method_text, method.controller, True,
        created=created, expires=expires, challenge=challenge, domain=_domain(proof),
    )  # fmt: skip
