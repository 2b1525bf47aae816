"""One flat exception vocabulary for ``ledger.crypto``.

Every failure that depends on untrusted input (a signature, a key, a ciphertext, a keystore
file) raises a subclass of :class:`CryptoError`. Messages never echo the input.
"""

from __future__ import annotations

__all__ = [
    "BackendUnavailable",
    "CryptoError",
    "DecryptionFailed",
    "InvalidKey",
    "InvalidSignature",
    "KeystoreError",
]


class CryptoError(Exception):
    """Base class of every error raised by ``ledger.crypto``."""


class InvalidSignature(CryptoError):  # noqa: N818 (the name every crypto library uses)
    """A signature does not verify: wrong key, tampered message, or malformed signature."""


class InvalidKey(CryptoError):  # noqa: N818
    """A key or its encoding is malformed: off the curve, out of range, wrong length or type."""


class DecryptionFailed(CryptoError):  # noqa: N818
    """Authenticated decryption failed: wrong key, tampered ciphertext, tag or associated data."""


class KeystoreError(CryptoError):
    """A keystore entry cannot be written, found, parsed or decrypted."""


class BackendUnavailable(CryptoError):  # noqa: N818
    """A cryptographic backend is missing or lacks a required algorithm."""
