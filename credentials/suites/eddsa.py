"""W3C "Data Integrity EdDSA Cryptosuites v1.0": ``eddsa-rdfc-2022`` and ``eddsa-jcs-2022``.

Both sign ``SHA-256(canonical proof configuration) || SHA-256(canonical document)`` with
Ed25519 (RFC 8032, 64-byte signature, ``proofValue`` base58btc multibase); the first
canonicalizes with RDFC-1.0 (§3.2), the second with JCS, RFC 8785 (§3.3). The key is an
Ed25519 Multikey (multicodec ``ed25519-pub``). The shared steps are in
``credentials.suites.data_integrity``.
"""

from __future__ import annotations

from credentials.suites.data_integrity import Suite, sha256

__all__ = ["EDDSA_JCS_2022", "EDDSA_RDFC_2022"]

EDDSA_RDFC_2022 = Suite("DataIntegrityProof", "eddsa-rdfc-2022", "rdfc", {"Ed25519": sha256})
"""``eddsa-rdfc-2022``: RDFC-1.0, SHA-256, Ed25519."""

EDDSA_JCS_2022 = Suite("DataIntegrityProof", "eddsa-jcs-2022", "jcs", {"Ed25519": sha256})
"""``eddsa-jcs-2022``: JCS, SHA-256, Ed25519."""
