"""Credentials submitted for issuance through the VC API (``POST /credentials/issue``).

A caller hands over an unsecured credential (VCDM 2.0, or 1.1 as many wallets and
conformance tools still send) and options; the issuer checks every rule of the
data model it can (``credentials.vcdm``) and Tongban's profile, then secures it
like a template credential: SM2-signed, batched, anchored, logged.

Tongban's profile of a submitted credential:

- ``issuer`` is this province's issuer DID (a URL, or an object with that ``id``);
- every ``@context`` entry is a URL of the packaged allow-list (nothing is ever
  fetched; an inline context object is refused); the Tongban context is appended
  when absent (it defines ``disclosures`` and ``anchor``);
- no ``proof``, ``disclosures`` or ``anchor`` yet (the issuer adds them), and no
  ``_sd`` in a subject;
- no top-level member other than those the VC Data Model defines for a
  credential (``@context`` ... ``relatedResource``, see ``SUBMITTED_MEMBERS``):
  every verifier's check (0) refuses any other, so the issuer never signs one;
- ``validFrom`` (1.1: ``issuanceDate``) defaults to the issuance time;
- a credential whose type is a certificate template's follows the template: it is
  built by the template dialect's code from its subject (``id`` = the holder's SM2
  ``did:key``, the claims), so the template's schema and disclosure rules apply; its
  ``relatedResource``, if any, is one entry: the certificate file
  (``credentials.file_binding``);
- any ``relatedResource`` entry whose ``id`` says it is a certificate file
  (``urn:tongban:certificate-file:sm3:``) is one, well formed, and the only one;
- otherwise the claims of a single ``credentialSubject`` may be made selectively
  disclosable: ``disclosable`` lists their JSON pointers (Tongban's option), or
  ``mandatory`` lists what is always revealed (the SD cryptosuites'
  ``mandatoryPointers``: every other claim becomes disclosable), never both. VCDM
  1.1 credentials and subject arrays are issued with every claim in clear.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from credentials.contexts import CONTEXT_FILES, CREDENTIALS_V2, TONGBAN_V1
from credentials.credential import (
    ANCHOR_MEMBER,
    CONTEXT,
    IssueRequest,
    SignedCredential,
    build_credential,
    issue_credential,
    sign_credential,
)
from credentials.did import issuer_did
from credentials.disclosure import claim_name, parse_pointer, secure_claims
from credentials.errors import NotConformingError, nameable
from credentials.file_binding import (
    RELATED_RESOURCE,
    CertificateFile,
    FileBindingError,
    named_file,
)
from credentials.ijson import CREDENTIAL_LIMITS, check
from credentials.templates import Template, sd_slots_for, template_by_type
from credentials.times import format_ms
from credentials.vcdm import DataModel, ModelViolation, as_list, check_credential
from credentials.zhengzhao.profile import Agency
from ledger.crypto.signer import Signer

__all__ = [
    "SUBMITTED_MEMBERS",
    "CredentialRequest",
    "SubmittedCredential",
    "build_submitted",
    "issue_any",
    "issue_submitted",
    "submitted_template",
]

_ADDED_BY_ISSUER = ("proof", "disclosures", ANCHOR_MEMBER)
SUBMITTED_MEMBERS = frozenset(
    {
        "@context",
        "id",
        "type",
        "name",
        "description",
        "issuer",
        "validFrom",
        "validUntil",
        "issuanceDate",
        "expirationDate",
        "credentialSchema",
        "credentialSubject",
        "credentialStatus",
        "termsOfUse",
        "evidence",
        "refreshService",
        "relatedResource",
    }
)
"""The top-level members a submitted credential may have (those check (0) accepts)."""
# What a certificate of a template may carry when submitted: the template builds the rest.
_TEMPLATE_MEMBERS = frozenset(
    {
        "@context",
        "type",
        "issuer",
        "validFrom",
        "validUntil",
        "credentialSchema",
        "credentialSubject",
        RELATED_RESOURCE,
    }
)


@dataclass(frozen=True)
class SubmittedCredential:
    """An unsecured credential and the disclosure options it was submitted with.

    ``disclosable``: JSON pointers of the claims to make selectively disclosable;
    ``mandatory``: the claims always revealed (all others become disclosable). At
    most one of the two is given. ``credential_id``: the VC API's ``credentialId``
    option, by which the caller names the credential later (not written into it).
    ``credential_status``: the status list entries the issuer allocated, added
    after the submitted credential passed its checks.
    """

    credential: Mapping[str, Any]
    disclosable: tuple[str, ...] = ()
    mandatory: tuple[str, ...] | None = None
    credential_id: str | None = None
    credential_status: tuple[Mapping[str, Any], ...] = ()
    agency: Agency | None = None
    """The issuing agency (VC API ``options.agency``, resolved by the API); a template's
    credential is issued for it (``IssueRequest.agency``)."""
    zhengzhao: Mapping[str, Any] | None = None
    """A template credential's ``zhengzhao`` member, which the issuer builds once it
    allocated the 证照标识 (``IssueRequest.zhengzhao``)."""

    @property
    def holder(self) -> str | None:
        """The id of the credential's one subject, if it has exactly one with an id."""
        subject = self.credential.get("credentialSubject")
        value = subject.get("id") if isinstance(subject, Mapping) else None
        return value if isinstance(value, str) else None

    @property
    def lookup_id(self) -> str | None:
        """How the VC API names the issued credential: ``credentialId``, else its ``id``."""
        if self.credential_id is not None:
            return self.credential_id
        value = self.credential.get("id")
        return value if isinstance(value, str) else None


