"""Identifiers: issuer DIDs (``did:tongban``), holder DIDs (``did:key``), and their documents.

- Issuer: ``did:tongban:<chainId>:<issuerId>`` (decimal, no leading zeros; the issuer
  id is the registry's ``uint32``). Its verification methods are
  ``did:tongban:<chainId>:<issuerId>#<keyId>``, ``keyId`` being the registry key id
  (1-32 characters of ``A-Z a-z 0-9 . _ -``). The DID document is built from the
  registry's key history (``issuer_document``): nothing but the chain is needed.
- Holder: ``did:key:<publicKeyMultibase>`` of the holder's SM2 key (multicodec
  ``sm2-pub``), self-certifying; its one verification method is
  ``did:key:<mb>#<mb>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import base58

from credentials.contexts import DID_V1_1, TONGBAN_V1
from credentials.times import format_seconds
from ledger.crypto import multikey
from ledger.crypto.errors import InvalidKey
from ledger.crypto.sm2 import Sm2PublicKey

if TYPE_CHECKING:
    # Only for annotations: importing the registry binding loads web3, which a wallet never needs.
    from ledger.chain.contracts.registry import KeyRecord

__all__ = [
    "IssuerMethod",
    "KeySource",
    "check_did_key_form",
    "did_key_document",
    "holder_did",
    "holder_verification_method",
    "issuer_did",
    "issuer_document",
    "issuer_verification_method",
    "parse_holder_verification_method",
    "parse_issuer_did",
    "parse_issuer_verification_method",
    "public_key_of_did_key",
    "resolve_issuer",
]

MAX_ISSUER_ID = 2**32 - 1
MAX_CHAIN_ID = 2**53 - 1

_ISSUER_DID = re.compile(r"did:tongban:([1-9][0-9]{0,15}):([1-9][0-9]{0,9})", re.ASCII)
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,32}", re.ASCII)
_DID_KEY = re.compile(r"did:key:(z[1-9A-HJ-NP-Za-km-z]{40,60})", re.ASCII)


def issuer_did(chain_id: int, issuer_id: int) -> str:
    """``did:tongban:<chainId>:<issuerId>``."""
    if not 1 <= chain_id <= MAX_CHAIN_ID or not 1 <= issuer_id <= MAX_ISSUER_ID:
        raise ValueError("chain id or issuer id out of range")
    return f"did:tongban:{chain_id}:{issuer_id}"


def parse_issuer_did(did: object) -> tuple[int, int]:
    """(chain id, issuer id) of an issuer DID; ValueError if it is not one."""
    if not isinstance(did, str):
        raise ValueError("an issuer DID is a string")
    match = _ISSUER_DID.fullmatch(did)
    if match is None:
        raise ValueError("not a did:tongban:<chainId>:<issuerId> DID")
    chain_id, issuer_id = int(match.group(1)), int(match.group(2))
    if chain_id > MAX_CHAIN_ID or issuer_id > MAX_ISSUER_ID:
        raise ValueError("chain id or issuer id out of range")
    return chain_id, issuer_id


def issuer_verification_method(chain_id: int, issuer_id: int, key_id: str) -> str:
    """``did:tongban:<chainId>:<issuerId>#<keyId>``."""
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError("a key id is 1-32 characters of A-Z a-z 0-9 . _ -")
    return f"{issuer_did(chain_id, issuer_id)}#{key_id}"


@dataclass(frozen=True)
class IssuerMethod:
    """A parsed issuer verification method."""

    did: str
    chain_id: int
    issuer_id: int
    key_id: str


def parse_issuer_verification_method(value: object) -> IssuerMethod:
    """Parse ``did:tongban:<chainId>:<issuerId>#<keyId>``; ValueError if malformed."""
    if not isinstance(value, str):
        raise ValueError("a verification method is a string")
    did, sep, key_id = value.partition("#")
    if not sep or not _KEY_ID.fullmatch(key_id):
        raise ValueError("not a did:tongban verification method with a valid key id")
    chain_id, issuer_id = parse_issuer_did(did)
    return IssuerMethod(did, chain_id, issuer_id, key_id)


def holder_did(public_key: Sm2PublicKey) -> str:
    """``did:key:<publicKeyMultibase>`` of an SM2 public key."""
    return "did:key:" + multikey.encode(public_key)


def holder_verification_method(public_key: Sm2PublicKey) -> str:
    """``did:key:<mb>#<mb>``: the one verification method of a holder's did:key."""
    encoded = multikey.encode(public_key)
    return f"did:key:{encoded}#{encoded}"


