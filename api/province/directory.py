"""The consortium directory: every province's URLs, signed by the provinces' own SM2 keys.

A wallet asks every province who accessed its holder's data (docs/citizen-timeline.md); it
learns where the provinces are from this document. Its form (``TongbanConsortiumDirectory/v1``)::

    {"type": "TongbanConsortiumDirectory/v1", "chainId": 1337, "version": 3,
     "issuedAt": "...Z", "validFrom": "...Z", "validUntil": "...Z", "threshold": 2,
     "provinces": [{"issuerId": 1, "divisionCode": "330000", "name": "浙江省",
                    "apiBaseUrl": "https://zj.example", "walletOrigin": null}, ...],
     "signatures": [{"issuerId": 1, "keyId": "did:tongban:1337:1#key-1",
                     "signature": "<r||s hex>"}, ...]}

Each signature is ``SignedPayload("tongban/consortium-directory/v1", JCS(document without
"signatures"))`` made by a listed province's signing key, the one IssuerRegistry holds under
``keyId`` for that issuer. At least ``threshold`` distinct listed provinces must sign, and never
fewer than a majority of those listed. Governor accounts are EVM keys; the provinces' SM2 keys
are already registered, rotated and marked compromised on chain by M-of-N governance, so the
directory inherits that lifecycle without a key type of its own. The checker is given the keys
(``KeyLookup``): read from the chain, or pinned by a wallet that cannot read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.audit.events import canonical_json, format_time, parse_time
from ledger.chain.contracts.errors import (
    IssuerRegistryInvalidKeyIdError,
    IssuerRegistryUnknownKeyError,
)
from ledger.chain.contracts.registry import IssuerRegistry
from ledger.crypto.errors import CryptoError
from ledger.crypto.signer import SignedPayload, Signer, verify_payload
from ledger.crypto.sm2 import Sm2PublicKey

__all__ = [
    "DIRECTORY_DOMAIN",
    "DIRECTORY_TYPE",
    "Directory",
    "DirectoryError",
    "DirectoryProvince",
    "KeyLookup",
    "parse_directory",
    "registry_keys",
    "sign_directory",
    "signing_payload",
    "verify_directory",
]

DIRECTORY_TYPE = "TongbanConsortiumDirectory/v1"
"""The ``type`` of a directory document."""

DIRECTORY_DOMAIN = "tongban/consortium-directory/v1"
"""The SignedPayload domain of a directory signature."""

KeyLookup = Callable[[int, str, int], Sm2PublicKey | None]
"""``(issuer_id, key_id, at_ms)`` -> the key the registry holds (None: unknown or compromised)."""

_FIELDS = {
    "type",
    "chainId",
    "version",
    "issuedAt",
    "validFrom",
    "validUntil",
    "threshold",
    "provinces",
    "signatures",
}
_PROVINCE_FIELDS = {"issuerId", "divisionCode", "name", "apiBaseUrl", "walletOrigin"}
_SIGNATURE_FIELDS = {"issuerId", "keyId", "signature"}
_DIVISION = re.compile(r"[1-9][0-9]0000")
_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
_KEY_ID = re.compile(r"did:tongban:[0-9]{1,20}:[0-9]{1,10}#[A-Za-z0-9._-]{1,32}")
_SIGNATURE = re.compile(r"[0-9a-f]{128}")
_MAX_PROVINCES = 64


class DirectoryError(ValueError):
    """The directory is malformed, out of its validity window or not signed as required.

    ``reason`` is a stable word: ``malformed``, ``not_yet_valid``, ``expired``,
    ``unknown_signer``, ``bad_signature``, ``too_few_signatures``.
    """

    def __init__(self, reason: str, detail: str) -> None:
        """Record the reason word and the sentence for people."""
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class DirectoryProvince:
    """One province as the directory lists it."""

    issuer_id: int
    division_code: str
    name: str
    api_base_url: str
    wallet_origin: str | None


@dataclass(frozen=True)
class Directory:
    """A parsed directory (its signatures not yet checked unless ``verify_directory`` made it)."""

    chain_id: int
    version: int
    issued_at_ms: int
    valid_from_ms: int
    valid_until_ms: int
    threshold: int
    provinces: tuple[DirectoryProvince, ...]
    document: dict[str, Any]

    def wallet_origins(self) -> tuple[str, ...]:
        """Every listed wallet origin, once each (what CORS may allow)."""
        seen = dict.fromkeys(p.wallet_origin for p in self.provinces if p.wallet_origin)
        return tuple(origin for origin in seen if origin is not None)


def _malformed(detail: str) -> DirectoryError:
    return DirectoryError("malformed", detail)


def _int(value: object, what: str, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low or value >= 2**53:
        raise _malformed(f"{what} is not a whole number of at least {low}")
    return value


def _text(value: object, what: str, pattern: re.Pattern[str] | None = None, cap: int = 200) -> str:
    if not isinstance(value, str) or not value or len(value) > cap:
        raise _malformed(f"{what} is not a text of 1 to {cap} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise _malformed(f"{what} is not of the expected form")
    return value


def _time(value: object, what: str) -> int:
    text = _text(value, what)
    try:
        return parse_time(text)
    except ValueError:
        raise _malformed(f"{what} is not a UTC time such as 2026-12-01T00:00:00.000Z") from None


def _members(value: object, allowed: set[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _malformed(f"{what} is not an object")
    extra = sorted(set(value) - allowed)
    missing = sorted(allowed - set(value) - {"walletOrigin", "signatures"})
    if extra or missing:
        raise _malformed(f"{what} has unknown members {extra} or lacks {missing}")
    return value


def _province(value: object, at: int) -> DirectoryProvince:
    item = _members(value, _PROVINCE_FIELDS, f"provinces[{at}]")
    origin = item.get("walletOrigin")
    return DirectoryProvince(
        issuer_id=_int(item["issuerId"], f"provinces[{at}].issuerId", 1),
        division_code=_text(item["divisionCode"], f"provinces[{at}].divisionCode", _DIVISION),
        name=_text(item["name"], f"provinces[{at}].name", cap=64),
        api_base_url=_text(item["apiBaseUrl"], f"provinces[{at}].apiBaseUrl", _URL).rstrip("/"),
        wallet_origin=None
        if origin is None
        else _text(origin, f"provinces[{at}].walletOrigin", _ORIGIN),
    )


def parse_directory(value: object) -> Directory:
    """Check the document's form (not its signatures) and return it parsed."""
    document = _members(value, _FIELDS, "the directory")
    if document["type"] != DIRECTORY_TYPE:
        raise _malformed(f"type is not {DIRECTORY_TYPE}")
    listed = document["provinces"]
    if not isinstance(listed, list) or not 1 <= len(listed) <= _MAX_PROVINCES:
        raise _malformed(f"provinces is not a list of 1 to {_MAX_PROVINCES}")
    provinces = tuple(_province(item, at) for at, item in enumerate(listed))
    if len({p.issuer_id for p in provinces}) != len(provinces):
        raise _malformed("an issuerId is listed twice")
    threshold = _int(document["threshold"], "threshold", 1)
    if threshold > len(provinces):
        raise _malformed("threshold is more than the provinces listed")
    valid_from = _time(document["validFrom"], "validFrom")
    valid_until = _time(document["validUntil"], "validUntil")
    if valid_until <= valid_from:
        raise _malformed("validUntil is not after validFrom")
    return Directory(
        chain_id=_int(document["chainId"], "chainId", 1),
        version=_int(document["version"], "version", 1),
        issued_at_ms=_time(document["issuedAt"], "issuedAt"),
        valid_from_ms=valid_from,
        valid_until_ms=valid_until,
        threshold=threshold,
        provinces=provinces,
        document=document,
    )