def _refuse(pointer: str, rule: str) -> NotConformingError:
    return NotConformingError(pointer, rule)


def submitted_template(credential: Mapping[str, Any]) -> Template | None:
    """The certificate template whose type ``credential`` has, if any."""
    types = credential.get("type")
    for kind in types if isinstance(types, list) else [types]:
        template = template_by_type(kind) if isinstance(kind, str) else None
        if template is not None:
            return template
    return None


def _with_defaults(credential: dict[str, Any], now_ms: int) -> dict[str, Any]:
    context = credential.get("@context")
    v1 = isinstance(context, list) and bool(context) and context[0] != CREDENTIALS_V2
    start = "issuanceDate" if v1 else "validFrom"
    if start not in credential:
        credential[start] = format_ms(now_ms)
    return credential


def _check_contexts(credential: Mapping[str, Any]) -> None:
    for index, item in enumerate(credential["@context"]):
        if not isinstance(item, str) or item not in CONTEXT_FILES:
            raise _refuse(
                f"/@context/{index}",
                "is not a context of the packaged allow-list (nothing is fetched; "
                "inline contexts are not accepted)",
            )


def _check_issuer(issuer: str, chain_id: int, issuer_id: int) -> None:
    if issuer != issuer_did(chain_id, issuer_id):
        raise _refuse("/issuer", "is not this province's issuer DID")


def _pointer_claim(pointer: object, where: str) -> str:
    try:
        if not isinstance(pointer, str):
            raise ValueError
        return claim_name(pointer)
    except ValueError:
        raise _refuse(
            where, "must be the JSON pointer of a claim: /credentialSubject/<claim>"
        ) from None


def _disclosable(
    subject: Mapping[str, Any], disclosable: Sequence[str], mandatory: Sequence[str] | None
) -> list[str]:
    if mandatory is not None:
        revealed: set[str] = {"id", "type"}
        for index, pointer in enumerate(mandatory):
            try:
                tokens = parse_pointer(pointer)
            except ValueError:
                raise _refuse(
                    f"/options/mandatoryPointers/{index}", "is not a JSON pointer"
                ) from None
            if tokens[:1] == ["credentialSubject"]:
                if len(tokens) == 1:
                    return []
                revealed.add(tokens[1])
        return [name for name in subject if name not in revealed]
    names = []
    for index, pointer in enumerate(disclosable):
        name = _pointer_claim(pointer, f"/options/disclosablePointers/{index}")
        if name in ("id", "type") or name not in subject:
            raise _refuse(
                f"/options/disclosablePointers/{index}", "does not name a claim of the subject"
            )
        if name in names:
            raise _refuse(f"/options/disclosablePointers/{index}", "repeats a pointer")
        names.append(name)
    return names


def _certificate_file(credential: Mapping[str, Any]) -> CertificateFile | None:
    """The certificate file ``credential`` names, refusing a malformed or second entry."""
    try:
        return named_file(credential)
    except FileBindingError as broken:
        raise _refuse(broken.pointer, broken.rule) from None


def _template_file(credential: Mapping[str, Any]) -> CertificateFile | None:
    """A certificate's ``relatedResource``: nothing, or the one certificate file entry."""
    if RELATED_RESOURCE not in credential:
        return None
    named = _certificate_file(credential)
    if named is None or len(as_list(credential[RELATED_RESOURCE])) != 1:
        raise _refuse(
            f"/{RELATED_RESOURCE}",
            "a certificate's related resource is its certificate file, one entry "
            "(docs/certificate-file.md)",
        )
    return named


def _template_request(
    credential: Mapping[str, Any], template: Template, submitted: SubmittedCredential
) -> IssueRequest:
    """The template dialect's request for a submitted certificate of ``template``."""
    if credential["type"] != ["VerifiableCredential", template.credential_type]:
        raise _refuse(
            "/type", f"a certificate is [VerifiableCredential, {template.credential_type}]"
        )
    if credential["@context"] not in (CONTEXT, [CREDENTIALS_V2]):
        raise _refuse("/@context", f"a certificate's contexts are {CONTEXT}")
    extra = sorted(set(credential) - _TEMPLATE_MEMBERS)
    if extra:
        raise _refuse(f"/{extra[0]}", "is not part of a certificate of this template")
    if submitted.disclosable or submitted.mandatory is not None:
        raise _refuse(
            "/options", "the template decides which claims of a certificate are disclosable"
        )
    schema = credential.get("credentialSchema")
    if schema is not None and schema != {"id": template.schema_id, "type": "JsonSchema"}:
        raise _refuse("/credentialSchema", "is not the template's schema")
    subject = credential["credentialSubject"]
    if not isinstance(subject, dict) or not isinstance(subject.get("id"), str):
        raise _refuse("/credentialSubject", "a certificate has one subject with the holder's id")
    claims = {k: v for k, v in subject.items() if k != "id"}
    return IssueRequest(
        template=template.name,
        holder=subject["id"],
        claims=claims,
        valid_from=credential.get("validFrom"),
        valid_until=credential.get("validUntil"),
        credential_status=submitted.credential_status,
        agency=submitted.agency,
        zhengzhao=submitted.zhengzhao,
        related_file=_template_file(credential),
    )


