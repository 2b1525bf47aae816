"""TB1: a Tongban credential as the text of one QR code (docs/paper-certificate.md).

``"TB1:" + base45(raw DEFLATE(CBOR(compact(tighten(credential)))))``

- **tighten** drops what the decoder rebuilds exactly (the ``_sd`` digests of the
  disclosed claims, the anchor's root, the template's ``credentialSchema``, the
  standard proof members, the issuer's chain and issuer ids) and writes what has
  one canonical spelling shorter (salts as bytes, claim names instead of pointers,
  digests and the audit path as one byte string, the two status entries as
  ``[list URL prefix, index]``);
- **compact** turns member names into small integers (``KEYS``: frozen, append
  only), constant strings into CBOR simple values (``CONSTANTS``), lowercase hex
  into byte strings, and multibase, ``did:key``, ``urn:uuid`` and UTC timestamps
  into tagged binary values.

``encode`` refuses a credential it cannot give back exactly (it decodes its own
output and compares). ``decode`` treats the text as untrusted: caps on every size,
strict base45, one DEFLATE stream, one CBOR item of known types only, and the
payload must be the one ``encode`` writes for what it decodes to (no second
spelling of the same credential). The decoded credential is then verified like
any other; nothing here checks a signature.
"""

from __future__ import annotations

import base64
import calendar
import io
import json
import re
import time
import uuid
import zlib
from collections.abc import Mapping
from typing import Any, Final

import base58
import cbor2
from eth_utils.address import to_checksum_address

from credentials.anchor_proof import ANCHOR_MEMBER, ANCHOR_PROOF_TYPE
from credentials.credential import CONTEXT, credential_digest
from credentials.cryptosuite import ASSERTION, CRYPTOSUITE, PROOF_TYPE
from credentials.did import issuer_did
from credentials.disclosure import claim_pointer, disclosure_digest
from credentials.errors import CredentialError, InputRejectedError
from credentials.file_binding import RELATED_RESOURCE, RESOURCE_PREFIX, SM3_MULTIHASH_PREFIX
from credentials.ijson import CREDENTIAL_LIMITS, check
from credentials.paper.base45 import Base45Error, b45decode, b45encode
from credentials.status_list import status_entries
from credentials.templates import template_by_type
from credentials.zhengzhao.errors import IdentifierError
from credentials.zhengzhao.identifier import ZhengzhaoId, parse_zhengzhao_id
from credentials.zhengzhao.profile import MEMBER
from ledger.merkle.hasher import TreeHasher
from ledger.merkle.verify import root_from_inclusion_proof

__all__ = [
    "CONSTANTS",
    "KEYS",
    "MAX_CBOR_BYTES",
    "MAX_TEXT_LENGTH",
    "PREFIX",
    "PaperCodecError",
    "decode",
    "encode",
]

PREFIX: Final = "TB1:"
"""The version marker every payload starts with (a new layout takes ``TB2:``)."""

MAX_TEXT_LENGTH: Final = 4296
"""Longest payload accepted: the alphanumeric capacity of QR version 40 at ECC L."""

MAX_CBOR_BYTES: Final = 16 * 1024
"""Most bytes the DEFLATE stream may inflate to (a payload is untrusted input)."""

_MAX_DEPTH: Final = 12

