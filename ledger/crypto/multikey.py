"""Multikey encoding of SM2 public keys (W3C Controlled Identifiers ``publicKeyMultibase``).

``publicKeyMultibase = "z" + base58btc(varint(0x1206) || compressed point)``: multibase prefix
``z`` (base58btc), multicodec ``sm2-pub`` 0x1206 as an unsigned varint (bytes ``86 24``), then
the 33-byte compressed point. 35 bytes in all before base58.
"""

from __future__ import annotations

import base58

from ledger.crypto.errors import InvalidKey
from ledger.crypto.sm2 import COMPRESSED_PUBLIC_KEY_SIZE, Sm2PublicKey

__all__ = ["MULTIBASE_BASE58BTC", "SM2_PUB_CODEC", "SM2_PUB_PREFIX", "decode", "encode"]

SM2_PUB_CODEC = 0x1206
"""Multicodec code of ``sm2-pub``."""

SM2_PUB_PREFIX = bytes([0x86, 0x24])
"""``SM2_PUB_CODEC`` as an unsigned varint."""

MULTIBASE_BASE58BTC = "z"
"""Multibase prefix of base58btc (Bitcoin alphabet)."""

_ENCODED_LENGTH = len(SM2_PUB_PREFIX) + COMPRESSED_PUBLIC_KEY_SIZE
_MAX_TEXT = 64  # 35 bytes are at most 48 base58 characters; refuse anything much longer


def encode(public_key: Sm2PublicKey) -> str:
    """Return the ``publicKeyMultibase`` string of an SM2 public key."""
    body = base58.b58encode(SM2_PUB_PREFIX + public_key.compressed())
    return MULTIBASE_BASE58BTC + body.decode("ascii")


def decode(value: str) -> Sm2PublicKey:
    """Decode ``publicKeyMultibase``; check prefix, codec, length and that the point is valid.

    Raises :class:`~ledger.crypto.errors.InvalidKey` for any malformed value.
    """
    if not isinstance(value, str) or not value.startswith(MULTIBASE_BASE58BTC):
        raise InvalidKey("publicKeyMultibase must start with 'z' (base58btc)")
    if len(value) > _MAX_TEXT or not value.isascii():
        raise InvalidKey("publicKeyMultibase has the wrong length for an SM2 key")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError as exc:
        raise InvalidKey("publicKeyMultibase is not valid base58btc") from exc
    if not raw.startswith(SM2_PUB_PREFIX):
        raise InvalidKey("publicKeyMultibase is not an sm2-pub (0x1206) key")
    if len(raw) != _ENCODED_LENGTH:
        raise InvalidKey("publicKeyMultibase has the wrong length for an SM2 key")
    point = raw[len(SM2_PUB_PREFIX) :]
    if point[0] not in (0x02, 0x03):
        raise InvalidKey("publicKeyMultibase must hold a compressed point")
    return Sm2PublicKey.from_bytes(point)
