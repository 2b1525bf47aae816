"""SM4-GCM authenticated encryption (GB/T 32907 block cipher in GCM, as in RFC 8998).

A sealed blob is ``nonce (12 bytes) || ciphertext || tag (16 bytes)``. The nonce is random
(``secrets``), so one key may seal at most 2^32 messages (NIST SP 800-38D s8.3): rotate keys
long before that. Associated data is authenticated but not stored in the blob.

Backed by ``cryptography`` (its OpenSSL provides SM4-GCM; OpenSSL 3.0's libcrypto only offers
SM4 in ECB/CBC/CFB/OFB/CTR).
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ledger.crypto.errors import BackendUnavailable, DecryptionFailed, InvalidKey

__all__ = ["KEY_SIZE", "NONCE_SIZE", "OVERHEAD", "TAG_SIZE", "generate_key", "open", "seal"]

KEY_SIZE = 16
"""SM4 key size in bytes (128 bits)."""

NONCE_SIZE = 12
"""GCM nonce size in bytes."""

TAG_SIZE = 16
"""GCM tag size in bytes."""

OVERHEAD = NONCE_SIZE + TAG_SIZE
"""Bytes a sealed blob adds to the plaintext."""


def generate_key() -> bytes:
    """Return a fresh random 16-byte SM4 key."""
    return secrets.token_bytes(KEY_SIZE)


def _algorithm(key: bytes) -> algorithms.SM4:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_SIZE:
        raise InvalidKey("an SM4 key is 16 bytes")
    return algorithms.SM4(bytes(key))


def _unavailable(exc: Exception) -> BackendUnavailable:
    return BackendUnavailable(f"this build of cryptography has no SM4-GCM ({exc})")


def seal(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt and authenticate ``plaintext`` (and ``aad``); return nonce || ciphertext || tag."""
    nonce = secrets.token_bytes(NONCE_SIZE)
    try:
        encryptor = Cipher(_algorithm(key), modes.GCM(nonce)).encryptor()
    except UnsupportedAlgorithm as exc:
        raise _unavailable(exc) from exc
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return nonce + ciphertext + encryptor.tag


def open(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:  # noqa: A001 (sm4.open mirrors seal)
    """Check and decrypt a sealed blob; raise DecryptionFailed on any tampering or wrong key/aad.

    No plaintext is returned unless the tag verifies.
    """
    algorithm = _algorithm(key)
    if not isinstance(blob, bytes | bytearray | memoryview) or len(blob) < OVERHEAD:
        raise DecryptionFailed("sealed blob too short")
    data = bytes(blob)
    nonce, ciphertext, tag = data[:NONCE_SIZE], data[NONCE_SIZE:-TAG_SIZE], data[-TAG_SIZE:]
    try:
        decryptor = Cipher(algorithm, modes.GCM(nonce, tag)).decryptor()
    except UnsupportedAlgorithm as exc:
        raise _unavailable(exc) from exc
    decryptor.authenticate_additional_data(aad)
    plaintext = decryptor.update(ciphertext)
    try:
        decryptor.finalize()
    except InvalidTag:
        raise DecryptionFailed("SM4-GCM authentication failed") from None
    return plaintext
