"""The entry point: verify every Data Integrity proof of a foreign credential or presentation.

``verify_proofs`` takes a parsed JSON document (a credential or a presentation), its
expected proof purpose (``assertionMethod`` for credentials, ``authentication`` for
presentations) and optionally the current time and a resolver for verification methods
that are not ``did:key``. It returns one ``ProofVerification`` per proof (``proof`` as one
object or as a proof set), never raises for bad input, and fetches nothing.
"""

from __future__ import annotations

from typing import Any

from credentials.suites.data_integrity import (
    MAX_PROOFS,
    ProofVerification,
    Suite,
    VerificationContext,
    verify_one,
)
from credentials.suites.ecdsa import ECDSA_JCS_2019, ECDSA_RDFC_2019
from credentials.suites.ed25519_2020 import ED25519_SIGNATURE_2020
from credentials.suites.eddsa import EDDSA_JCS_2022, EDDSA_RDFC_2022
from credentials.suites.multikey import (
    ASSERTION_METHOD,
    AUTHENTICATION,
    DidKeyResolver,
    MethodResolver,
)
from credentials.suites.rdfc import (
    DEFAULT_LIMITS,
    CanonicalizationError,
    CanonLimits,
    check_document_shape,
)
from credentials.suites.sm2_jcs import SM2_JCS_2026
from ledger.clock import now_ms as clock_now_ms

__all__ = ["SUITES", "SUPPORTED_SUITES", "verify_proofs"]

SUITES: tuple[Suite, ...] = (
    EDDSA_RDFC_2022,
    EDDSA_JCS_2022,
    ECDSA_RDFC_2019,
    ECDSA_JCS_2019,
    ED25519_SIGNATURE_2020,
    SM2_JCS_2026,
)
"""Every suite ``verify_proofs`` knows, keyed below by (proof type, cryptosuite)."""

SUPPORTED_SUITES: tuple[str, ...] = tuple(suite.name for suite in SUITES)
"""Names of the supported cryptosuites and legacy proof types, for documentation."""

_BY_KEY = {(suite.proof_type, suite.cryptosuite): suite for suite in SUITES}
_PURPOSES = frozenset({ASSERTION_METHOD, AUTHENTICATION})


def _whole_document_failure(reason: str, message: str) -> list[ProofVerification]:
    return [ProofVerification(0, None, None, None, None, False, reason, message)]


def verify_proofs(
    document: dict[str, Any],
    *,
    purpose: str,
    now_ms: int | None = None,
    resolver: MethodResolver | None = None,
    limits: CanonLimits = DEFAULT_LIMITS,
) -> list[ProofVerification]:
    """Verify each proof of ``document`` independently; one result per proof, in order.

    ``purpose`` is ``"assertionMethod"`` (credentials) or ``"authentication"``
    (presentations); any other value is a programming error (``ValueError``).
    ``now_ms`` defaults to the project clock. ``resolver`` defaults to ``did:key`` only.
    The document verifies when the list is non-empty and every entry is ``verified``;
    a document-wide failure (no proof, not an object, over a cap) is one entry at index 0.
    """
    if purpose not in _PURPOSES:
        raise ValueError("purpose must be 'assertionMethod' or 'authentication'")
    if not isinstance(document, dict):
        return _whole_document_failure("document_invalid", "document is not a JSON object")
    try:
        check_document_shape(document, limits)
    except CanonicalizationError as error:
        return _whole_document_failure(error.reason, str(error))
    proofs = document.get("proof")
    if proofs is None:
        return _whole_document_failure("proof_missing", "document has no proof member")
    proof_list = proofs if isinstance(proofs, list) else [proofs]
    if not proof_list:
        return _whole_document_failure("proof_missing", "document has an empty proof set")
    context = VerificationContext(
        purpose=purpose,
        now_ms=clock_now_ms() if now_ms is None else now_ms,
        resolver=resolver if resolver is not None else DidKeyResolver(),
        limits=limits,
        canonical_documents={},
    )
    results: list[ProofVerification] = []
    for index, proof in enumerate(proof_list):
        if index >= MAX_PROOFS:
            results.append(
                ProofVerification(
                    index,
                    None,
                    None,
                    None,
                    None,
                    False,
                    "proof_set_too_large",
                    f"only the first {MAX_PROOFS} proofs of a set are verified",
                )
            )
            continue
        results.append(verify_one(index, document, proof, _BY_KEY, context))
    return results
