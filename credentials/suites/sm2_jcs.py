"""Tongban's own ``sm2-jcs-2026`` proofs by a ``did:key`` SM2 key, through the same entry point.

The hash data is exactly ``credentials.cryptosuite.hash_data`` (SM3 of the JCS proof
configuration and document; ``docs/cryptosuite.md``) and the signature SM2 with the
default user ID. Only ``did:key`` SM2 methods resolve here (a holder's presentation
proof); an issuer's ``did:tongban`` key needs the chain and is checked by
``credentials.verify``.
"""

from __future__ import annotations

from typing import Any

from credentials.cryptosuite import CRYPTOSUITE, PROOF_TYPE
from credentials.cryptosuite import hash_data as sm2_hash_data
from credentials.errors import InputRejectedError
from credentials.suites.data_integrity import Suite

__all__ = ["SM2_JCS_2026"]


def _hash_data(unsecured: dict[str, Any], options: dict[str, Any]) -> bytes:
    try:
        return sm2_hash_data(unsecured, options)
    except InputRejectedError:
        raise ValueError("document cannot be canonicalized as JSON") from None


def _identity(data: bytes) -> bytes:
    return data


SM2_JCS_2026 = Suite(PROOF_TYPE, CRYPTOSUITE, "jcs", {"SM2": _identity}, hash_data=_hash_data)
"""``sm2-jcs-2026`` (SM3 and SM2 inside ``credentials.cryptosuite``)."""
