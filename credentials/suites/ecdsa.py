"""W3C "Data Integrity ECDSA Cryptosuites v1.0": ``ecdsa-rdfc-2019`` and ``ecdsa-jcs-2019``.

Both sign ``hash(canonical proof configuration) || hash(canonical document)`` with ECDSA;
the hash follows the key's curve: SHA-256 for P-256 (multicodec ``p256-pub``), SHA-384 for
P-384 (``p384-pub``), and the signature is the raw ``r || s`` (64 or 96 bytes) in
base58btc multibase. ``ecdsa-rdfc-2019`` canonicalizes with RDFC-1.0 (§3.2),
``ecdsa-jcs-2019`` with JCS, RFC 8785 (§3.3). Only compressed public keys are accepted,
as the Multikey encoding requires.
"""

from __future__ import annotations

from credentials.suites.data_integrity import Suite, sha256, sha384

__all__ = ["ECDSA_JCS_2019", "ECDSA_RDFC_2019"]

ECDSA_RDFC_2019 = Suite(
    "DataIntegrityProof", "ecdsa-rdfc-2019", "rdfc", {"P-256": sha256, "P-384": sha384}
)
"""``ecdsa-rdfc-2019``: RDFC-1.0, SHA-256 with P-256 or SHA-384 with P-384."""

ECDSA_JCS_2019 = Suite(
    "DataIntegrityProof", "ecdsa-jcs-2019", "jcs", {"P-256": sha256, "P-384": sha384}
)
"""``ecdsa-jcs-2019``: JCS, SHA-256 with P-256 or SHA-384 with P-384."""