KEYS: Final[tuple[str, ...]] = (
    # 0-28: members of a credential, its proof and its anchor
    "@context",
    "id",
    "type",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSchema",
    "credentialSubject",
    "_sd",
    "disclosures",
    "credentialStatus",
    "statusPurpose",
    "statusListIndex",
    "statusListCredential",
    "proof",
    "cryptosuite",
    "created",
    "verificationMethod",
    "proofPurpose",
    "proofValue",
    "anchor",
    "chainId",
    "contract",
    "issuerId",
    "root",
    "leafIndex",
    "treeSize",
    "auditPath",
    "blockNumber",
    # 29-36: the zhengzhao member (credentials.zhengzhao.profile)
    "zhengzhao",
    "identifier",
    "typeCode",
    "typeName",
    "issuingAgency",
    "jurisdiction",
    "trustGrade",
    "usageNote",
    # 37-: claims of the packaged templates (v1)
    "holderName",
    "gender",
    "dateOfBirth",
    "degreeLevel",
    "degreeName",
    "fieldOfStudy",
    "awardingInstitution",
    "conferralDate",
    "certificateNumber",
    "studyMode",
    "unifiedSocialCreditCode",
    "enterpriseName",
    "enterpriseType",
    "legalRepresentative",
    "registeredCapital",
    "establishmentDate",
    "businessScope",
    "registeredAddress",
    "registrationAuthority",
    "operatingPeriodEnd",
    "childName",
    "childGender",
    "placeOfBirth",
    "birthWeightGrams",
    "birthLengthCm",
    "motherName",
    "fatherName",
    "issuingInstitution",
    "holderDateOfBirth",
    "holderNationality",
    "spouseName",
    "spouseDateOfBirth",
    "spouseNationality",
    "registrationDate",
    "name",
    "code",
    # 73-: the certificate file (credentials.file_binding) and the resident certificate
    "relatedResource",
    "digestMultibase",
    "mediaType",
    "fileSize",
    "ethnicity",
    "citizenIdNumber",
    "householdAddress",
    "issuingAuthority",
)
"""Member names coded as integers (their index). Frozen: never reorder, only append."""

CONSTANTS: Final[tuple[str, ...]] = (
    "https://www.w3.org/ns/credentials/v2",
    "https://w3id.org/tongban/credentials/v1",
    "VerifiableCredential",
    "JsonSchema",
    "BitstringStatusListEntry",
    "revocation",
    "suspension",
    "DataIntegrityProof",
    "sm2-jcs-2026",
    "assertionMethod",
    "TongbanAnchorProof2026",
    "DegreeCertificate",
    "BusinessLicence",
    "BirthMedicalCertificate",
    "MarriageCertificate",
    "ResidentCertificate",
    "application/pdf",
    "application/ofd",
    "学位证书",
    "营业执照",
    "出生医学证明",
    "结婚证",
    "居民身份证明",
    "本电子证照由颁发机构提供\uff0c仅限办理政务服务使用",
    "此件由",
    "提供\uff0c仅供办理政务服务事项时使用",
)
"""String values coded as CBOR simple values (index i as simple value i below 20, i + 12
from 20: 20-23 are false, true, null, undefined). Frozen, append only: a string not in
the list (a changed type name or usage note) simply travels as text."""

TAG_MULTIBASE: Final = 1580
"""``"z" + base58btc(bytes)`` (a multibase proof value)."""
TAG_DID_KEY: Final = 1581
"""``"did:key:z" + base58btc(bytes)``."""
TAG_UUID: Final = 1582
"""``"urn:uuid:" + UUID`` as its 16 bytes."""
TAG_TIME: Final = 1583
"""A UTC ``YYYY-MM-DDTHH:MM:SSZ`` as seconds since 1970."""

_KEY_CODE = {k: i for i, k in enumerate(KEYS)}
_CONSTANT_CODE = {v: (i if i < 20 else i + 12) for i, v in enumerate(CONSTANTS)}
_CONSTANT_OF = {code: v for v, code in _CONSTANT_CODE.items()}
_HEX = re.compile(r"(?:[0-9a-f]{2}){16,}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_B64URL_16 = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]")
_MAX_SAFE_INT = 2**53
_TB1_ALPHABET = re.compile(r"[0-9A-Z $%*+\-./:]*")
_ORDER = (
    "@context",
    "id",
    "type",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSchema",
    "credentialSubject",
    "credentialStatus",
    "zhengzhao",
    RELATED_RESOURCE,
    "disclosures",
    "proof",
    ANCHOR_MEMBER,
)
_ANCHOR_ORDER = (
    "type",
    "chainId",
    "contract",
    "issuerId",
    "root",
    "leafIndex",
    "treeSize",
    "auditPath",
    "blockNumber",
)


class PaperCodecError(CredentialError):
    """A TB1 payload that is not one, or a credential TB1 cannot carry exactly.

    The message names the step or member at fault, never a value.
    """

    code = "paper_payload_invalid"


