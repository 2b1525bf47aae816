"""Public keys of foreign verification methods: Multikey values and ``did:key`` resolved locally.

``publicKeyMultibase = "z" + base58btc(varint(codec) || key bytes)`` (W3C Controlled
Identifiers 1.0, Multikey), with the codecs this package verifies:

| codec | varint | key bytes | algorithm |
|---|---|---|---|
| ``ed25519-pub`` 0xed | ``ed 01`` | 32 | Ed25519 |
| ``p256-pub`` 0x1200 | ``80 24`` | 33, compressed SEC1 point | ECDSA P-256 |
| ``p384-pub`` 0x1201 | ``81 24`` | 49, compressed SEC1 point | ECDSA P-384 |
| ``sm2-pub`` 0x1206 | ``86 24`` | 33, compressed point | SM2 (``ledger.crypto.multikey``) |

A ``did:key`` is resolved from the DID itself (nothing is fetched): its one
verification method is ``did:key:<mb>#<mb>``, and this module refuses a DID URL whose
fragment is not the key. A verification method that is not a ``did:key`` needs a
caller-supplied ``MethodResolver``; errors name the member, never the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import base58
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from credentials.did import public_key_of_did_key
from ledger.crypto import multikey as sm2_multikey
from ledger.crypto.errors import InvalidKey, InvalidSignature
from ledger.crypto.sm2 import Sm2PublicKey

__all__ = [
    "ASSERTION_METHOD",
    "AUTHENTICATION",
    "Algorithm",
    "DidKeyResolver",
    "MethodResolver",
    "PublicKey",
    "ResolvedMethod",
    "StaticMethods",
    "UnresolvableMethodError",
    "decode_public_key",
]

Algorithm = Literal["Ed25519", "P-256", "P-384", "SM2"]
"""The signature algorithm a public key belongs to."""

ASSERTION_METHOD = "assertionMethod"
"""The proof purpose (and verification relationship) of credentials."""

AUTHENTICATION = "authentication"
"""The proof purpose (and verification relationship) of presentations."""

_MAX_MULTIBASE = 128  # a compressed P-384 key is 67 base58 characters
_MAX_METHOD_ID = 2048
_CODECS: dict[bytes, tuple[Algorithm, int]] = {
    b"\xed\x01": ("Ed25519", 32),
    b"\x80\x24": ("P-256", 33),
    b"\x81\x24": ("P-384", 49),
}
_CURVES: dict[str, tuple[ec.EllipticCurve, hashes.HashAlgorithm, int]] = {
    "P-256": (ec.SECP256R1(), hashes.SHA256(), 32),
    "P-384": (ec.SECP384R1(), hashes.SHA384(), 48),
}


class UnresolvableMethodError(ValueError):
    """A verification method cannot be resolved to a key; the message names no value."""


@dataclass(frozen=True, eq=False)
class PublicKey:
    """A public key with its algorithm, able to check a raw signature over a message."""

    algorithm: Algorithm
    raw: bytes
    _ed25519: ed25519.Ed25519PublicKey | None = None
    _ec: ec.EllipticCurvePublicKey | None = None
    _sm2: Sm2PublicKey | None = None

    def verify(self, message: bytes, signature: bytes) -> None:
        """Check ``signature`` over ``message``; raise ``InvalidSignature`` if it does not hold.

        Ed25519 takes the 64-byte RFC 8032 signature, ECDSA the raw ``r || s`` (64 bytes
        on P-256 with SHA-256, 96 on P-384 with SHA-384), SM2 the raw ``r || s`` over
        ``SM3(Z_A || message)``.
        """
        try:
            if self._ed25519 is not None:
                self._ed25519.verify(signature, message)
            elif self._ec is not None:
                _, digest, size = _CURVES[self.algorithm]
                if len(signature) != 2 * size:
                    raise InvalidSignature("signature has the wrong length for the curve")
                r = int.from_bytes(signature[:size], "big")
                s = int.from_bytes(signature[size:], "big")
                self._ec.verify(encode_dss_signature(r, s), message, ec.ECDSA(digest))
            elif self._sm2 is not None:
                self._sm2.verify(message, signature)
            else:  # pragma: no cover - every constructor sets one key
                raise InvalidSignature("no key")
        except _CryptoInvalidSignature:
            raise InvalidSignature("signature does not verify") from None

    @property
    def sm2(self) -> Sm2PublicKey | None:
        """The SM2 key object, for the ``sm2-jcs-2026`` suite (None for other algorithms)."""
        return self._sm2


def decode_public_key(value: object) -> PublicKey:
    """Decode a ``publicKeyMultibase``; ``InvalidKey`` for anything but a supported valid key."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise InvalidKey("publicKeyMultibase must be base58btc multibase ('z...')")
    if len(value) > _MAX_MULTIBASE or not value.isascii():
        raise InvalidKey("publicKeyMultibase is too long")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError:
        raise InvalidKey("publicKeyMultibase is not valid base58btc") from None
    if raw.startswith(sm2_multikey.SM2_PUB_PREFIX):
        sm2 = sm2_multikey.decode(value)
        return PublicKey("SM2", sm2.compressed(), _sm2=sm2)
    codec = _CODECS.get(raw[:2])
    if codec is None:
        raise InvalidKey("publicKeyMultibase has an unsupported multicodec")
    algorithm, size = codec
    body = raw[2:]
    if len(body) != size:
        raise InvalidKey("publicKeyMultibase has the wrong length for its multicodec")
    if algorithm == "Ed25519":
        return PublicKey(algorithm, body, _ed25519=ed25519.Ed25519PublicKey.from_public_bytes(body))
    if body[0] not in (2, 3):
        raise InvalidKey("publicKeyMultibase must hold a compressed point")
    curve = _CURVES[algorithm][0]
    try:
        point = ec.EllipticCurvePublicKey.from_encoded_point(curve, body)
    except ValueError:
        raise InvalidKey("publicKeyMultibase is not a point on its curve") from None
    return PublicKey(algorithm, body, _ec=point)


