"""Verification of W3C Data Integrity proofs that Tongban did not make (foreign credentials).

Supported: ``eddsa-rdfc-2022``, ``eddsa-jcs-2022`` (Ed25519), ``ecdsa-rdfc-2019``,
``ecdsa-jcs-2019`` (P-256, P-384), the legacy ``Ed25519Signature2020``, and Tongban's own
``sm2-jcs-2026`` by a ``did:key`` SM2 key; verification methods as ``did:key`` resolved
locally, or through a caller's ``MethodResolver``. JSON-LD contexts come only from the
packaged allow-list; RDFC-1.0 is pyld's, capped in size, work and time.
``docs/foreign-credentials.md`` describes the choices and the figures.

Modules: ``verify`` (``verify_proofs``), ``data_integrity`` (the shared algorithm and
``ProofVerification``), ``multikey`` (keys and resolvers), ``rdfc`` (``canonize_rdfc``,
``CanonLimits``), and one module per suite family (``eddsa``, ``ecdsa``,
``ed25519_2020``, ``sm2_jcs``).
"""

from __future__ import annotations

from credentials.suites.data_integrity import ProofVerification
from credentials.suites.multikey import (
    DidKeyResolver,
    MethodResolver,
    PublicKey,
    ResolvedMethod,
    StaticMethods,
    UnresolvableMethodError,
    decode_public_key,
)
from credentials.suites.rdfc import (
    DEFAULT_LIMITS,
    CanonicalizationError,
    CanonLimits,
    canonize_rdfc,
)
from credentials.suites.verify import SUPPORTED_SUITES, verify_proofs

__all__ = [
    "DEFAULT_LIMITS",
    "SUPPORTED_SUITES",
    "CanonLimits",
    "CanonicalizationError",
    "DidKeyResolver",
    "MethodResolver",
    "ProofVerification",
    "PublicKey",
    "ResolvedMethod",
    "StaticMethods",
    "UnresolvableMethodError",
    "canonize_rdfc",
    "decode_public_key",
    "verify_proofs",
]
