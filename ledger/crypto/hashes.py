"""Hash algorithms as small value objects, so hash-agnostic code (Merkle trees) takes one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from ledger.crypto.sm3 import sm3

__all__ = ["SHA256", "SM3", "HashAlgorithm", "hash_algorithm"]


@dataclass(frozen=True)
class HashAlgorithm:
    """A named one-shot hash function with a fixed digest size."""

    name: str
    """Lowercase algorithm name, e.g. ``"sm3"``."""
    digest_size: int
    """Digest length in bytes."""
    digest: Callable[[bytes], bytes]
    """The function: bytes in, ``digest_size`` bytes out."""

    def __call__(self, data: bytes) -> bytes:
        """Hash ``data`` (same as ``self.digest(data)``)."""
        return self.digest(data)


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


SM3 = HashAlgorithm(name="sm3", digest_size=32, digest=sm3)
"""SM3 (GB/T 32905): the project's hash for every content digest and Merkle tree."""

SHA256 = HashAlgorithm(name="sha256", digest_size=32, digest=_sha256)
"""SHA-256, for running the RFC 6962 / RFC 9162 vectors unchanged."""

_BY_NAME = {alg.name: alg for alg in (SM3, SHA256)}


def hash_algorithm(name: str) -> HashAlgorithm:
    """Return the algorithm named ``name`` (``"sm3"`` or ``"sha256"``); KeyError if unknown."""
    return _BY_NAME[name]