@dataclass(frozen=True)
class ResolvedMethod:
    """A verification method: its id, its controller, its key, and what it may be used for."""

    method_id: str
    controller: str
    key: PublicKey
    purposes: frozenset[str]


class MethodResolver(Protocol):
    """Turns a verification method id into a key, or raises ``UnresolvableMethodError``."""

    def resolve(self, method_id: str) -> ResolvedMethod:
        """The method ``method_id`` names; ``UnresolvableMethodError`` if unknown or malformed."""


class DidKeyResolver:
    """Resolves ``did:key:<mb>#<mb>`` locally (the default): Ed25519, P-256, P-384, SM2."""

    def resolve(self, method_id: str) -> ResolvedMethod:
        """The key a ``did:key`` DID URL names; the fragment must repeat the key."""
        if not isinstance(method_id, str) or len(method_id) > _MAX_METHOD_ID:
            raise UnresolvableMethodError("verificationMethod is not a did:key DID URL")
        did, sep, fragment = method_id.partition("#")
        if not did.startswith("did:key:"):
            raise UnresolvableMethodError("verificationMethod is not a did:key DID URL")
        multibase = did.removeprefix("did:key:")
        if not sep or fragment != multibase:
            raise UnresolvableMethodError("a did:key verificationMethod is did:key:<mb>#<mb>")
        try:
            key = decode_public_key(multibase)
            if key.algorithm == "SM2":
                # The project's one SM2 did:key parser: the same DID a holder presents.
                public_key_of_did_key(did)
        except (InvalidKey, ValueError):
            raise UnresolvableMethodError(
                "the did:key does not hold a supported valid key"
            ) from None
        return ResolvedMethod(method_id, did, key, frozenset({ASSERTION_METHOD, AUTHENTICATION}))


class StaticMethods:
    """Resolves a fixed table of method id -> (controller, ``publicKeyMultibase``), then did:key.

    For verification methods the caller has already fetched or configured (for instance an
    issuer's ``https`` controller document checked out of band); nothing is fetched here.
    """

    def __init__(
        self,
        methods: Mapping[str, tuple[str, str]],
        *,
        purposes: frozenset[str] = frozenset({ASSERTION_METHOD}),
    ) -> None:
        self._methods = dict(methods)
        self._purposes = purposes
        self._did_key = DidKeyResolver()

    def resolve(self, method_id: str) -> ResolvedMethod:
        """The configured method, else a did:key; ``UnresolvableMethodError`` otherwise."""
        entry = self._methods.get(method_id) if isinstance(method_id, str) else None
        if entry is None:
            return self._did_key.resolve(method_id)
        controller, multibase = entry
        try:
            key = decode_public_key(multibase)
        except InvalidKey:
            raise UnresolvableMethodError(
                "the configured key is not a supported valid key"
            ) from None
        return ResolvedMethod(method_id, controller, key, self._purposes)
