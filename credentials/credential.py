"""Building and signing credentials (issuer side); the secured form and the credential digest.

A credential as issued::

    {
      "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/tongban/credentials/v1"],
      "id": "urn:uuid:<random v4>",
      "type": ["VerifiableCredential", "<template type>"],
      "issuer": "did:tongban:<chainId>:<issuerId>",
      "validFrom": "2026-05-01T00:00:00Z",
      "validUntil": "...",                                   (optional)
      "credentialSchema": {"id": "<schema $id>", "type": "JsonSchema"},
      "credentialSubject": {"id": "did:key:z...", <clear claims>, "_sd": [<sorted digests>]},
      "zhengzhao": {"identifier": "1.2.156.3005.2...", ...}, (national templates, with an agency)
      "relatedResource": [<the certificate file>],           (when named: credentials.file_binding)
      "disclosures": [[salt, pointer, value], ...],           (sorted by pointer)
      "proof": <sm2-jcs-2026 DataIntegrityProof>,
      "anchor": <TongbanAnchorProof2026, once anchored>
    }

One proof is an object, several an array (VC Data Integrity 2.1). The anchor
proof is not a Data Integrity proof, so it travels in its own unsigned member
``anchor`` (docs/design-amendments.md, A1); credentials issued before carry it as
the second entry of a ``proof`` array, and both forms are read.

Secured form = the credential without ``proof``, ``disclosures`` and ``anchor``. Credential
digest = SM3(JCS(secured form)) = the Merkle leaf data = the issuer proof's
``documentHash``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from credentials.anchor_proof import ANCHOR_MEMBER, anchor_proof_of, data_integrity_proofs
from credentials.contexts import CREDENTIALS_V2, TONGBAN_V1
from credentials.cryptosuite import ASSERTION, create_proof
from credentials.did import check_did_key_form, issuer_did, parse_issuer_verification_method
from credentials.disclosure import secure_subject
from credentials.errors import ConfigurationError, InputRejectedError, SchemaViolationError
from credentials.file_binding import RELATED_RESOURCE, CertificateFile
from credentials.ijson import CREDENTIAL_LIMITS, check
from credentials.jcs import canonicalize
from credentials.reasons import Reason
from credentials.schema import validate
from credentials.templates import Template, get_template
from credentials.times import format_ms, parse_ms
from credentials.vcdm import issuer_of
from credentials.zhengzhao.identifier import parse_zhengzhao_id
from credentials.zhengzhao.profile import MEMBER, Agency
from ledger.crypto.signer import Signer
from ledger.crypto.sm3 import sm3

__all__ = [
    "ANCHOR_MEMBER",
    "CONTEXT",
    "IssueRequest",
    "SignedCredential",
    "anchor_proof_of",
    "build_credential",
    "credential_digest",
    "data_integrity_proofs",
    "holder_of",
    "issue_credential",
    "secured_form",
    "sign_credential",
    "with_anchor_proof",
]

CONTEXT = [CREDENTIALS_V2, TONGBAN_V1]
"""The ``@context`` of every Tongban credential and presentation."""

_NOT_SECURED = ("proof", "disclosures", ANCHOR_MEMBER)


@dataclass(frozen=True)
class IssueRequest:
    """What an issuing province asks for: a template, the holder, the claims, the validity.

    ``valid_from`` defaults to the issuance time; both dates are UTC
    ``YYYY-MM-DDTHH:MM:SSZ``. ``claims`` holds every claim in clear; the template
    decides which become selectively disclosable. ``credential_status``: the
    ``credentialStatus`` entries the issuer allocated (Bitstring Status List).
    ``agency``: the issuing agency (颁发机构) the certificate is issued for;
    ``zhengzhao``: the credential's ``zhengzhao`` member, which the issuer builds
    (``credentials.zhengzhao.profile``) once it allocated the 证照标识.
    ``related_file``: the certificate file (OFD or PDF) the credential names in
    ``relatedResource`` (``credentials.file_binding``).
    """

    template: str
    holder: str
    claims: Mapping[str, Any]
    valid_from: str | None = None
    valid_until: str | None = None
    credential_status: tuple[Mapping[str, Any], ...] = ()
    agency: Agency | None = None
    zhengzhao: Mapping[str, Any] | None = None
    related_file: CertificateFile | None = None


@dataclass(frozen=True)
class SignedCredential:
    """A credential signed by the issuer, not yet anchored.

    ``body`` is its compact JSON (UTF-8), what the store seals; ``document`` is
    the same, decoded on first use (the signing pool ships only the bytes).
    """

    body: bytes
    digest: bytes
    key_id: str
    template: str

    @cached_property
    def document(self) -> dict[str, Any]:
        """The credential as JSON (a fresh decode of ``body``, cached)."""
        document: dict[str, Any] = json.loads(self.body)
        return document

    @property
    def digest_hex(self) -> str:
        """The credential digest in lowercase hex."""
        return self.digest.hex()


def secured_form(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The credential without ``proof``, ``disclosures`` and ``anchor``."""
    return {k: v for k, v in credential.items() if k not in _NOT_SECURED}


def holder_of(credential: Mapping[str, Any]) -> str | None:
    """The ``id`` of the credential's one ``credentialSubject``, if it has exactly one with one."""
    subject = credential.get("credentialSubject")
    value = subject.get("id") if isinstance(subject, Mapping) else None
    return value if isinstance(value, str) else None


def credential_digest(credential: Mapping[str, Any]) -> bytes:
    """SM3(JCS(secured form)): the credential's digest and Merkle leaf data."""
    return sm3(canonicalize(secured_form(credential)))


