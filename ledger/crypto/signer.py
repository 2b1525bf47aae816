r"""Signers: domain-tagged SM2 signing behind one interface.

A signer signs typed, domain-tagged payloads, so a signature made for one purpose can never be
replayed as one for another. A hardware security module (密码机) implements :class:`Signer` too,
and callers do not change.

Encoding of a :class:`SignedPayload` (the exact bytes given to SM2, which then signs
``SM3(Z_A || bytes)`` with the default user ID)::

    b"tongban/sm2-payload/v1\x00" || len(domain) (1 byte) || domain (ASCII) || message

The magic prefix is fixed, the domain length is explicit and the message is the remainder, so
distinct (domain, message) pairs always encode to distinct bytes.
:meth:`Signer.unsafe_sign_message` refuses messages that start with the magic prefix, so a raw
signature can never pass for a domain-tagged one.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from ledger.crypto import sm2
from ledger.crypto.keystore import Keystore
from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey

__all__ = ["PAYLOAD_MAGIC", "LocalSigner", "SignedPayload", "Signer", "verify_payload"]

PAYLOAD_MAGIC = b"tongban/sm2-payload/v1\x00"
"""Prefix of every encoded :class:`SignedPayload`."""

_DOMAIN = re.compile(r"[a-z0-9][a-z0-9._:/-]{0,254}", re.ASCII)


@dataclass(frozen=True)
class SignedPayload:
    """A message together with the domain (purpose) it is signed for.

    ``domain`` is 1-255 characters of ``[a-z0-9._:/-]`` starting with a letter or digit and
    names the purpose and its version, e.g. ``"tongban/audit-receipt/v1"``.
    """

    domain: str
    message: bytes

    def __post_init__(self) -> None:
        """Validate the domain tag and the message type."""
        if not isinstance(self.domain, str) or not _DOMAIN.fullmatch(self.domain):
            raise ValueError("domain must be 1-255 chars of [a-z0-9._:/-], starting [a-z0-9]")
        if not isinstance(self.message, bytes):
            raise TypeError("message must be bytes")

    def encode(self) -> bytes:
        """Return the unambiguous byte string that is actually signed."""
        domain = self.domain.encode("ascii")
        return PAYLOAD_MAGIC + bytes([len(domain)]) + domain + self.message


class Signer(ABC):
    """Something that holds an SM2 private key and signs with it: in memory, or an HSM."""

    @property
    @abstractmethod
    def key_id(self) -> str:
        """The key id, ``did:tongban:<chainId>:<issuerId>#<keyId>``."""

    @property
    @abstractmethod
    def public_key(self) -> Sm2PublicKey:
        """The public key matching the signing key."""

    @abstractmethod
    def _sign_bytes(self, message: bytes) -> bytes:
        """Return the raw 64-byte SM2 signature of ``message`` (default user ID).

        The one method an implementation provides; callers use :meth:`sign`.
        """

    def sign(self, payload: SignedPayload) -> bytes:
        """Sign a domain-tagged payload; return raw 64-byte ``r || s``."""
        if not isinstance(payload, SignedPayload):
            raise TypeError("sign() takes a SignedPayload")
        return self._sign_bytes(payload.encode())

    def unsafe_sign_message(self, message: bytes) -> bytes:
        """DANGEROUS: sign an externally fixed byte string with no domain separation.

        Only for formats that fix the signed bytes themselves, such as the hash input of a
        W3C Data Integrity proof (proofConfigHash || documentHash). The caller is responsible
        for making sure the bytes cannot mean anything else. Messages that begin with
        :data:`PAYLOAD_MAGIC` are refused. Verify with :func:`ledger.crypto.sm2.verify`.
        """
        if not isinstance(message, bytes):
            raise TypeError("message must be bytes")
        if message.startswith(PAYLOAD_MAGIC):
            raise ValueError("refusing to sign a raw message that looks like a SignedPayload")
        return self._sign_bytes(message)


class LocalSigner(Signer):
    """A signer holding its private key in memory (loaded from the keystore)."""

    def __init__(self, key_id: str, private_key: Sm2PrivateKey) -> None:
        """Wrap ``private_key`` under ``key_id``."""
        if not isinstance(private_key, Sm2PrivateKey):
            raise TypeError("private_key must be an Sm2PrivateKey")
        self._key_id = key_id
        self._private_key = private_key

    @classmethod
    def from_keystore(cls, keystore: Keystore, key_id: str, passphrase: str | bytes) -> LocalSigner:
        """Unlock ``key_id`` from ``keystore``."""
        return cls(key_id, keystore.load(key_id, passphrase))

    def __repr__(self) -> str:
        """Show the key id only."""
        return f"LocalSigner({self._key_id!r})"

    @property
    def key_id(self) -> str:
        """The key id."""
        return self._key_id

    @property
    def public_key(self) -> Sm2PublicKey:
        """The public key."""
        return self._private_key.public_key

    def _sign_bytes(self, message: bytes) -> bytes:
        return sm2.sign(self._private_key, message)


def verify_payload(
    public_key: Sm2PublicKey | bytes, payload: SignedPayload, signature: bytes
) -> None:
    """Verify a signature made by :meth:`Signer.sign`; raise InvalidSignature if it fails."""
    if not isinstance(payload, SignedPayload):
        raise TypeError("verify_payload() takes a SignedPayload")
    sm2.verify(public_key, payload.encode(), signature)
