"""Internal: the contract every SM2 backend fulfils.

A backend works on the message digest ``e = SM3(Z_A || M)``; :mod:`ledger.crypto.sm2` computes
``Z_A`` and ``e`` once for all backends, so they cannot disagree on the pre-processing. Keys
are passed as the public value objects so a backend may cache its own handle on them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey

__all__ = ["Sm2Backend"]


class Sm2Backend(ABC):
    """An implementation of the SM2 signature primitive on the curve sm2p256v1."""

    name: str
    """Short name shown in benchmarks and errors, e.g. ``"openssl"``."""

    can_sign: bool
    """False for backends that must never produce production signatures."""

    @abstractmethod
    def derive_public(self, scalar: int) -> tuple[int, int]:
        """Return the affine public point ``scalar * G``."""

    @abstractmethod
    def sign_digest(self, key: Sm2PrivateKey, digest: bytes) -> bytes:
        """Hazmat: sign a 32-byte ``e`` and return raw ``r || s`` (64 bytes).

        ``e`` must already be ``SM3(Z_A || M)``; use :func:`ledger.crypto.sm2.sign` instead.
        """

    @abstractmethod
    def verify_digest(self, key: Sm2PublicKey, digest: bytes, signature: bytes) -> bool:
        """Hazmat: whether raw ``r || s`` is a valid signature of the 32-byte ``e``.

        Returns False (never raises) for any invalid signature, including r or s outside
        [1, n-1]; use :func:`ledger.crypto.sm2.verify` instead.
        """
