"""W3C Bitstring Status List v1.0 (Recommendation, 2025-05-15) for Tongban credentials.

A status list is a bitstring published inside a ``BitstringStatusListCredential``;
a credential points at one bit through a ``BitstringStatusListEntry`` in its
``credentialStatus``. Everything here is pure (no store, no chain, no network), so
the issuer, the writer that publishes lists, the verifier and the wallet share it.

- **Bitstring** (section 2.2): index 0 is the left-most bit of the first byte
  (its most significant bit), index ``length - 1`` the right-most bit of the last
  byte. A list has at least 131,072 entries (16 KiB); Tongban's lists have exactly
  ``LIST_SIZE`` entries of one bit (``statusSize`` 1).
- **encodedList** (sections 2.2, 3.3, 3.4): GZIP (RFC 1952) of the bitstring,
  base64url without padding (RFC 4648), with the Multibase prefix ``u``. Decoding
  caps the decompressed size (``max_bytes``), so a small GZIP bomb cannot expand to
  gigabytes.
- **Purposes**: Tongban uses ``revocation`` (final, as on chain) and ``suspension``
  (reversible). A credential gets one entry per purpose, at the same index of list
  number N of each purpose (``status_entries``).
- **The list credential** (``unsigned_list_credential``) is a VC 2.0 credential of
  type ``BitstringStatusListCredential``; its subject (type ``BitstringStatusList``)
  carries ``statusPurpose``, ``encodedList``, ``ttl`` (milliseconds) and the
  Tongban term ``statusBlock``: the chain block whose statuses the bits reflect.
  It is signed like a credential, with one ``sm2-jcs-2026`` DataIntegrityProof
  object (``sign_list_credential``; ``proof`` is an object, not an array).
- **Validation** (section 3.2, ``list_status``) follows the algorithm step by step
  and reports its errors (section 3.5 and VC 2.0 section 7.1): the entry or list
  is malformed (``MALFORMED_VALUE_ERROR``), the list could not be retrieved
  (``STATUS_RETRIEVAL_ERROR``), a proof does not verify or the purposes differ
  (``STATUS_VERIFICATION_ERROR``), the list is shorter than 131,072 entries
  (``STATUS_LIST_LENGTH_ERROR``), the index lies outside it (``RANGE_ERROR``).
  One Tongban addition: a list whose ``id`` is not the entry's
  ``statusListCredential`` fails with ``STATUS_VERIFICATION_ERROR``, so a holder
  cannot staple another list of the same issuer in place of the right one.

Messages name members (``credentialStatus.statusListIndex``), never values.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from credentials.contexts import CREDENTIALS_V2, TONGBAN_V1
from credentials.cryptosuite import ASSERTION, CRYPTOSUITE, PROOF_TYPE, create_proof, verify_proof
from credentials.did import parse_issuer_verification_method
from ledger.crypto.errors import InvalidSignature
from ledger.crypto.signer import Signer
from ledger.crypto.sm2 import Sm2PublicKey

__all__ = [
    "ENTRY_TYPE",
    "LIST_BYTES",
    "LIST_CREDENTIAL_TYPE",
    "LIST_SIZE",
    "LIST_TYPE",
    "MAX_LIST_BYTES",
    "PURPOSES",
    "ListStatus",
    "Purpose",
    "StatusListError",
    "StatusListFormatError",
    "bit_at",
    "bitstring",
    "decode_list",
    "encode_list",
    "entry_fields",
    "list_proof_verifier",
    "list_purposes_of",
    "list_status",
    "list_subject",
    "list_url",
    "sign_list_credential",
    "status_entries",
    "unsigned_list_credential",
]

LIST_SIZE = 131_072
"""Entries in every Tongban list: the minimum of section 3.2 (16 KiB of one-bit entries)."""

LIST_BYTES = LIST_SIZE // 8
"""Bytes of an uncompressed Tongban bitstring (16,384)."""

MAX_LIST_BYTES = 16 * 1024 * 1024
"""Default cap on a decompressed bitstring read from elsewhere (128 times the minimum)."""

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"

_MULTIBASE_BASE64URL = "u"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_MAX_INDEX_DIGITS = 20
"""A longer index string is out of range of any list a processor would accept."""


class Purpose(StrEnum):
    """The status purposes Tongban publishes (section 2.1), one list per purpose."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


PURPOSES = (Purpose.REVOCATION, Purpose.SUSPENSION)
"""Every credential gets one entry per purpose, in this order."""


class StatusListError(StrEnum):
    """The errors the validation algorithm raises (section 3.5; VC 2.0 section 7.1)."""

    STATUS_RETRIEVAL_ERROR = "STATUS_RETRIEVAL_ERROR"
    STATUS_VERIFICATION_ERROR = "STATUS_VERIFICATION_ERROR"
    STATUS_LIST_LENGTH_ERROR = "STATUS_LIST_LENGTH_ERROR"
    MALFORMED_VALUE_ERROR = "MALFORMED_VALUE_ERROR"
    RANGE_ERROR = "RANGE_ERROR"

    @property
    def type_url(self) -> str:
        """The RFC 9457 ``type`` of this error, as section 3.5 (or VC 2.0) spells it."""
        if self in (StatusListError.MALFORMED_VALUE_ERROR, StatusListError.RANGE_ERROR):
            return f"https://www.w3.org/TR/vc-data-model#{self.value}"
        return f"https://www.w3.org/ns/credentials/status-list#{self.value}"


class StatusListFormatError(ValueError):
    """An encodedList or bitstring that breaks the format; ``error`` is the spec's error."""

    def __init__(self, message: str, error: StatusListError) -> None:
        """``message`` names the rule, never the value."""
        super().__init__(message)
        self.error = error


# ------------------------------------------------------------------ the bitstring


def bitstring(indexes: Iterable[int], *, size: int = LIST_SIZE) -> bytes:
    """A bitstring of ``size`` entries (a multiple of 8) with the bits at ``indexes`` set."""
    if size <= 0 or size % 8:
        raise ValueError("a bitstring's size is a positive multiple of 8")
    bits = bytearray(size // 8)
    for index in indexes:
        if not 0 <= index < size:
            raise IndexError("a status list index is outside the bitstring")
        bits[index >> 3] |= 0x80 >> (index & 7)
    return bytes(bits)


def bit_at(bits: bytes, index: int) -> bool:
    """Whether entry ``index`` is set: index 0 is the most significant bit of byte 0."""
    if not 0 <= index < len(bits) * 8:
        raise IndexError("a status list index is outside the bitstring")
    return bool(bits[index >> 3] & (0x80 >> (index & 7)))


def encode_list(bits: bytes) -> str:
    """``encodedList`` of ``bits``: ``u`` + base64url (no padding) of GZIP(bits).

    The bitstring must be at least 16 KiB (section 2.2). GZIP's modification time
    is written as 0, so the same bits always give the same string.
    """
    if len(bits) < LIST_BYTES:
        raise StatusListFormatError(
            "the uncompressed bitstring must be at least 16 KiB",
            StatusListError.STATUS_LIST_LENGTH_ERROR,
        )
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return _MULTIBASE_BASE64URL + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_list(encoded: str, *, max_bytes: int) -> bytes:
    """The bitstring in ``encodedList`` ``encoded`` (section 3.4), at most ``max_bytes`` long.

    Raises ``StatusListFormatError`` (``MALFORMED_VALUE_ERROR``) for a missing ``u``
    prefix, characters outside base64url, padding, non-canonical trailing bits, a
    stream that is not complete GZIP, or a bitstring longer than ``max_bytes`` (the
    decompression stops there: a bomb costs at most ``max_bytes`` of memory).
    """
    malformed = StatusListError.MALFORMED_VALUE_ERROR
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    if not isinstance(encoded, str) or not encoded.startswith(_MULTIBASE_BASE64URL):
        raise StatusListFormatError("encodedList must be Multibase base64url ('u...')", malformed)
    body = encoded[1:]
    # Deflate adds at most 5 bytes per 16 KiB block to incompressible data, so a longer
    # text cannot hold a bitstring within the cap: refused before anything is decoded.
    longest = (max_bytes + max_bytes // 1000 + 1024) * 4 // 3 + 4
    if len(body) > longest or not _BASE64URL.fullmatch(body):
        raise StatusListFormatError("encodedList is not base64url without padding", malformed)
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise StatusListFormatError(
            "encodedList is not base64url without padding", malformed
        ) from None
    if base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii") != body:
        raise StatusListFormatError("encodedList is not canonical base64url", malformed)
    return _gunzip(compressed, max_bytes)


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    malformed = StatusListError.MALFORMED_VALUE_ERROR
    out = bytearray()
    remaining = data
    while True:  # RFC 1952 allows several members back to back
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(remaining, max_bytes - len(out) + 1)
        except zlib.error:
            raise StatusListFormatError("encodedList is not GZIP data", malformed) from None
        if len(out) > max_bytes or inflater.unconsumed_tail:
            raise StatusListFormatError("the bitstring expands beyond the accepted size", malformed)
        if not inflater.eof:
            raise StatusListFormatError("encodedList is truncated GZIP data", malformed)
        remaining = inflater.unused_data
        if not remaining:
            return bytes(out)


# ------------------------------------------------------------------ issuing side


def list_url(public_base: str, list_number: int, purpose: str) -> str:
    """The absolute, stable URL of list ``list_number`` of ``purpose``.

    ``public_base`` is the province's public base URL (``http(s)://host[:port][/path]``,
    no query or fragment; a trailing ``/`` is ignored).
    """
    parts = urlsplit(public_base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("the public base URL must be an absolute http(s) URL without query")
    if isinstance(list_number, bool) or not isinstance(list_number, int) or list_number < 1:
        raise ValueError("list numbers start at 1")
    if purpose not in {p.value for p in PURPOSES}:
        raise ValueError("the purpose must be revocation or suspension")
    return f"{public_base.rstrip('/')}/status-lists/{list_number}/{purpose}"


def status_entries(list_url_for: Callable[[str], str], index: int) -> list[dict[str, Any]]:
    """The ``credentialStatus`` entries of a credential at ``index``: one per purpose.

    ``list_url_for(purpose)`` is the URL of that purpose's list (the same list
    number for both). Each entry's ``id`` is the list URL with ``#<index>``, which
    section 2.1 allows (it must not be the list's own URL).
    """
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < LIST_SIZE:
        raise ValueError("a status list index is between 0 and LIST_SIZE - 1")
    entries = []
    for purpose in PURPOSES:
        url = list_url_for(purpose.value)
        entries.append(
            {
                "id": f"{url}#{index}",
                "type": ENTRY_TYPE,
                "statusPurpose": purpose.value,
                "statusListIndex": str(index),
                "statusListCredential": url,
            }
        )
    return entries


def unsigned_list_credential(
    *,
    list_url: str,
    issuer_did: str,
    purpose: str,
    bits: bytes,
    valid_from: str,
    block_number: int,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """The ``BitstringStatusListCredential`` of ``bits`` as of chain block ``block_number``.

    ``list_url`` is both the credential's ``id`` and what entries name in
    ``statusListCredential``; the subject's id is ``<list_url>#list``. ``ttl_ms``,
    when given, tells verifiers how long to cache it (section 2.2).
    """
    if purpose not in {p.value for p in PURPOSES}:
        raise ValueError("the purpose must be revocation or suspension")
    if block_number < 0:
        raise ValueError("a block number is not negative")
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": encode_list(bits),
    }
    if ttl_ms is not None:
        if ttl_ms < 0:
            raise ValueError("ttl is not negative")
        subject["ttl"] = ttl_ms
    subject["statusBlock"] = block_number
    return {
        "@context": [CREDENTIALS_V2, TONGBAN_V1],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer_did,
        "validFrom": valid_from,
        "credentialSubject": subject,
    }


def sign_list_credential(
    unsigned: Mapping[str, Any], signer: Signer, *, created: str
) -> dict[str, Any]:
    """``unsigned`` with one ``sm2-jcs-2026`` DataIntegrityProof object by the issuer's key.

    The signer's key id is the verification method ``<issuer DID>#<keyId>``.
    """
    method = parse_issuer_verification_method(signer.key_id)
    if method.did != unsigned.get("issuer"):
        raise ValueError("the signing key's DID is not the list credential's issuer")
    proof = create_proof(
        unsigned,
        signer,
        verification_method=signer.key_id,
        proof_purpose=ASSERTION,
        created=created,
    )
    return {**unsigned, "proof": proof}


def list_proof_verifier(
    key_for: Callable[[str], Sm2PublicKey | None],
) -> Callable[[Mapping[str, Any]], bool]:
    """A proof check for ``list_status``: one sm2-jcs-2026 proof by the list's issuer.

    ``key_for(verification_method)`` returns the issuer's key for that method if
    the caller trusts it now (the verifier asks its chain index), else None.
    """

    def verify(document: Mapping[str, Any]) -> bool:
        proof = document.get("proof")
        if isinstance(proof, list) and len(proof) == 1:
            proof = proof[0]
        if not isinstance(proof, Mapping):
            return False
        if (
            proof.get("type") != PROOF_TYPE
            or proof.get("cryptosuite") != CRYPTOSUITE
            or proof.get("proofPurpose") != ASSERTION
        ):
            return False
        method = proof.get("verificationMethod")
        try:
            if parse_issuer_verification_method(method).did != document.get("issuer"):
                return False
        except ValueError:
            return False
        key = key_for(str(method))
        if key is None:
            return False
        unsigned = {k: v for k, v in document.items() if k != "proof"}
        try:
            verify_proof(unsigned, proof, key)
        except (ValueError, InvalidSignature):
            return False
        return True

    return verify


# ------------------------------------------------------------------ validation


@dataclass(frozen=True)
class ListStatus:
    """What section 3.2 returns for one entry: the status bit, or the error it raised.

    ``status`` is the entry's value (0 or 1) and ``valid`` is ``status == 0``; both
    are None when ``error`` is set. ``status_block`` is the list's ``statusBlock``
    when it has one (the chain block it reflects), so a caller can judge freshness.
    """

    purpose: str | None
    index: int | None
    status: int | None
    valid: bool | None
    error: StatusListError | None
    message: str
    status_block: int | None = None

    @property
    def is_set(self) -> bool:
        """Whether the bit is set (revoked or suspended, by ``purpose``)."""
        return self.status == 1


def _fail(
    error: StatusListError, message: str, purpose: object = None, index: int | None = None
) -> ListStatus:
    return ListStatus(
        purpose if isinstance(purpose, str) else None, index, None, None, error, message
    )


def entry_fields(entry: object) -> tuple[str, int | None, str] | ListStatus:
    """(purpose, index or None when out of any range, list URL), or the error."""
    malformed = StatusListError.MALFORMED_VALUE_ERROR
    if not isinstance(entry, Mapping):
        return _fail(malformed, "credentialStatus must be an object")
    if entry.get("type") != ENTRY_TYPE:
        return _fail(malformed, "credentialStatus.type must be BitstringStatusListEntry")
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str):
        return _fail(malformed, "credentialStatus.statusPurpose must be a string")
    raw_index = entry.get("statusListIndex")
    if not isinstance(raw_index, str) or not _DIGITS.fullmatch(raw_index):
        return _fail(
            malformed,
            "credentialStatus.statusListIndex must be a string of decimal digits",
            purpose,
        )
    url = entry.get("statusListCredential")
    if not isinstance(url, str) or not _is_url(url):
        return _fail(malformed, "credentialStatus.statusListCredential must be a URL", purpose)
    size = entry.get("statusSize", 1)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        return _fail(malformed, "credentialStatus.statusSize must be an integer above 0", purpose)
    if size != 1:
        return _fail(
            StatusListError.STATUS_VERIFICATION_ERROR,
            "credentialStatus.statusSize above 1 is not supported (section 1.3 allows that)",
            purpose,
        )
    index = int(raw_index) if len(raw_index) <= _MAX_INDEX_DIGITS else None
    return purpose, index, url


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme not in ("http", "https"))


def list_subject(list_credential: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The list credential's one ``credentialSubject`` object, None if it has not exactly one."""
    subject = list_credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    return subject if isinstance(subject, Mapping) else None


def list_purposes_of(value: object) -> list[str] | None:
    """A ``statusPurpose`` value as a list of strings, None when it is neither form."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def list_status(
    entry: Mapping[str, Any],
    list_credential: Mapping[str, Any] | None,
    *,
    verify_proof: Callable[[Mapping[str, Any]], bool],
    max_bytes: int = MAX_LIST_BYTES,
    minimum_entries: int = LIST_SIZE,
) -> ListStatus:
    """Section 3.2 for one ``credentialStatus`` entry and the list credential it names.

    ``list_credential`` is what dereferencing ``statusListCredential`` gave (None:
    the retrieval failed); ``verify_proof`` checks all its proofs (see
    ``list_proof_verifier``). Never raises for bad input: the result carries the
    spec's error instead.
    """
    fields = entry_fields(entry)
    if isinstance(fields, ListStatus):
        return fields
    purpose, index, url = fields
    malformed = StatusListError.MALFORMED_VALUE_ERROR
    verification = StatusListError.STATUS_VERIFICATION_ERROR
    # step 4: dereference, then verify every proof
    if list_credential is None:
        return _fail(
            StatusListError.STATUS_RETRIEVAL_ERROR,
            "the status list could not be retrieved",
            purpose,
            index,
        )
    if not isinstance(list_credential, Mapping):
        return _fail(malformed, "the status list credential must be an object", purpose, index)
    try:
        proofs_ok = "proof" in list_credential and verify_proof(list_credential)
    except Exception:  # noqa: BLE001 - a failing proof check is a failed verification
        proofs_ok = False
    if not proofs_ok:
        return _fail(
            verification, "the status list credential's proof does not verify", purpose, index
        )
    # the data model's MUSTs (section 2.2)
    kinds = list_credential.get("type")
    if not isinstance(kinds, list) or LIST_CREDENTIAL_TYPE not in kinds:
        return _fail(malformed, "type must include BitstringStatusListCredential", purpose, index)
    list_id = list_credential.get("id")
    if list_id is not None and list_id != url:
        return _fail(
            verification,
            "the status list credential's id is not the entry's statusListCredential",
            purpose,
            index,
        )
    subject = list_subject(list_credential)
    if subject is None or subject.get("type") != LIST_TYPE:
        return _fail(
            malformed, "credentialSubject.type must be BitstringStatusList", purpose, index
        )
    list_purposes = list_purposes_of(subject.get("statusPurpose"))
    if list_purposes is None:
        return _fail(malformed, "credentialSubject.statusPurpose must be strings", purpose, index)
    ttl = subject.get("ttl")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0):
        return _fail(malformed, "credentialSubject.ttl must be milliseconds", purpose, index)
    block = subject.get("statusBlock")
    status_block = block if isinstance(block, int) and not isinstance(block, bool) else None
    # step 5: the entry's purpose is one of the list's
    if purpose not in list_purposes:
        return _fail(
            verification,
            "the entry's statusPurpose is not the list's statusPurpose",
            purpose,
            index,
        )
    # steps 6 and 8: expand the bitstring
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        return _fail(malformed, "credentialSubject.encodedList must be a string", purpose, index)
    try:
        bits = decode_list(encoded, max_bytes=max_bytes)
    except StatusListFormatError as exc:
        return _fail(exc.error, str(exc), purpose, index)
    # step 9: at least minimumNumberOfEntries (statusSize is 1)
    if len(bits) * 8 < minimum_entries:
        return _fail(
            StatusListError.STATUS_LIST_LENGTH_ERROR,
            "the status list is shorter than the minimum number of entries",
            purpose,
            index,
        )
    # step 10: the value at the index, which must lie inside the bitstring
    if index is None or index >= len(bits) * 8:
        return _fail(
            StatusListError.RANGE_ERROR,
            "credentialStatus.statusListIndex is outside the status list",
            purpose,
            index,
        )
    status = int(bit_at(bits, index))
    # steps 11-13: status, purpose and valid
    return ListStatus(purpose, index, status, status == 0, None, "ok", status_block)