def signing_payload(document: Mapping[str, Any]) -> SignedPayload:
    """What each signer signs: the JCS of the document without its ``signatures``."""
    body = {name: value for name, value in document.items() if name != "signatures"}
    return SignedPayload(DIRECTORY_DOMAIN, canonical_json(body))


def sign_directory(document: Mapping[str, Any], issuer_id: int, signer: Signer) -> dict[str, Any]:
    """The document with one more signature, by province ``issuer_id``'s key in ``signer``."""
    parsed = parse_directory({"signatures": [], **document})
    if issuer_id not in {p.issuer_id for p in parsed.provinces}:
        raise DirectoryError("unknown_signer", f"issuer {issuer_id} is not listed")
    if not _KEY_ID.fullmatch(signer.key_id) or not signer.key_id.startswith(
        f"did:tongban:{parsed.chain_id}:{issuer_id}#"
    ):
        raise DirectoryError("unknown_signer", "the key is not this issuer's key on this chain")
    signature = signer.sign(signing_payload(document)).hex()
    kept = [s for s in document.get("signatures", []) if s.get("issuerId") != issuer_id]
    entry = {"issuerId": issuer_id, "keyId": signer.key_id, "signature": signature}
    return {**document, "signatures": [*kept, entry]}


def verify_directory(value: object, keys: KeyLookup, now_ms: int) -> Directory:
    """The directory, if it is well formed, valid at ``now_ms`` and signed as required.

    Each signature must be a listed province's, by the key ``keys`` gives for its ``keyId`` at
    the document's ``issuedAt``; distinct signing provinces must reach both ``threshold`` and a
    majority of those listed. Raises ``DirectoryError`` naming the first rule broken.
    """
    directory = parse_directory(value)
    if now_ms < directory.valid_from_ms:
        raise DirectoryError("not_yet_valid", f"valid from {format_time(directory.valid_from_ms)}")
    if now_ms >= directory.valid_until_ms:
        raise DirectoryError("expired", f"valid until {format_time(directory.valid_until_ms)}")
    signatures = directory.document.get("signatures", [])
    if not isinstance(signatures, list) or len(signatures) > _MAX_PROVINCES:
        raise _malformed("signatures is not a list")
    listed = {p.issuer_id for p in directory.provinces}
    payload = signing_payload(directory.document)
    signed: set[int] = set()
    for at, raw in enumerate(signatures):
        item = _members(raw, _SIGNATURE_FIELDS, f"signatures[{at}]")
        issuer = _int(item["issuerId"], f"signatures[{at}].issuerId", 1)
        key_id = _text(item["keyId"], f"signatures[{at}].keyId", _KEY_ID)
        signature = _text(item["signature"], f"signatures[{at}].signature", _SIGNATURE)
        if issuer not in listed or not key_id.startswith(
            f"did:tongban:{directory.chain_id}:{issuer}#"
        ):
            raise DirectoryError("unknown_signer", f"signatures[{at}] is not a listed province's")
        key = keys(issuer, key_id, directory.issued_at_ms)
        if key is None:
            raise DirectoryError("unknown_signer", f"no registered key {key_id}")
        try:
            verify_payload(key, payload, bytes.fromhex(signature))
        except Exception:  # noqa: BLE001 - any failure of the check is a bad signature
            raise DirectoryError("bad_signature", f"signatures[{at}] does not verify") from None
        signed.add(issuer)
    needed = max(directory.threshold, len(listed) // 2 + 1)
    if len(signed) < needed:
        raise DirectoryError(
            "too_few_signatures", f"{len(signed)} provinces signed; {needed} are needed"
        )
    return directory


def registry_keys(registry: IssuerRegistry) -> KeyLookup:
    """Keys as IssuerRegistry holds them; one marked compromised by the time asked is none.

    The same rule as the browser's (``registry.js`` ``readProvinceKey``): a retired key still
    vouches for a directory it signed while in use.
    """

    def lookup(issuer_id: int, key_id: str, at_ms: int) -> Sm2PublicKey | None:
        try:
            record = registry.key(issuer_id, key_id.rsplit("#", 1)[1])
            key = Sm2PublicKey.from_bytes(record.public_key)
        except (IssuerRegistryUnknownKeyError, IssuerRegistryInvalidKeyIdError, CryptoError):
            return None  # unknown or malformed: vouches for nothing (an unreachable node raises)
        compromised = record.compromised_from
        if compromised is not None and compromised <= at_ms // 1000:
            return None
        return key

    return lookup
