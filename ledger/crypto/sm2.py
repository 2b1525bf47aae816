"""SM2 signatures (GB/T 32918.2, GM/T 0003.2) on the curve sm2p256v1.

Signatures are over ``e = SM3(Z_A || M)`` where ``Z_A`` binds the signer's public key and the
GM/T 0009 default user ID ``1234567812345678``; no other ID is accepted here. Signatures are
raw 64-byte ``r || s``; :func:`signature_to_der` / :func:`signature_from_der` convert to the
GM/T 0009 DER form where an interface needs it. Public keys are 33-byte compressed points on
chain; uncompressed points, SubjectPublicKeyInfo and PKCS#8 (DER and PEM) are also supported,
byte-compatible with OpenSSL.

The default backend is OpenSSL 3's libcrypto (constant-time signing). The pure-Python reference
backend is a verify-only test oracle unless explicitly, and loudly, opted in.

Verification raises :class:`~ledger.crypto.errors.InvalidSignature` on every failure;
``is_valid`` is the boolean form.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from ledger.crypto import _asn1, _openssl
from ledger.crypto._backend import Sm2Backend
from ledger.crypto._curve import SM2P256V1, decode_point, encode_point
from ledger.crypto._reference import reference_backend
from ledger.crypto.errors import InvalidKey, InvalidSignature
from ledger.crypto.sm3 import Sm3Hasher, sm3

__all__ = [
    "COMPRESSED_PUBLIC_KEY_SIZE",
    "DEFAULT_USER_ID",
    "PRIVATE_KEY_SIZE",
    "SIGNATURE_SIZE",
    "UNCOMPRESSED_PUBLIC_KEY_SIZE",
    "Sm2Backend",
    "Sm2PrivateKey",
    "Sm2PublicKey",
    "default_backend",
    "generate_private_key",
    "is_valid",
    "reference_backend",
    "sign",
    "signature_from_der",
    "signature_to_der",
    "signing_digest",
    "verify",
    "za",
]

DEFAULT_USER_ID = b"1234567812345678"
"""The GM/T 0009-2012 default distinguishing ID, the only one this API uses."""

SIGNATURE_SIZE = 64
"""Raw signature size: 32-byte r then 32-byte s, big-endian."""

PRIVATE_KEY_SIZE = 32
"""Private scalar size in bytes."""

COMPRESSED_PUBLIC_KEY_SIZE = 33
"""SEC 1 compressed point size (the on-chain form)."""

UNCOMPRESSED_PUBLIC_KEY_SIZE = 65
"""SEC 1 uncompressed point size."""

_N = SM2P256V1.n
_PUBLIC_PEM = "PUBLIC KEY"
_PRIVATE_PEM = "PRIVATE KEY"


def default_backend() -> Sm2Backend:
    """Return the production backend (OpenSSL), loading libcrypto on first use.

    Raises :class:`~ledger.crypto.errors.BackendUnavailable` with the reason if libcrypto is
    missing, older than 3.0, or lacks SM2.
    """
    return _openssl.load_backend()


# ENTL || ID || a || b || Gx || Gy: the part of Z_A that is the same for every key.
_ZA_PREFIX = (
    (8 * len(DEFAULT_USER_ID)).to_bytes(2, "big")
    + DEFAULT_USER_ID
    + b"".join(
        v.to_bytes(32, "big") for v in (SM2P256V1.a, SM2P256V1.b, SM2P256V1.gx, SM2P256V1.gy)
    )
)


def _compute_za(x: int, y: int) -> bytes:
    """Z_A = SM3(ENTL || ID || a || b || Gx || Gy || xA || yA), GB/T 32918.2 s5.5."""
    return sm3(_ZA_PREFIX + x.to_bytes(32, "big") + y.to_bytes(32, "big"))


def _bytes(value: Any, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"{what} must be bytes")


@dataclass(frozen=True)
class Sm2PublicKey:
    """A validated SM2 public key: a finite point of sm2p256v1 (construction checks it)."""

    x: int
    y: int
    _cache: dict[object, object] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """Reject anything that is not a finite point on the curve."""
        if not (isinstance(self.x, int) and isinstance(self.y, int)):
            raise InvalidKey("public key coordinates must be integers")
        if not SM2P256V1.contains(self.x, self.y):
            raise InvalidKey("public key is not a point on the curve")

    def __repr__(self) -> str:
        """Show the compressed point in hex."""
        return f"Sm2PublicKey({self.compressed().hex()})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the coordinates only, never a backend handle."""
        return (type(self), (self.x, self.y))

    @classmethod
    def from_bytes(cls, data: bytes) -> Sm2PublicKey:
        """Decode a 33-byte compressed or 65-byte uncompressed SEC 1 point."""
        return cls(*decode_point(_bytes(data, "public key")))

    @classmethod
    def from_der(cls, der: bytes) -> Sm2PublicKey:
        """Decode a DER SubjectPublicKeyInfo (id-ecPublicKey, sm2p256v1)."""
        return cls.from_bytes(_asn1.decode_spki(_bytes(der, "DER")))

    @classmethod
    def from_pem(cls, pem: str | bytes) -> Sm2PublicKey:
        """Decode a PEM ``PUBLIC KEY`` block."""
        return cls.from_der(_asn1.pem_decode(pem, _PUBLIC_PEM))

    def compressed(self) -> bytes:
        """Return the 33-byte compressed point (``02``/``03`` || x)."""
        return encode_point(self.x, self.y, compressed=True)

    def uncompressed(self) -> bytes:
        """Return the 65-byte uncompressed point (``04`` || x || y)."""
        return encode_point(self.x, self.y, compressed=False)

    def to_bytes(self) -> bytes:
        """Return the canonical encoding: the 33-byte compressed point."""
        return self.compressed()

    def to_der(self) -> bytes:
        """Return a DER SubjectPublicKeyInfo with the uncompressed point, as OpenSSL writes."""
        return _asn1.encode_spki(self.uncompressed())

    def to_pem(self) -> str:
        """Return a PEM ``PUBLIC KEY`` block."""
        return _asn1.pem_encode(self.to_der(), _PUBLIC_PEM)

    def za(self) -> bytes:
        """Return Z_A for the default user ID (cached)."""
        z_a = self._cache.get("za")
        if not isinstance(z_a, bytes):
            z_a = _compute_za(self.x, self.y)
            self._cache["za"] = z_a
        return z_a

    def _za_hasher(self) -> Sm3Hasher:
        """SM3 state that has absorbed Z_A: copying it saves rehashing Z_A per message."""
        hasher = self._cache.get("za-state")
        if not isinstance(hasher, Sm3Hasher):
            hasher = Sm3Hasher(self.za())
            self._cache["za-state"] = hasher
        return hasher

    def verify(
        self, message: bytes, signature: bytes, *, backend: Sm2Backend | None = None
    ) -> None:
        """Verify a raw signature over ``message``; raise InvalidSignature if it does not hold."""
        verify(self, message, signature, backend=backend)

    def is_valid(
        self, message: bytes, signature: bytes, *, backend: Sm2Backend | None = None
    ) -> bool:
        """Return whether a raw signature over ``message`` verifies."""
        return is_valid(self, message, signature, backend=backend)