def public_key_of_did_key(did: object) -> Sm2PublicKey:
    """The SM2 key a ``did:key`` names; ValueError if it is not an SM2 did:key."""
    if not isinstance(did, str):
        raise ValueError("a DID is a string")
    match = _DID_KEY.fullmatch(did)
    if match is None:
        raise ValueError("not a did:key DID")
    try:
        return multikey.decode(match.group(1))
    except InvalidKey:
        raise ValueError("the did:key does not hold a valid SM2 public key") from None


def check_did_key_form(did: object) -> None:
    """Check that ``did`` is shaped like an SM2 ``did:key`` (see ``_did_key_form``)."""
    if not isinstance(did, str):
        raise ValueError("a DID is a string")
    if not _did_key_form(did):
        raise ValueError("not an SM2 did:key")


@lru_cache(maxsize=4096)
def _did_key_form(did: str) -> bool:
    """Check that ``did`` is shaped like an SM2 ``did:key`` without decompressing the point.

    Prefix, base58, multicodec ``sm2-pub``, 35 bytes, compressed point. Issuance and
    parsing use this cheap check (an off-curve key only makes the credential
    unpresentable); a presentation's holder key is decoded fully.
    """
    match = _DID_KEY.fullmatch(did)
    if match is None:
        return False
    try:
        raw = base58.b58decode(match.group(1)[1:])
    except ValueError:
        return False
    prefix = multikey.SM2_PUB_PREFIX
    return len(raw) == len(prefix) + 33 and raw.startswith(prefix) and raw[2] in (2, 3)


def parse_holder_verification_method(value: object) -> tuple[str, Sm2PublicKey]:
    """(DID, key) of ``did:key:<mb>#<mb>``; ValueError unless the fragment repeats the key."""
    if not isinstance(value, str):
        raise ValueError("a verification method is a string")
    did, sep, fragment = value.partition("#")
    if not sep or did != "did:key:" + fragment:
        raise ValueError("a did:key verification method is did:key:<mb>#<mb>")
    return did, public_key_of_did_key(did)


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document of a holder's ``did:key`` (derived from the DID itself)."""
    key = public_key_of_did_key(did)
    method = holder_verification_method(key)
    return {
        "@context": [DID_V1_1],
        "id": did,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey.encode(key),
            }
        ],
        "authentication": [method],
        "assertionMethod": [method],
    }


def _multibase(raw: bytes) -> str:
    """``publicKeyMultibase`` of a registry key; the registry checks format, not the curve."""
    try:
        return multikey.encode(Sm2PublicKey.from_bytes(raw))
    except InvalidKey:
        body = base58.b58encode(multikey.SM2_PUB_PREFIX + bytes(raw)).decode("ascii")
        return multikey.MULTIBASE_BASE58BTC + body


class KeySource(Protocol):
    """Where an issuer's key history comes from: an ``IndexView`` or an ``IssuerRegistry``."""

    def keys(self, issuer_id: int) -> list[KeyRecord]:
        """Every key the issuer ever added, in order."""


def resolve_issuer(source: KeySource, did: str) -> dict[str, Any]:
    """The DID document of issuer ``did``, from the chain index or the registry.

    Raises ValueError if ``did`` is not a ``did:tongban`` DID.
    """
    chain_id, issuer_id = parse_issuer_did(did)
    return issuer_document(chain_id, issuer_id, source.keys(issuer_id))


def issuer_document(chain_id: int, issuer_id: int, keys: Sequence[KeyRecord]) -> dict[str, Any]:
    """The DID document of an issuer, from its registry key history.

    Every key the issuer ever registered is listed (old credentials were signed with
    old keys) with its validity window: ``keyValidFrom`` (registry valid-from),
    ``expires`` (retired at) and ``revoked`` (compromised from). A verifier decides
    validity at the *anchor block time* of a credential, not now.
    """
    did = issuer_did(chain_id, issuer_id)
    methods: list[dict[str, Any]] = []
    for record in keys:
        method: dict[str, Any] = {
            "id": f"{did}#{record.key_id}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": _multibase(record.public_key),
            "keyValidFrom": format_seconds(record.valid_from),
        }
        if record.retired_at is not None:
            method["expires"] = format_seconds(record.retired_at)
        if record.compromised_from is not None:
            method["revoked"] = format_seconds(record.compromised_from)
        methods.append(method)
    return {
        "@context": [DID_V1_1, TONGBAN_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }
