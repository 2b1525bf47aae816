"""The certificate file bound by SM3: the OFD or PDF a credential names, and its check.

The issuing system produces a file (OFD, GB/T 33190, or PDF) that stays off chain
and out of the audit log; the credential names it by digest, media type and size,
as one entry of the VC Data Model 2.0 ``relatedResource`` (section 5.3, Integrity
of Related Resources)::

    "relatedResource": [{
      "id": "urn:tongban:certificate-file:sm3:<64 lowercase hex: SM3 of the file>",
      "digestMultibase": "u<base64url, no padding, of the multihash sm3-256>",
      "mediaType": "application/pdf",
      "fileSize": 48213
    }]

- ``digestMultibase`` is multibase base64url (prefix ``u``, the encoding the VC Data
  Model's own examples use) of the multihash: the varint of the multicodec code
  ``sm3-256`` (0x534d: bytes ``cd a6 01``), the length ``0x20`` and the 32-byte
  SM3 digest of the file's bytes.
- ``id`` names the bytes themselves (content-addressed): two credentials naming
  the same file name the same resource, as linked data expects, and the id says
  which entry is the certificate file without a second convention. It must agree
  with ``digestMultibase``.
- ``fileSize`` (Tongban's term, in the Tongban context) is the size in bytes,
  1 to ``MAX_FILE_BYTES``: every named file can be checked by ``POST
  /documents/verify``, whose upload cap is that size.

``check_file`` answers whether given bytes are the file a credential names: the
media type (read from the bytes, never from a client's label), then the size,
then the digest, so a file of another kind or length is named as such and a
same-length change (one byte) is ``file_digest_mismatch``. Nothing here logs or
quotes the file's bytes; only its digest may be shown.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credentials.reasons import Reason
from credentials.verify.outcome import Failed, Passed
from ledger.crypto.sm3 import sm3

__all__ = [
    "MAX_FILE_BYTES",
    "MEDIA_TYPES",
    "OFD",
    "PDF",
    "RELATED_RESOURCE",
    "RESOURCE_PREFIX",
    "SM3_MULTIHASH_PREFIX",
    "CertificateFile",
    "FileBindingError",
    "FileFacts",
    "certificate_file_from_request",
    "certificate_file_from_resource",
    "check_facts",
    "check_file",
    "describe_file",
    "file_digest",
    "inspect_file",
    "is_certificate_file_entry",
    "named_file",
    "sniff_media_type",
]

OFD = "application/ofd"
"""Media type of an OFD document (GB/T 33190-2016)."""
PDF = "application/pdf"
"""Media type of a PDF document."""
MEDIA_TYPES = (OFD, PDF)
"""The media types a certificate file may have."""

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Largest certificate file a credential may name, and the upload cap of the verify route."""

RELATED_RESOURCE = "relatedResource"
"""The credential member that names the file (VC Data Model 2.0, section 5.3)."""
RESOURCE_PREFIX = "urn:tongban:certificate-file:sm3:"
"""The ``id`` of a certificate file entry: this prefix and the file's SM3 digest in hex."""
SM3_MULTIHASH_PREFIX = bytes([0xCD, 0xA6, 0x01, 0x20])
"""Multihash header of an SM3 digest: varint(0x534d, ``sm3-256``) then the length 32."""

_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_ENTRY_MEMBERS = frozenset({"id", "digestMultibase", "mediaType", "fileSize"})
_REQUEST_MEMBERS = frozenset({"digestSm3", "mediaType", "size"})
# A PDF reader accepts the header anywhere in the first 1,024 bytes (ISO 32000-2, 7.5.2
# implementation note); an OFD file is a ZIP package whose root holds OFD.xml.
_PDF_HEADER = b"%PDF-"
_PDF_WINDOW = 1024
_ZIP_HEADER = b"PK\x03\x04"
_OFD_ENTRY = "OFD.xml"
_NAMES = {OFD: "an OFD document", PDF: "a PDF document"}


class FileBindingError(ValueError):
    """A certificate file member or entry that breaks a rule: ``pointer`` and ``rule``.

    Neither quotes a value of the document.
    """

    def __init__(self, pointer: str, rule: str) -> None:
        """The member at ``pointer`` (JSON pointer) breaks ``rule``."""
        super().__init__(f"{pointer or '/'} {rule}")
        self.pointer = pointer
        self.rule = rule


@dataclass(frozen=True)
class CertificateFile:
    """A certificate file as a credential names it: SM3 digest, media type, size in bytes."""

    digest: bytes
    media_type: str
    size: int

    def __post_init__(self) -> None:
        """The digest is 32 bytes, the media type OFD or PDF, the size 1 to the cap."""
        if len(self.digest) != 32:
            raise FileBindingError("/digestSm3", "must be an SM3 digest (32 bytes)")
        if self.media_type not in MEDIA_TYPES:
            raise FileBindingError("/mediaType", f"must be one of {', '.join(MEDIA_TYPES)}")
        if isinstance(self.size, bool) or not 1 <= self.size <= MAX_FILE_BYTES:
            raise FileBindingError("/size", f"must be 1 to {MAX_FILE_BYTES} bytes")

    @property
    def digest_hex(self) -> str:
        """The SM3 digest in lowercase hex."""
        return self.digest.hex()

    @property
    def resource_id(self) -> str:
        """The entry's ``id``: ``urn:tongban:certificate-file:sm3:<hex>``."""
        return RESOURCE_PREFIX + self.digest_hex

    @property
    def digest_multibase(self) -> str:
        """``u`` + base64url (no padding) of the sm3-256 multihash of the file."""
        encoded = base64.urlsafe_b64encode(SM3_MULTIHASH_PREFIX + self.digest)
        return "u" + encoded.rstrip(b"=").decode("ascii")

    def to_related_resource(self) -> dict[str, Any]:
        """The ``relatedResource`` entry naming this file."""
        return {
            "id": self.resource_id,
            "digestMultibase": self.digest_multibase,
            "mediaType": self.media_type,
            "fileSize": self.size,
        }

    def to_request_json(self) -> dict[str, Any]:
        """The issue request's ``certificateFile`` member: ``{digestSm3, mediaType, size}``."""
        return {"digestSm3": self.digest_hex, "mediaType": self.media_type, "size": self.size}


def file_digest(data: bytes) -> bytes:
    """SM3 of the file's bytes."""
    return sm3(bytes(data))


def sniff_media_type(data: bytes) -> str | None:
    """``application/pdf`` or ``application/ofd`` as the bytes show it; None for neither."""
    if _PDF_HEADER in data[:_PDF_WINDOW]:
        return PDF
    if data.startswith(_ZIP_HEADER):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                names = package.namelist()
        except Exception:  # noqa: BLE001 - untrusted bytes: any unreadable package is not OFD
            # zipfile raises more than BadZipFile on hostile input (NotImplementedError for
            # a made-up version, UnicodeDecodeError for a name flagged UTF-8 that is not).
            return None
        if _OFD_ENTRY in names:
            return OFD
    return None


def describe_file(data: bytes, media_type: str | None = None) -> CertificateFile:
    """The ``CertificateFile`` of ``data``: its digest, size, and media type.

    ``media_type`` defaults to what the bytes show; raises ``FileBindingError`` for a
    file that is neither OFD nor PDF, empty, or over the cap.
    """
    kind = media_type if media_type is not None else sniff_media_type(data)
    if kind is None:
        raise FileBindingError("", "is neither a PDF nor an OFD document")
    return CertificateFile(file_digest(data), kind, len(data))


