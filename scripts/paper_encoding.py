"""The TB1 print encoding as scripts/paper_probe.py measures it (see docs/paper-certificate.md).

``TB1:`` + base45(raw DEFLATE-9(CBOR(compact(tighten(credential))))). A probe, not
the service's format: the next engineer builds the real one in ``credentials``.
cbor2 and base45 are imported through ``importlib`` (not project dependencies).
"""

from __future__ import annotations

import base64
import importlib
import json
import uuid
import zlib
from typing import Any

import base58
from eth_utils.address import to_checksum_address

from credentials.credential import credential_digest
from credentials.did import issuer_did
from credentials.disclosure import claim_pointer, disclosure_digest
from credentials.status_list import status_entries
from credentials.templates import Template, get_template, template_by_type
from ledger.merkle.hasher import TreeHasher
from ledger.merkle.verify import root_from_inclusion_proof


def _mod(name: str) -> Any:
    return importlib.import_module(name)


# Member names of a Tongban credential -> small integers (CBOR keys of 1 byte).
_KEYS = [
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
] + [
    c
    for t in (
        "degree-certificate",
        "business-licence",
        "birth-medical-certificate",
        "marriage-certificate",
    )
    for c in get_template(t).claims
]
KEYS = list(dict.fromkeys(_KEYS))
KEY_CODE = {k: i for i, k in enumerate(KEYS)}
# Constant values -> CBOR simple values 0..19 (one byte each).
CONSTANTS = (
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
)
CONST_CODE = {v: i for i, v in enumerate(CONSTANTS)}
TAG_Z58 = 1580  # "z" + base58btc(bytes): multibase proof values
TAG_DIDKEY = 1581  # "did:key:z" + base58btc(bytes)
TAG_UUID = 1582  # "urn:uuid:" + UUID (16 bytes)


def _is_hex(s: str) -> bool:
    return len(s) >= 32 and len(s) % 2 == 0 and all(c in "0123456789abcdef" for c in s)


def _b58(s: str) -> bytes | None:
    try:
        raw: bytes = base58.b58decode(s)
    except ValueError:
        return None
    return raw if base58.b58encode(raw).decode() == s else None