def build_submitted(
    submitted: SubmittedCredential, *, chain_id: int, issuer_id: int, now_ms: int
) -> tuple[str, dict[str, Any], list[list[Any]]]:
    """Check ``submitted`` and build its secured form and disclosures.

    Returns the template name (``""`` for a type that is no template's), the
    secured form and the disclosures. Raises ``NotConformingError`` (a VCDM rule or
    Tongban's profile), ``InputRejectedError`` (I-JSON, caps) or, for a certificate
    of a template, the template dialect's errors.
    """
    check(submitted.credential, CREDENTIAL_LIMITS)
    if not isinstance(submitted.credential, Mapping):
        raise _refuse("", "a credential is a JSON object")
    for member in _ADDED_BY_ISSUER:
        if member in submitted.credential:
            raise _refuse(f"/{member}", "is added by the issuer; submit an unsecured credential")
    unknown = sorted(set(submitted.credential) - SUBMITTED_MEMBERS, key=str)
    if unknown:
        named = [name for name in unknown if nameable(name)]
        raise _refuse(
            f"/{named[0]}" if named else "",
            "is not a member of a Tongban credential (verifiers refuse unknown members)"
            if named
            else "has a member that is not part of a Tongban credential",
        )
    if submitted.disclosable and submitted.mandatory is not None:
        raise _refuse("/options", "give disclosable or mandatory pointers, not both")
    credential = _with_defaults(copy.deepcopy(dict(submitted.credential)), now_ms)
    try:
        model = check_credential(credential)
    except ModelViolation as broken:
        raise _refuse(broken.pointer, broken.rule) from None
    _check_contexts(credential)
    _check_issuer(model.issuer, chain_id, issuer_id)
    for index, subject in enumerate(model.subjects):
        if "_sd" in subject:
            at = f"/credentialSubject/{index}" if model.subject_is_array else "/credentialSubject"
            raise _refuse(f"{at}/_sd", "is added by the issuer")
    _certificate_file(credential)
    template = submitted_template(credential)
    if template is not None:
        request = _template_request(credential, template, submitted)
        built, secured, disclosures = build_credential(
            request, chain_id=chain_id, issuer_id=issuer_id, now_ms=now_ms
        )
        return built.name, secured, disclosures
    if submitted.credential_status:
        own = credential.get("credentialStatus")
        mine = [dict(entry) for entry in submitted.credential_status]
        credential["credentialStatus"] = [*([] if own is None else as_list(own)), *mine]
    if TONGBAN_V1 not in credential["@context"]:
        credential["@context"] = [*credential["@context"], TONGBAN_V1]
    wants_disclosure = bool(submitted.disclosable) or submitted.mandatory is not None
    if not wants_disclosure:
        return "", credential, []
    if model.version is not DataModel.V2 or model.subject_is_array:
        raise _refuse(
            "/options",
            "selective disclosure needs a VCDM 2.0 credential with one credentialSubject",
        )
    subject = model.subjects[0]
    names = _disclosable(subject, submitted.disclosable, submitted.mandatory)
    if not names:
        return "", credential, []
    secured_subject, disclosures = secure_claims(subject, names, sd_slots_for(len(names)))
    return "", {**credential, "credentialSubject": secured_subject}, disclosures


def issue_submitted(
    submitted: SubmittedCredential, signer: Signer, *, chain_id: int, issuer_id: int, now_ms: int
) -> SignedCredential:
    """Build and sign one submitted credential (pure: no store, no chain)."""
    template, secured, disclosures = build_submitted(
        submitted, chain_id=chain_id, issuer_id=issuer_id, now_ms=now_ms
    )
    return sign_credential(
        secured, disclosures, signer, template=template, created=format_ms(now_ms)
    )


CredentialRequest = IssueRequest | SubmittedCredential
"""What the issuer builds a credential from: a template request or a submitted credential."""


def issue_any(
    request: CredentialRequest, signer: Signer, *, chain_id: int, issuer_id: int, now_ms: int
) -> SignedCredential:
    """``issue_credential`` or ``issue_submitted``, as ``request`` is."""
    if isinstance(request, SubmittedCredential):
        return issue_submitted(
            request, signer, chain_id=chain_id, issuer_id=issuer_id, now_ms=now_ms
        )
    return issue_credential(request, signer, chain_id=chain_id, issuer_id=issuer_id, now_ms=now_ms)