def _members(value: object, at: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise FileBindingError(at, "must be a JSON object")
    missing = sorted(allowed - set(value))
    if missing:
        raise FileBindingError(f"{at}/{missing[0]}", "is required")
    extra = [name for name in value if name not in allowed]
    if extra:
        named = sorted(n for n in extra if isinstance(n, str) and n.isascii() and n.isalnum())
        where = f"{at}/{named[0]}" if named else at
        raise FileBindingError(where, "is not a member of a certificate file")
    return value


def _size(value: object, at: str) -> int:
    if type(value) is not int or not 1 <= value <= MAX_FILE_BYTES:
        raise FileBindingError(at, f"must be an integer from 1 to {MAX_FILE_BYTES}")
    return value


def _media_type(value: object, at: str) -> str:
    if value not in MEDIA_TYPES:
        raise FileBindingError(at, f"must be one of {', '.join(MEDIA_TYPES)}")
    return str(value)


def certificate_file_from_request(value: object, at: str = "/certificateFile") -> CertificateFile:
    """The issue request's ``certificateFile`` member ``{digestSm3, mediaType, size}``.

    Raises ``FileBindingError`` naming the member at fault (never its value).
    """
    member = _members(value, at, _REQUEST_MEMBERS)
    digest = member["digestSm3"]
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise FileBindingError(f"{at}/digestSm3", "must be 64 lowercase hex characters (SM3)")
    return CertificateFile(
        bytes.fromhex(digest),
        _media_type(member["mediaType"], f"{at}/mediaType"),
        _size(member["size"], f"{at}/size"),
    )


def _multibase_digest(value: object, at: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("u") or "=" in value:
        raise FileBindingError(at, "must be multibase base64url (u...) of an sm3-256 multihash")
    try:
        raw = base64.urlsafe_b64decode(value[1:] + "=" * (-len(value[1:]) % 4))
    except (binascii.Error, ValueError):
        raise FileBindingError(at, "is not base64url") from None
    if len(raw) != len(SM3_MULTIHASH_PREFIX) + 32 or not raw.startswith(SM3_MULTIHASH_PREFIX):
        raise FileBindingError(at, "must be an sm3-256 multihash (0x534d, 32 bytes)")
    return raw[len(SM3_MULTIHASH_PREFIX) :]


def is_certificate_file_entry(entry: object) -> bool:
    """Whether a ``relatedResource`` entry claims to be a certificate file (by its ``id``)."""
    return (
        isinstance(entry, Mapping)
        and isinstance(entry.get("id"), str)
        and entry["id"].startswith(RESOURCE_PREFIX)
    )


def certificate_file_from_resource(value: object, at: str = "") -> CertificateFile:
    """A certificate file ``relatedResource`` entry (see the module docstring), checked.

    Raises ``FileBindingError`` naming the member at fault (never its value).
    """
    entry = _members(value, at, _ENTRY_MEMBERS)
    digest = _multibase_digest(entry["digestMultibase"], f"{at}/digestMultibase")
    if entry["id"] != RESOURCE_PREFIX + digest.hex():
        raise FileBindingError(
            f"{at}/id", f"must be {RESOURCE_PREFIX}<hex> of the digest in digestMultibase"
        )
    return CertificateFile(
        digest,
        _media_type(entry["mediaType"], f"{at}/mediaType"),
        _size(entry["fileSize"], f"{at}/fileSize"),
    )


def named_file(credential: Mapping[str, Any]) -> CertificateFile | None:
    """The certificate file ``credential`` names, or None when it names none.

    Raises ``FileBindingError`` for an entry that claims to be one and is malformed,
    or for more than one such entry.
    """
    value = credential.get(RELATED_RESOURCE)
    if value is None:
        return None
    entries = value if isinstance(value, list) else [value]
    found: CertificateFile | None = None
    for index, entry in enumerate(entries):
        if not is_certificate_file_entry(entry):
            continue
        at = f"/{RELATED_RESOURCE}/{index}" if isinstance(value, list) else f"/{RELATED_RESOURCE}"
        if found is not None:
            raise FileBindingError(at, "names a second certificate file (one is allowed)")
        found = certificate_file_from_resource(entry, at)
    return found


@dataclass(frozen=True)
class FileFacts:
    """What a given file is: SM3 digest, media type, size in bytes.

    ``media_type`` is what the bytes show, None when they are neither OFD nor PDF.
    """

    digest: bytes
    media_type: str | None
    size: int


def inspect_file(data: bytes) -> FileFacts:
    """The ``FileFacts`` of ``data`` (one SM3 pass over it)."""
    return FileFacts(file_digest(data), sniff_media_type(data), len(data))


def check_file(credential: Mapping[str, Any], data: bytes) -> Passed[CertificateFile] | Failed:
    """Whether ``data`` is exactly the file ``credential`` names (``check_facts``)."""
    return check_facts(credential, inspect_file(data))


def check_facts(
    credential: Mapping[str, Any], facts: FileFacts
) -> Passed[CertificateFile] | Failed:
    """Whether the file of ``facts`` is exactly the file ``credential`` names.

    ``file_not_named`` (no certificate file entry, or a malformed one),
    ``file_media_type_mismatch`` (the bytes are not the kind named),
    ``file_size_mismatch``, ``file_digest_mismatch``; messages quote no value.
    """
    try:
        named = named_file(credential)
    except FileBindingError as broken:
        return Failed(
            Reason.FILE_NOT_NAMED,
            f"the credential's certificate file entry is malformed: {broken.rule}",
            broken.pointer or None,
        )
    if named is None:
        return Failed(Reason.FILE_NOT_NAMED, "the credential names no certificate file")
    at = _entry_pointer(credential)
    kind = facts.media_type
    if kind != named.media_type:
        shown = "neither a PDF nor an OFD document" if kind is None else _NAMES[kind]
        return Failed(
            Reason.FILE_MEDIA_TYPE_MISMATCH,
            f"the credential names {_NAMES[named.media_type]}; the file is {shown}",
            f"{at}/mediaType",
        )
    if facts.size != named.size:
        return Failed(
            Reason.FILE_SIZE_MISMATCH,
            f"the file has {facts.size} bytes; the credential names a file of {named.size}",
            f"{at}/fileSize",
        )
    if facts.digest != named.digest:
        return Failed(
            Reason.FILE_DIGEST_MISMATCH,
            "the file's SM3 digest is not the one the credential names: another file",
            f"{at}/digestMultibase",
        )
    return Passed(named, "the file is the one the credential names (SM3, size, media type)")


def _entry_pointer(credential: Mapping[str, Any]) -> str:
    value = credential.get(RELATED_RESOURCE)
    if isinstance(value, list):
        for index, entry in enumerate(value):
            if is_certificate_file_entry(entry):
                return f"/{RELATED_RESOURCE}/{index}"
    return f"/{RELATED_RESOURCE}"