def compact(value: Any, *, keys: bool, typed: bool) -> Any:
    """The CBOR data model of ``value``: member names coded if ``keys``, values typed if ``typed``.

    ``typed``: lowercase hex -> byte string; multibase z / did:key / urn:uuid -> tagged
    bytes; known constant strings -> simple values. Every rule applies only when the
    reverse mapping gives back the very same string.
    """
    cbor2 = _mod("cbor2")
    if isinstance(value, dict):
        return {
            (KEY_CODE.get(k, k) if keys else k): compact(v, keys=keys, typed=typed)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [compact(v, keys=keys, typed=typed) for v in value]
    if typed and isinstance(value, str):
        if value in CONST_CODE:
            return cbor2.CBORSimpleValue(CONST_CODE[value])
        if _is_hex(value):
            return bytes.fromhex(value)
        if value.startswith("did:key:z") and (raw := _b58(value[9:])) is not None:
            return cbor2.CBORTag(TAG_DIDKEY, raw)
        if value.startswith("z") and len(value) > 40 and (raw := _b58(value[1:])) is not None:
            return cbor2.CBORTag(TAG_Z58, raw)
        if value.startswith("urn:uuid:"):
            u = uuid.UUID(value[9:])
            if f"urn:uuid:{u}" == value:
                return cbor2.CBORTag(TAG_UUID, u.bytes)
    return value


def expand(value: Any) -> Any:
    """The reverse of ``compact`` (any of its variants)."""
    cbor2 = _mod("cbor2")
    if isinstance(value, dict):
        return {(KEYS[k] if isinstance(k, int) else k): expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, cbor2.CBORSimpleValue):
        return CONSTANTS[value.value]
    if isinstance(value, cbor2.CBORTag):
        if value.tag == TAG_DIDKEY:
            return "did:key:z" + base58.b58encode(value.value).decode()
        if value.tag == TAG_Z58:
            return "z" + base58.b58encode(value.value).decode()
        if value.tag == TAG_UUID:
            return f"urn:uuid:{uuid.UUID(bytes=value.value)}"
    return value


def _salt_bytes(salt: str) -> bytes | None:
    raw = base64.urlsafe_b64decode(salt + "=" * (-len(salt) % 4))
    return raw if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == salt else None


def _template(credential_type: str) -> Template:
    template = template_by_type(credential_type)
    if template is None:
        raise ValueError("not a Tongban template type")
    return template


def tighten(credential: dict[str, Any]) -> dict[str, Any]:
    """Drop what the verifier recomputes; shorten what has one canonical spelling.

    - ``_sd`` entries of the disclosed claims (each is SM3 of its disclosure);
    - ``anchor.root`` (the root the audit path leads to; check 3 then looks the
      recomputed root up in the chain index);
    - a disclosure ``[salt, pointer, value]`` becomes ``[16 salt bytes, claim, value]``;
    - the two Tongban status entries become ``[list URL prefix, index]``.
    Each rule applies only when ``loosen`` gives back the very same member.
    """
    out: dict[str, Any] = json.loads(json.dumps(credential))
    disclosures = out.get("disclosures", [])
    shown = {disclosure_digest(d) for d in disclosures}
    subject = out["credentialSubject"]
    subject["_sd"] = [h for h in subject["_sd"] if h not in shown]
    anchor = out["anchor"]
    anchor.pop("root")
    issuer = issuer_did(anchor["chainId"], anchor["issuerId"])
    if out["issuer"] == issuer:
        del anchor["chainId"], anchor["issuerId"]
    if to_checksum_address(anchor["contract"].lower()) == anchor["contract"]:
        anchor["contract"] = anchor["contract"][2:].lower()  # 20 bytes once typed
    template = _template(out["type"][1])
    if out["credentialSchema"] == {"id": template.schema_id, "type": "JsonSchema"}:
        del out["credentialSchema"]
    proof = out["proof"]
    if proof["verificationMethod"].startswith(out["issuer"] + "#"):
        proof["verificationMethod"] = proof["verificationMethod"][len(out["issuer"]) :]
    short = []
    for salt, pointer, value in disclosures:
        raw = _salt_bytes(salt)
        name = pointer.removeprefix("/credentialSubject/")
        if raw is None or claim_pointer(name) != pointer:
            short.append([salt, pointer, value])
        else:
            short.append([raw.hex(), KEY_CODE.get(name, name), value])
    out["disclosures"] = short
    status = out.get("credentialStatus", [])
    if status:
        prefix = status[0]["statusListCredential"].rsplit("/", 1)[0]
        index = int(status[0]["statusListIndex"])
        if status == status_entries(lambda p: f"{prefix}/{p}", index):
            out["credentialStatus"] = [prefix, index]
    return out


def loosen(short: dict[str, Any]) -> dict[str, Any]:
    """The reverse of ``tighten``: the credential exactly as issued (print disclosures)."""
    out: dict[str, Any] = json.loads(json.dumps(short))
    disclosures = []
    for salt, name, value in out.get("disclosures", []):
        if not str(name).startswith("/"):
            raw = bytes.fromhex(salt)
            salt = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            name = claim_pointer(KEYS[name] if isinstance(name, int) else name)
        disclosures.append([salt, name, value])
    if disclosures:
        out["disclosures"] = disclosures
    subject = out["credentialSubject"]
    subject["_sd"] = sorted(subject["_sd"] + [disclosure_digest(d) for d in disclosures])
    if "credentialSchema" not in out:
        template = _template(out["type"][1])
        out["credentialSchema"] = {"id": template.schema_id, "type": "JsonSchema"}
    if out["proof"]["verificationMethod"].startswith("#"):
        out["proof"]["verificationMethod"] = out["issuer"] + out["proof"]["verificationMethod"]
    status = out.get("credentialStatus")
    if isinstance(status, list) and len(status) == 2 and isinstance(status[0], str):
        prefix, index = status
        out["credentialStatus"] = status_entries(lambda p: f"{prefix}/{p}", index)
    anchor = out["anchor"]
    if "chainId" not in anchor:
        _, _, chain, number = out["issuer"].split(":")
        anchor["chainId"], anchor["issuerId"] = int(chain), int(number)
    if not anchor["contract"].startswith("0x"):
        anchor["contract"] = to_checksum_address("0x" + anchor["contract"])
    hasher = TreeHasher()
    digest = credential_digest(out)
    root = root_from_inclusion_proof(
        hasher,
        anchor["leafIndex"],
        anchor["treeSize"],
        hasher.hash_leaf(digest),
        [bytes.fromhex(h) for h in anchor["auditPath"]],
    )
    out["anchor"] = {k: anchor[k] for k in ANCHOR_ORDER if k != "root"} | {"root": root.hex()}
    out["anchor"] = {k: out["anchor"][k] for k in ANCHOR_ORDER}
    return {k: out[k] for k in ORDER if k in out}


ANCHOR_ORDER = [
    "type",
    "chainId",
    "contract",
    "issuerId",
    "root",
    "leafIndex",
    "treeSize",
    "auditPath",
    "blockNumber",
]
ORDER = [
    "@context",
    "id",
    "type",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSchema",
    "credentialSubject",
    "credentialStatus",
    "disclosures",
    "proof",
    "anchor",
]


def deflate(data: bytes) -> bytes:
    """Raw DEFLATE (RFC 1951), level 9: no zlib header or checksum."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def inflate(data: bytes) -> bytes:
    """The reverse of ``deflate``."""
    return zlib.decompress(data, -15)


PREFIX = "TB1:"


def encode_qr_text(credential: dict[str, Any]) -> str:
    """The chosen encoding: TB1: + base45(deflate(CBOR(compact(tighten(credential)))))."""
    cbor2, base45 = _mod("cbor2"), _mod("base45")
    body = cbor2.dumps(compact(tighten(credential), keys=True, typed=True))
    return PREFIX + str(base45.b45encode(deflate(body)).decode("ascii"))


def decode_qr_text(text: str) -> dict[str, Any]:
    """The reverse of ``encode_qr_text``."""
    cbor2, base45 = _mod("cbor2"), _mod("base45")
    if not text.startswith(PREFIX):
        raise ValueError("not a TB1 QR payload")
    return loosen(expand(cbor2.loads(inflate(base45.b45decode(text[len(PREFIX) :])))))
