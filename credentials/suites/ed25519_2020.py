"""The legacy ``Ed25519Signature2020`` proof type (W3C CCG, and vc-di-eddsa's legacy section).

Same steps as ``eddsa-rdfc-2022`` (RDFC-1.0, SHA-256 of proof configuration and document,
Ed25519 over their concatenation) with ``type`` ``Ed25519Signature2020`` and no
``cryptosuite``. Its terms are defined by ``https://w3id.org/security/suites/ed25519-2020/v1``,
which the document's ``@context`` must list: without it the proof's members would only be
caught by a vocabulary default and the signature would cover terms nobody defined.
"""

from __future__ import annotations

from credentials.contexts import ED25519_2020_V1
from credentials.suites.data_integrity import Suite, sha256

__all__ = ["ED25519_SIGNATURE_2020"]

ED25519_SIGNATURE_2020 = Suite(
    "Ed25519Signature2020", None, "rdfc", {"Ed25519": sha256}, required_context=ED25519_2020_V1
)
"""``Ed25519Signature2020``: RDFC-1.0, SHA-256, Ed25519, the suite context required."""