# ------------------------------------------------------------------ typed values


def _b58(text: str) -> bytes | None:
    try:
        raw: bytes = base58.b58decode(text)
    except ValueError:
        return None
    return raw if base58.b58encode(raw).decode("ascii") == text else None


def _seconds(text: str) -> int | None:
    try:
        seconds = calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None
    return seconds if _format_seconds(seconds) == text else None


def _format_seconds(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _typed(value: str) -> Any:
    """The binary form of a string with one canonical spelling, else the string."""
    if value in _CONSTANT_CODE:
        return cbor2.CBORSimpleValue(_CONSTANT_CODE[value])
    if _HEX.fullmatch(value):
        return bytes.fromhex(value)
    if value.startswith("did:key:z") and (raw := _b58(value[9:])) is not None:
        return cbor2.CBORTag(TAG_DID_KEY, raw)
    if value.startswith("z") and len(value) > 40 and (raw := _b58(value[1:])) is not None:
        return cbor2.CBORTag(TAG_MULTIBASE, raw)
    if value.startswith("urn:uuid:"):
        try:
            parsed = uuid.UUID(value[9:])
        except ValueError:
            return value
        if f"urn:uuid:{parsed}" == value:
            return cbor2.CBORTag(TAG_UUID, parsed.bytes)
    if _TIME.fullmatch(value) and (seconds := _seconds(value)) is not None:
        return cbor2.CBORTag(TAG_TIME, seconds)
    return value


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        return {_KEY_CODE.get(k, k): _compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    if isinstance(value, str):
        return _typed(value)
    return value


def _expand(value: Any, depth: int = 0) -> Any:
    """The JSON value of a decoded CBOR item; ``PaperCodecError`` for any other type."""
    if depth > _MAX_DEPTH:
        raise PaperCodecError("the payload nests too deeply")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = _key_name(key)
            if name in out:
                raise PaperCodecError("the payload repeats a member")
            out[name] = _expand(item, depth + 1)
        return out
    if isinstance(value, list):
        return [_expand(v, depth + 1) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise PaperCodecError("the payload holds an integer outside I-JSON's range")
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise PaperCodecError("the payload holds a number that is not finite")
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, cbor2.CBORSimpleValue):
        if value.value not in _CONSTANT_OF:
            raise PaperCodecError("the payload holds an unknown constant")
        return _CONSTANT_OF[value.value]
    if isinstance(value, cbor2.CBORTag):
        return _untag(value)
    raise PaperCodecError("the payload holds a CBOR item of a type TB1 does not use")


def _key_name(key: object) -> str:
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise PaperCodecError("the payload holds a member name that is not a string or code")
    if isinstance(key, str):
        return key
    if not 0 <= key < len(KEYS):
        raise PaperCodecError("the payload holds an unknown member code")
    return KEYS[key]


def _untag(item: cbor2.CBORTag) -> str:
    tag, value = item.tag, item.value
    if tag == TAG_TIME and type(value) is int and 0 <= value < 253402300800:
        return _format_seconds(value)
    if not isinstance(value, bytes):
        raise PaperCodecError("the payload holds a tagged value of the wrong type")
    if tag == TAG_DID_KEY:
        return "did:key:z" + base58.b58encode(value).decode("ascii")
    if tag == TAG_MULTIBASE:
        return "z" + base58.b58encode(value).decode("ascii")
    if tag == TAG_UUID and len(value) == 16:
        return f"urn:uuid:{uuid.UUID(bytes=value)}"
    raise PaperCodecError("the payload holds an unknown CBOR tag")


# ------------------------------------------------------------------ tighten / loosen


def _salt_hex(salt: object) -> str | None:
    if not isinstance(salt, str) or not _B64URL_16.fullmatch(salt):
        return None
    raw = base64.urlsafe_b64decode(salt + "==")
    return raw.hex() if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == salt else None


def _salt_text(hex_salt: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(hex_salt)).rstrip(b"=").decode("ascii")


def _joined(digests: object) -> str | None:
    """A list of 64-hex digests as one hex string (one CBOR byte string), if it is one."""
    if isinstance(digests, list) and all(
        isinstance(d, str) and _DIGEST.fullmatch(d) for d in digests
    ):
        return "".join(digests)
    return None


def _split(joined: str, what: str) -> list[str]:
    if len(joined) % 64:
        raise PaperCodecError(f"the payload's {what} is not a whole number of digests")
    return [joined[i : i + 64] for i in range(0, len(joined), 64)]


def _tighten(credential: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(credential))
    if out.get("@context") == CONTEXT:
        del out["@context"]
    types = out.get("type")
    if isinstance(types, list) and len(types) == 2 and types[0] == "VerifiableCredential":
        out["type"] = types[1]
    template = template_by_type(types[1]) if isinstance(types, list) and len(types) == 2 else None
    if template is not None and out.get("credentialSchema") == {
        "id": template.schema_id,
        "type": "JsonSchema",
    }:
        del out["credentialSchema"]
    disclosures = out.get("disclosures")
    subject = out.get("credentialSubject")
    if isinstance(disclosures, list) and isinstance(subject, dict):
        shown = {disclosure_digest(d) for d in disclosures}
        remaining = _joined([h for h in subject.get("_sd", []) if h not in shown])
        if remaining is not None:
            subject["_sd"] = remaining
        short: list[Any] = []
        for disclosure in disclosures:
            salt, pointer, value = disclosure
            name = str(pointer).removeprefix("/credentialSubject/")
            hex_salt = _salt_hex(salt)
            if hex_salt is not None and claim_pointer(name) == pointer and name[:1] != "/":
                short.append([hex_salt, name, value])
            else:
                short.append(disclosure)
        out["disclosures"] = short
    proof = out.get("proof")
    issuer = out.get("issuer")
    if isinstance(proof, dict) and isinstance(issuer, str):
        for member, standard in (
            ("type", PROOF_TYPE),
            ("cryptosuite", CRYPTOSUITE),
            ("proofPurpose", ASSERTION),
        ):
            if proof.get(member) == standard:
                del proof[member]
        method = proof.get("verificationMethod")
        if isinstance(method, str) and method.startswith(issuer + "#"):
            proof["verificationMethod"] = method[len(issuer) :]
    anchor = out.get(ANCHOR_MEMBER)
    if isinstance(anchor, dict):
        _tighten_anchor(anchor, issuer)
    if isinstance(out.get(MEMBER), dict):
        _tighten_zhengzhao(out[MEMBER])
    if isinstance(issuer, str) and (numbers := _issuer_numbers(issuer)) is not None:
        out["issuer"] = list(numbers)
    for entry in (
        out.get(RELATED_RESOURCE, []) if isinstance(out.get(RELATED_RESOURCE), list) else []
    ):
        _tighten_file(entry)
    status = out.get("credentialStatus")
    if isinstance(status, list) and status and isinstance(status[0], dict):
        url = status[0].get("statusListCredential")
        index = status[0].get("statusListIndex")
        if isinstance(url, str) and isinstance(index, str) and index.isdigit():
            prefix = url.rsplit("/", 1)[0]
            if status == status_entries(lambda p: f"{prefix}/{p}", int(index)):
                out["credentialStatus"] = [prefix, int(index)]
    return out


def _file_multibase(digest_hex: str) -> str:
    raw = SM3_MULTIHASH_PREFIX + bytes.fromhex(digest_hex)
    return "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _tighten_file(entry: object) -> None:
    """A certificate file entry: its id as the bare digest, ``digestMultibase`` dropped."""
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        return
    digest = entry["id"].removeprefix(RESOURCE_PREFIX)
    if (
        digest != entry["id"]
        and _DIGEST.fullmatch(digest)
        and entry.get("digestMultibase") == _file_multibase(digest)
    ):
        entry["id"] = digest
        del entry["digestMultibase"]


def _loosen_file(entry: object) -> object:
    if not isinstance(entry, dict) or "digestMultibase" in entry:
        return entry
    digest = entry.get("id")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        return entry
    rebuilt = {"id": RESOURCE_PREFIX + digest, "digestMultibase": _file_multibase(digest)}
    return rebuilt | entry | {"id": RESOURCE_PREFIX + digest}


def _issuer_numbers(issuer: str) -> tuple[int, int] | None:
    """(chain id, issuer id) of a canonical ``did:tongban:<chain>:<issuer>``."""
    parts = issuer.split(":")
    if len(parts) != 4 or parts[:2] != ["did", "tongban"]:
        return None
    if not (parts[2].isdigit() and parts[3].isdigit()):
        return None
    numbers = int(parts[2]), int(parts[3])
    return numbers if issuer_did(*numbers) == issuer else None


def _tighten_zhengzhao(member: dict[str, Any]) -> None:
    """The 证照标识 as ``[serial, version]`` when its type and agency codes are the member's."""
    _tighten_note(member)
    agency = member.get("issuingAgency")
    try:
        parsed = parse_zhengzhao_id(member.get("identifier"))
    except IdentifierError:
        return
    if (
        isinstance(agency, dict)
        and parsed.type_code == member.get("typeCode")
        and parsed.issuing_agency_code == agency.get("code")
        and str(parsed) == member["identifier"]
    ):
        member["identifier"] = [parsed.serial_number, parsed.version]


def _tighten_note(member: dict[str, Any]) -> None:
    """A usage note naming the agency as ``[text before, text after]`` the agency's name."""
    note, agency = member.get("usageNote"), member.get("issuingAgency")
    name = agency.get("name") if isinstance(agency, dict) else None
    if isinstance(note, str) and isinstance(name, str) and name and note.count(name) == 1:
        before, after = note.split(name)
        member["usageNote"] = [before, after]


def _loosen_zhengzhao(member: dict[str, Any]) -> None:
    note, agency = member.get("usageNote"), member.get("issuingAgency")
    if isinstance(note, list):
        name = agency.get("name") if isinstance(agency, dict) else None
        if len(note) != 2 or not all(isinstance(p, str) for p in note) or not isinstance(name, str):
            raise PaperCodecError("the payload's usage note is not [before, after] its agency")
        member["usageNote"] = note[0] + name + note[1]
    short = member.get("identifier")
    if not isinstance(short, list):
        return
    agency = member.get("issuingAgency")
    if len(short) != 2 or not isinstance(agency, dict):
        raise PaperCodecError("the payload's 证照标识 is not [serial, version]")
    try:
        member["identifier"] = str(
            ZhengzhaoId(member.get("typeCode"), agency.get("code"), short[0], short[1])  # type: ignore[arg-type]
        )
    except (IdentifierError, TypeError):
        raise PaperCodecError("the payload's 证照标识 fields are not valid") from None


def _tighten_anchor(anchor: dict[str, Any], issuer: object) -> None:
    anchor.pop("root", None)
    if anchor.get("type") == ANCHOR_PROOF_TYPE:
        del anchor["type"]
    chain, number = anchor.get("chainId"), anchor.get("issuerId")
    if type(chain) is int and type(number) is int and issuer == issuer_did(chain, number):
        del anchor["chainId"], anchor["issuerId"]
    contract = anchor.get("contract")
    if (
        isinstance(contract, str)
        and re.fullmatch(r"0x[0-9a-fA-F]{40}", contract)
        and to_checksum_address(contract) == contract
    ):
        anchor["contract"] = contract[2:].lower()
    path = _joined(anchor.get("auditPath"))
    if path is not None and path:
        anchor["auditPath"] = path


def _loosen(short: dict[str, Any]) -> dict[str, Any]:
    out = short
    out.setdefault("@context", list(CONTEXT))
    issuer = out.get("issuer")
    if isinstance(issuer, list):
        if len(issuer) != 2 or not all(type(n) is int and n >= 0 for n in issuer):
            raise PaperCodecError("the payload's issuer is not [chain id, issuer id]")
        out["issuer"] = issuer_did(issuer[0], issuer[1])
    if isinstance(out.get(MEMBER), dict):
        _loosen_zhengzhao(out[MEMBER])
    if isinstance(out.get("type"), str):
        out["type"] = ["VerifiableCredential", out["type"]]
    types = out.get("type")
    template = template_by_type(types[1]) if isinstance(types, list) and len(types) == 2 else None
    if "credentialSchema" not in out and template is not None:
        out["credentialSchema"] = {"id": template.schema_id, "type": "JsonSchema"}
    subject = out.get("credentialSubject")
    if not isinstance(subject, dict):
        raise PaperCodecError("the payload has no credentialSubject object")
    disclosures: list[list[Any]] = []
    for disclosure in out.get("disclosures", []):
        if not isinstance(disclosure, list) or len(disclosure) != 3:
            raise PaperCodecError("a disclosure of the payload is not three items")
        salt, name, value = disclosure
        if isinstance(name, str) and not name.startswith("/"):
            if not isinstance(salt, str) or not re.fullmatch(r"[0-9a-f]{32}", salt):
                raise PaperCodecError("a disclosure of the payload has a malformed salt")
            disclosures.append([_salt_text(salt), claim_pointer(name), value])
        else:
            disclosures.append(disclosure)
    if "disclosures" in out:
        out["disclosures"] = disclosures
    if isinstance(subject.get("_sd"), str):
        subject["_sd"] = sorted(
            _split(subject["_sd"], "_sd") + [disclosure_digest(d) for d in disclosures]
        )
    proof = out.get("proof")
    if isinstance(proof, dict):
        proof.setdefault("type", PROOF_TYPE)
        proof.setdefault("cryptosuite", CRYPTOSUITE)
        proof.setdefault("proofPurpose", ASSERTION)
        method = proof.get("verificationMethod")
        if (
            isinstance(method, str)
            and method.startswith("#")
            and isinstance(out.get("issuer"), str)
        ):
            proof["verificationMethod"] = out["issuer"] + method
        out["proof"] = {k: proof[k] for k in _PROOF_ORDER if k in proof} | proof
    status = out.get("credentialStatus")
    if isinstance(status, list) and len(status) == 2 and isinstance(status[0], str):
        prefix, index = status
        if type(index) is not int or not 0 <= index < 2**31:
            raise PaperCodecError("the payload's status index is out of range")
        out["credentialStatus"] = status_entries(lambda p: f"{prefix}/{p}", index)
    if isinstance(out.get(RELATED_RESOURCE), list):
        out[RELATED_RESOURCE] = [_loosen_file(e) for e in out[RELATED_RESOURCE]]
    anchor = out.get(ANCHOR_MEMBER)
    if isinstance(anchor, dict):
        out[ANCHOR_MEMBER] = _loosen_anchor(anchor, out)
    ordered = {k: out[k] for k in _ORDER if k in out}
    return ordered | out


_PROOF_ORDER = (
    "type",
    "cryptosuite",
    "created",
    "verificationMethod",
    "proofPurpose",
    "proofValue",
)


def _loosen_anchor(anchor: dict[str, Any], credential: dict[str, Any]) -> dict[str, Any]:
    anchor.setdefault("type", ANCHOR_PROOF_TYPE)
    if "chainId" not in anchor and "issuerId" not in anchor:
        issuer = credential.get("issuer")
        parts = issuer.split(":") if isinstance(issuer, str) else []
        if len(parts) != 4 or parts[:2] != ["did", "tongban"]:
            raise PaperCodecError("the payload's anchor names no chain and its issuer none")
        if not (parts[2].isdigit() and parts[3].isdigit()):
            raise PaperCodecError("the payload's issuer is not a Tongban issuer DID")
        anchor["chainId"], anchor["issuerId"] = int(parts[2]), int(parts[3])
    contract = anchor.get("contract")
    if isinstance(contract, str) and re.fullmatch(r"[0-9a-f]{40}", contract):
        anchor["contract"] = to_checksum_address("0x" + contract)
    if isinstance(anchor.get("auditPath"), str):
        anchor["auditPath"] = _split(anchor["auditPath"], "audit path")
    if "root" not in anchor:
        anchor["root"] = _root(anchor, credential)
    return {k: anchor[k] for k in _ANCHOR_ORDER if k in anchor} | anchor


def _root(anchor: Mapping[str, Any], credential: Mapping[str, Any]) -> str:
    """The root the audit path leads to from the credential's own leaf."""
    index, size, path = anchor.get("leafIndex"), anchor.get("treeSize"), anchor.get("auditPath")
    if type(index) is not int or type(size) is not int or not isinstance(path, list):
        raise PaperCodecError("the payload's anchor lacks leafIndex, treeSize or auditPath")
    if not 0 <= index < size < 2**63 or len(path) > 64:
        raise PaperCodecError("the payload's anchor position is out of range")
    hasher = TreeHasher()
    try:
        digest = credential_digest(credential)
        root = root_from_inclusion_proof(
            hasher, index, size, hasher.hash_leaf(digest), [bytes.fromhex(p) for p in path]
        )
    except (ValueError, TypeError, InputRejectedError):
        raise PaperCodecError("the payload's audit path does not fit its leaf position") from None
    return root.hex()


# ------------------------------------------------------------------ the codec


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, MAX_CBOR_BYTES + 1)
    except zlib.error:
        raise PaperCodecError("the payload is not a DEFLATE stream") from None
    if len(out) > MAX_CBOR_BYTES:
        raise PaperCodecError(f"the payload inflates to more than {MAX_CBOR_BYTES} bytes")
    if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        raise PaperCodecError("the payload is not exactly one complete DEFLATE stream")
    return out


def _cbor(credential: Mapping[str, Any]) -> bytes:
    return cbor2.dumps(_compact(_tighten(credential)))


def encode(credential: Mapping[str, Any]) -> str:
    """The TB1 text of ``credential`` (as it is: derive the print disclosures first).

    Raises ``PaperCodecError`` if the text would not decode to the very same JSON.
    """
    try:
        body = _cbor(credential)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise PaperCodecError("the credential is not a Tongban credential TB1 can carry") from None
    text = PREFIX + b45encode(_deflate(body))
    if len(text) > MAX_TEXT_LENGTH:
        raise PaperCodecError("the credential is too large for one QR code")
    try:
        same = decode(text) == json.loads(json.dumps(credential))
    except PaperCodecError:
        same = False
    if not same:
        raise PaperCodecError("TB1 cannot carry this credential exactly")
    return text


def decode(text: object) -> dict[str, Any]:
    """The credential a TB1 text carries; ``PaperCodecError`` naming the step at fault."""
    if not isinstance(text, str):
        raise PaperCodecError("a TB1 payload is text")
    if len(text) > MAX_TEXT_LENGTH:
        raise PaperCodecError(f"a TB1 payload has at most {MAX_TEXT_LENGTH} characters")
    if not text.startswith(PREFIX):
        if re.match(r"TB\d+:", text):
            raise PaperCodecError("the payload is of a TB version this verifier does not read")
        raise PaperCodecError("the text is not a TB1 payload (it must start with 'TB1:')")
    encoded = text[len(PREFIX) :]
    if not _TB1_ALPHABET.fullmatch(encoded):
        raise PaperCodecError("the payload has a character outside base45")
    try:
        body = _inflate(b45decode(encoded))
    except Base45Error as error:
        raise PaperCodecError(f"the payload is not base45: {error}") from None
    stream = io.BytesIO(body)
    try:
        item = cbor2.CBORDecoder(stream, str_errors="strict").decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError):
        raise PaperCodecError("the payload is not one well-formed CBOR item") from None
    if stream.tell() != len(body):
        raise PaperCodecError("the payload has bytes after its CBOR item")
    expanded = _expand(item)
    if not isinstance(expanded, dict):
        raise PaperCodecError("the payload is not a credential object")
    credential = _loosen(expanded)
    try:
        check(credential, CREDENTIAL_LIMITS)
    except InputRejectedError:
        raise PaperCodecError("the decoded credential breaks the credential caps") from None
    try:
        canonical = _cbor(credential) == body
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        canonical = False
    if not canonical:
        raise PaperCodecError("the payload is not written as TB1 writes this credential")
    return credential
