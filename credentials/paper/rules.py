"""TB1's structural rules: drop what the decoder rebuilds exactly, shorten the rest.

``tighten`` applies each rule only where ``loosen`` gives back the very same
member (docs/paper-certificate.md, "TB1, byte by byte"); the codec checks the
whole round trip anyway.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from eth_utils.address import to_checksum_address

from credentials.anchor_proof import ANCHOR_MEMBER, ANCHOR_PROOF_TYPE
from credentials.credential import CONTEXT, credential_digest
from credentials.cryptosuite import ASSERTION, CRYPTOSUITE, PROOF_TYPE
from credentials.did import issuer_did
from credentials.disclosure import claim_pointer, disclosure_digest
from credentials.errors import InputRejectedError
from credentials.file_binding import RELATED_RESOURCE, RESOURCE_PREFIX, SM3_MULTIHASH_PREFIX
from credentials.paper.errors import PaperCodecError
from credentials.status_list import status_entries
from credentials.templates import template_by_type
from credentials.zhengzhao.errors import IdentifierError
from credentials.zhengzhao.identifier import ZhengzhaoId, parse_zhengzhao_id
from credentials.zhengzhao.profile import MEMBER
from ledger.merkle.hasher import TreeHasher
from ledger.merkle.verify import root_from_inclusion_proof

__all__ = ["loosen", "tighten"]

_DIGEST = re.compile(r"[0-9a-f]{64}")
_B64URL_16 = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]")
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


def tighten(credential: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``credential`` with every rule applied that ``loosen`` reverses exactly."""
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


def loosen(short: dict[str, Any]) -> dict[str, Any]:
    """The credential ``tighten`` shortened (``short`` is consumed)."""
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
