"""SM3 digests (GB/T 32905-2016) and HMAC-SM3 (RFC 2104 with SM3).

Backed by :mod:`hashlib` when the linked OpenSSL provides SM3, otherwise by
``cryptography``'s ``hashes.SM3``. Both are C implementations; nothing here is pure Python.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

__all__ = [
    "BLOCK_SIZE",
    "DIGEST_SIZE",
    "HmacSm3",
    "Sm3Hasher",
    "hmac_sm3",
    "sm3",
    "sm3_chunks",
    "sm3_file",
    "sm3_hex",
    "sm3_many",
]

DIGEST_SIZE = 32
"""Size of an SM3 digest in bytes."""

BLOCK_SIZE = 64
"""SM3 block size in bytes (what HMAC pads the key to)."""

_FILE_CHUNK = 1 << 20


class _HashState(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...

    def copy(self) -> _HashState: ...


class _CryptographyState:
    """Adapter giving ``cryptography``'s hash context the hashlib shape."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: hashes.Hash | None = None) -> None:
        self._ctx = ctx if ctx is not None else hashes.Hash(hashes.SM3())

    def update(self, data: bytes, /) -> None:
        self._ctx.update(data)

    def digest(self) -> bytes:
        return self._ctx.copy().finalize()

    def copy(self) -> _CryptographyState:
        return _CryptographyState(self._ctx.copy())


def _hashlib_has_sm3() -> bool:
    try:
        return hashlib.new("sm3", b"abc").digest() == bytes.fromhex(
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        )
    except ValueError:
        return False


_HASHLIB_SM3 = _hashlib_has_sm3()
# Copying a fresh state skips the per-call algorithm lookup that hashlib.new() performs.
_EMPTY: _HashState = hashlib.new("sm3") if _HASHLIB_SM3 else _CryptographyState()


class Sm3Hasher:
    """Incremental SM3 for data that arrives in pieces (files, streams)."""

    __slots__ = ("_state",)

    name = "sm3"
    digest_size = DIGEST_SIZE
    block_size = BLOCK_SIZE

    def __init__(self, data: bytes = b"") -> None:
        """Start a new digest, optionally absorbing ``data``."""
        self._state = _EMPTY.copy()
        if data:
            self._state.update(data)

    def update(self, data: bytes) -> None:
        """Absorb more data."""
        self._state.update(data)

    def digest(self) -> bytes:
        """Return the 32-byte digest of everything absorbed so far (the hasher stays usable)."""
        return self._state.digest()

    def hexdigest(self) -> str:
        """Return :meth:`digest` as lowercase hex."""
        return self.digest().hex()

    def copy(self) -> Sm3Hasher:
        """Return an independent copy of the current state."""
        clone = Sm3Hasher.__new__(Sm3Hasher)
        clone._state = self._state.copy()
        return clone


def sm3(data: bytes) -> bytes:
    """Return the 32-byte SM3 digest of ``data``."""
    state = _EMPTY.copy()
    state.update(data)
    return state.digest()


def sm3_many(items: Iterable[bytes], prefix: bytes = b"") -> list[bytes]:
    """Return ``[sm3(prefix + item) for item in items]``, for hashing in a loop.

    The prefix is absorbed once and its state copied per item, and nothing is
    concatenated: tree hashing (one-byte prefixes) over thousands of leaves.
    """
    start = _EMPTY.copy()
    if prefix:
        start.update(prefix)
    out: list[bytes] = []
    add = out.append
    copy = start.copy
    for item in items:
        state = copy()
        state.update(item)
        add(state.digest())
    return out


def sm3_hex(data: bytes) -> str:
    """Return the SM3 digest of ``data`` as 64 lowercase hex characters."""
    return sm3(data).hex()


def sm3_chunks(chunks: Iterable[bytes]) -> bytes:
    """Return the SM3 digest of the concatenation of ``chunks``."""
    state = _EMPTY.copy()
    for chunk in chunks:
        state.update(chunk)
    return state.digest()


def sm3_file(path: str | os.PathLike[str], *, chunk_size: int = _FILE_CHUNK) -> bytes:
    """Return the SM3 digest of a file, read in chunks so memory stays bounded."""
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    state = _EMPTY.copy()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            state.update(chunk)
    return state.digest()


class HmacSm3:
    """HMAC-SM3 under one key, keyed once: faster when many messages share the key.

    The key's inner and outer states (key XOR ipad, key XOR opad absorbed) are
    computed once; each message then costs two state copies and the two SM3
    calls RFC 2104 needs, with no ``hmac`` object per message.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        """Prepare the inner and outer states for ``key``."""
        if len(key) > BLOCK_SIZE:
            key = sm3(key)
        padded = key.ljust(BLOCK_SIZE, b"\0")
        self._inner = _EMPTY.copy()
        self._inner.update(bytes(b ^ 0x36 for b in padded))
        self._outer = _EMPTY.copy()
        self._outer.update(bytes(b ^ 0x5C for b in padded))

    def __repr__(self) -> str:
        """Never show the key."""
        return "HmacSm3(<key>)"

    def digest(self, data: bytes) -> bytes:
        """HMAC-SM3(key, data), 32 bytes."""
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def digest_many(self, items: Iterable[bytes]) -> list[bytes]:
        """``[self.digest(item) for item in items]``, for many messages in a loop."""
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        out: list[bytes] = []
        add = out.append
        for item in items:
            inner = inner_copy()
            inner.update(item)
            outer = outer_copy()
            outer.update(inner.digest())
            add(outer.digest())
        return out


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """Return HMAC-SM3(key, data), 32 bytes (RFC 2104 construction, 64-byte blocks)."""
    if _HASHLIB_SM3:
        return hmac.digest(key, data, "sm3")
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()