@dataclass(frozen=True, eq=False)
class Sm2PrivateKey:
    """An SM2 private key: scalar d in [1, n-2] with its public key.

    Build it with :meth:`generate`, :meth:`from_bytes`, :meth:`from_der` or :meth:`from_pem`,
    which derive the public key; the plain constructor trusts that ``public_key`` matches.
    The scalar is left out of ``repr``, and keys compare by identity.
    """

    scalar: int = field(repr=False)
    public_key: Sm2PublicKey
    _cache: dict[object, object] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """Reject scalars outside [1, n-2] (SM2 needs 1 + d invertible mod n)."""
        if not isinstance(self.scalar, int) or not 1 <= self.scalar <= _N - 2:
            raise InvalidKey("private scalar out of range")
        if not isinstance(self.public_key, Sm2PublicKey):
            raise InvalidKey("public_key must be an Sm2PublicKey")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the scalar and public key only, never a backend handle."""
        return (type(self), (self.scalar, self.public_key))

    @classmethod
    def generate(cls, *, backend: Sm2Backend | None = None) -> Sm2PrivateKey:
        """Generate a key: d uniform in [1, n-2] from :mod:`secrets`, public key by the backend."""
        return cls._from_scalar(secrets.randbelow(_N - 2) + 1, backend)

    @classmethod
    def _from_scalar(cls, scalar: int, backend: Sm2Backend | None) -> Sm2PrivateKey:
        if not 1 <= scalar <= _N - 2:
            raise InvalidKey("private scalar out of range")
        chosen = backend if backend is not None else default_backend()
        return cls(scalar, Sm2PublicKey(*chosen.derive_public(scalar)))

    @classmethod
    def from_bytes(cls, data: bytes, *, backend: Sm2Backend | None = None) -> Sm2PrivateKey:
        """Load a 32-byte big-endian scalar and derive its public key."""
        raw = _bytes(data, "private key")
        if len(raw) != PRIVATE_KEY_SIZE:
            raise InvalidKey("an SM2 private key is 32 bytes")
        return cls._from_scalar(int.from_bytes(raw, "big"), backend)

    @classmethod
    def from_der(cls, der: bytes, *, backend: Sm2Backend | None = None) -> Sm2PrivateKey:
        """Load an unencrypted PKCS#8 PrivateKeyInfo (id-ecPublicKey, sm2p256v1).

        An embedded public key must match the one derived from the scalar.
        """
        scalar, embedded = _asn1.decode_pkcs8(_bytes(der, "DER"))
        key = cls.from_bytes(scalar, backend=backend)
        if embedded is not None and Sm2PublicKey.from_bytes(embedded) != key.public_key:
            raise InvalidKey("the embedded public key does not match the private key")
        return key

    @classmethod
    def from_pem(cls, pem: str | bytes, *, backend: Sm2Backend | None = None) -> Sm2PrivateKey:
        """Load a PEM ``PRIVATE KEY`` (unencrypted PKCS#8) block."""
        return cls.from_der(_asn1.pem_decode(pem, _PRIVATE_PEM), backend=backend)

    def to_bytes(self) -> bytes:
        """Return the secret scalar as 32 big-endian bytes."""
        return self.scalar.to_bytes(PRIVATE_KEY_SIZE, "big")

    def to_der(self) -> bytes:
        """Return unencrypted PKCS#8 DER, laid out as ``openssl pkcs8 -topk8 -nocrypt`` does."""
        return _asn1.encode_pkcs8(self.to_bytes(), self.public_key.uncompressed())

    def to_pem(self) -> str:
        """Return an unencrypted PEM ``PRIVATE KEY`` block."""
        return _asn1.pem_encode(self.to_der(), _PRIVATE_PEM)

    def sign(self, message: bytes, *, backend: Sm2Backend | None = None) -> bytes:
        """Sign ``message`` (default user ID); return raw 64-byte ``r || s``."""
        return sign(self, message, backend=backend)


def generate_private_key(*, backend: Sm2Backend | None = None) -> Sm2PrivateKey:
    """Generate a new SM2 private key (see :meth:`Sm2PrivateKey.generate`)."""
    return Sm2PrivateKey.generate(backend=backend)


def za(public_key: Sm2PublicKey) -> bytes:
    """Return Z_A = SM3(ENTL || ID || a || b || Gx || Gy || xA || yA) for the default ID."""
    return public_key.za()


def signing_digest(public_key: Sm2PublicKey, message: bytes) -> bytes:
    """Return e = SM3(Z_A || message), the value an SM2 signature actually signs."""
    hasher = public_key._za_hasher().copy()
    hasher.update(_bytes(message, "message"))
    return hasher.digest()


def sign(private_key: Sm2PrivateKey, message: bytes, *, backend: Sm2Backend | None = None) -> bytes:
    """Sign ``message`` with the default user ID; return raw 64-byte ``r || s``."""
    chosen = backend if backend is not None else default_backend()
    return chosen.sign_digest(private_key, signing_digest(private_key.public_key, message))


def _check_range(r: int, s: int) -> None:
    if not (1 <= r < _N and 1 <= s < _N):
        raise InvalidSignature("signature component out of range")


def verify(
    public_key: Sm2PublicKey | bytes,
    message: bytes,
    signature: bytes,
    *,
    backend: Sm2Backend | None = None,
) -> None:
    """Verify a raw 64-byte signature over ``message``; return None or raise InvalidSignature.

    Every failure raises :class:`~ledger.crypto.errors.InvalidSignature`: a tampered message,
    a wrong key, r or s outside [1, n-1], a wrong length, and (when ``public_key`` is given as
    bytes) a key that is not a valid point, such as one off the curve or the point at infinity.
    """
    try:
        key = (
            public_key
            if isinstance(public_key, Sm2PublicKey)
            else Sm2PublicKey.from_bytes(public_key)
        )
    except InvalidKey as exc:
        raise InvalidSignature("signature does not verify: invalid public key") from exc
    if not isinstance(signature, bytes | bytearray | memoryview):
        raise InvalidSignature("signature must be bytes")
    raw = bytes(signature)
    if len(raw) != SIGNATURE_SIZE:
        raise InvalidSignature("an SM2 signature is 64 bytes (r || s)")
    _check_range(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    chosen = backend if backend is not None else default_backend()
    if not chosen.verify_digest(key, signing_digest(key, message), raw):
        raise InvalidSignature("signature does not verify")


def is_valid(
    public_key: Sm2PublicKey | bytes,
    message: bytes,
    signature: bytes,
    *,
    backend: Sm2Backend | None = None,
) -> bool:
    """Return whether the signature verifies (the boolean form of :func:`verify`)."""
    try:
        verify(public_key, message, signature, backend=backend)
    except InvalidSignature:
        return False
    return True


def signature_to_der(signature: bytes) -> bytes:
    """Convert raw ``r || s`` to DER ``SEQUENCE { r INTEGER, s INTEGER }``."""
    raw = _bytes(signature, "signature")
    if len(raw) != SIGNATURE_SIZE:
        raise InvalidSignature("an SM2 signature is 64 bytes (r || s)")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    _check_range(r, s)
    return _asn1.encode_signature(r, s)


def signature_from_der(der: bytes) -> bytes:
    """Convert strict DER ``SEQUENCE { r, s }`` to raw 64-byte ``r || s``."""
    r, s = _asn1.decode_signature(_bytes(der, "signature"))
    _check_range(r, s)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")