def _reject(message: str) -> InputRejectedError:
    return InputRejectedError(Reason.SCHEMA_VIOLATION.value, message)


def _checked_member(template: Template, member: Mapping[str, Any]) -> dict[str, Any]:
    """The ``zhengzhao`` member as the issuer built it, checked against ``template``."""
    national = template.national
    if national is None:
        raise ConfigurationError("a zhengzhao member needs a template with national metadata")
    if not isinstance(member, Mapping) or not isinstance(member.get("issuingAgency"), Mapping):
        raise ConfigurationError("a zhengzhao member is an object with an issuingAgency")
    identifier = parse_zhengzhao_id(member.get("identifier"))
    if (identifier.type_code, member.get("typeCode")) != (national.type_code,) * 2:
        raise ConfigurationError("the zhengzhao member's type code is not the template's")
    if identifier.issuing_agency_code != member["issuingAgency"].get("code"):
        raise ConfigurationError("the 证照标识 names another agency than the member")
    return {**member, "issuingAgency": dict(member["issuingAgency"])}


def build_credential(
    request: IssueRequest, *, chain_id: int, issuer_id: int, now_ms: int
) -> tuple[Template, dict[str, Any], list[list[Any]]]:
    """Validate ``request`` and build the secured form and its disclosures.

    Raises ``UnknownTemplateError``, ``InputRejectedError`` (I-JSON, caps, dates, holder)
    or ``SchemaViolationError`` (claims); no message quotes a claim value.
    """
    template = get_template(request.template)
    if not isinstance(request.claims, Mapping):
        raise _reject("claims must be a JSON object")
    claims = dict(request.claims)
    check(claims, CREDENTIAL_LIMITS)
    if "id" in claims or "_sd" in claims:
        raise SchemaViolationError("/credentialSubject", "'id' and '_sd' are not claims")
    try:
        check_did_key_form(request.holder)
    except ValueError:
        raise SchemaViolationError(
            "/credentialSubject/id", "the holder must be an SM2 did:key"
        ) from None
    valid_from = request.valid_from or format_ms(now_ms)
    try:
        start = parse_ms(valid_from)
        end = None if request.valid_until is None else parse_ms(request.valid_until)
    except ValueError:
        raise SchemaViolationError("/validFrom", "dates must be UTC YYYY-MM-DDTHH:MM:SSZ") from None
    if end is not None and end <= start:
        raise SchemaViolationError("/validUntil", "must be later than validFrom")
    unsecured: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", template.credential_type],
        "issuer": issuer_did(chain_id, issuer_id),
        "validFrom": valid_from,
    }
    if request.valid_until is not None:
        unsecured["validUntil"] = request.valid_until
    unsecured["credentialSchema"] = {"id": template.schema_id, "type": "JsonSchema"}
    unsecured["credentialSubject"] = {"id": request.holder, **claims}
    if request.credential_status:
        unsecured["credentialStatus"] = [dict(entry) for entry in request.credential_status]
    if request.zhengzhao is not None:
        unsecured[MEMBER] = _checked_member(template, request.zhengzhao)
    if request.related_file is not None:
        unsecured[RELATED_RESOURCE] = [request.related_file.to_related_resource()]
    # A schema that does not declare a member yet validates the credential without it.
    properties = template.schema.get("properties", {})
    undeclared = {m for m in (MEMBER, RELATED_RESOURCE) if m not in properties}
    validate(template.schema, {k: v for k, v in unsecured.items() if k not in undeclared})
    subject, disclosures = secure_subject(template, unsecured["credentialSubject"])
    secured = {**unsecured, "credentialSubject": subject}
    return template, secured, disclosures


def sign_credential(
    secured: dict[str, Any],
    disclosures: list[list[Any]],
    signer: Signer,
    *,
    template: str,
    created: str,
) -> SignedCredential:
    """Sign the secured form with ``signer`` (key id = the issuer's verification method)."""
    method = parse_issuer_verification_method(signer.key_id)
    if method.did != issuer_of(secured):
        raise ConfigurationError("the signing key's DID is not the credential's issuer")
    canonical = canonicalize(secured)
    if len(canonical) > CREDENTIAL_LIMITS.max_bytes:
        raise InputRejectedError(Reason.INPUT_TOO_LARGE.value, "the credential is too large")
    digest = sm3(canonical)
    proof = create_proof(
        secured,
        signer,
        verification_method=signer.key_id,
        proof_purpose=ASSERTION,
        created=created,
        document_hash=digest,
    )
    document = {**secured, "disclosures": disclosures, "proof": proof}
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return SignedCredential(body, digest, method.key_id, template)


def issue_credential(
    request: IssueRequest, signer: Signer, *, chain_id: int, issuer_id: int, now_ms: int
) -> SignedCredential:
    """Build and sign one credential (pure: no store, no chain)."""
    template, secured, disclosures = build_credential(
        request, chain_id=chain_id, issuer_id=issuer_id, now_ms=now_ms
    )
    return sign_credential(
        secured, disclosures, signer, template=template.name, created=format_ms(now_ms)
    )


def with_anchor_proof(
    credential: Mapping[str, Any], anchor_proof: Mapping[str, Any]
) -> dict[str, Any]:
    """A copy of ``credential`` carrying ``anchor_proof`` in ``anchor`` (replacing any).

    A legacy anchor entry in ``proof`` is dropped and a single remaining proof
    becomes an object: neither the signature nor the digest covers ``proof``'s shape.
    """
    proofs = data_integrity_proofs(credential)
    shaped: Any = proofs[0] if len(proofs) == 1 else proofs
    return {**credential, "proof": shaped, ANCHOR_MEMBER: dict(anchor_proof)}
