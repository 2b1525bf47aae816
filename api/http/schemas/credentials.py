"""Bodies and answers of the credential, verification and DID routes, and their JSON forms.

Credentials and presentations inside requests and answers are free JSON objects
(``dict[str, Any]``): the verifier checks them itself (I-JSON caps, structure,
schema), and the issuer builds them. Optional answer members are left out when
they have no value (never ``null``); the ``*_json`` functions build exactly the
documented members.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, WithJsonSchema

from api.http.schemas.certificate_file import CERTIFICATE_FILE_HELP, CertificateFileIn
from api.http.schemas.common import ApiModel, InputModel
from api.http.schemas.zhengzhao import ZHENGZHAO_DESCRIPTION, ZhengzhaoOut
from credentials.credential import IssueRequest
from credentials.issuance import AnchoringStatus, StatusRequest, StatusRequestProgress
from credentials.status import DigestStatus
from credentials.times import format_seconds
from credentials.verify.result import status_reason_name
from ledger.chain.index import IndexedStatus

__all__ = [
    "DID_KEY_PATTERN",
    "DIGEST_PATTERN",
    "IDEMPOTENCY_KEY_PATTERN",
    "AnchorProofOut",
    "AnchoringOut",
    "BatchIssueIn",
    "BatchIssuedOut",
    "ChallengeIn",
    "ChallengeOut",
    "CheckOut",
    "CredentialOut",
    "DidDocumentOut",
    "IssueIn",
    "OnChainStatusOut",
    "StatusChangeIn",
    "StatusOut",
    "StatusRequestOut",
    "StatusRequestsOut",
    "VerificationOut",
    "VerificationProblemOut",
    "VerifiedStatusOut",
    "VerifyCredentialIn",
    "VerifyPresentationIn",
    "anchoring_json",
    "credential_json",
    "issue_request",
    "on_chain_json",
    "progress_json",
    "status_name",
    "status_request_json",
]

DIGEST_PATTERN = r"^[0-9a-f]{64}$"
"""A credential digest: SM3, 64 lowercase hex characters."""

DID_KEY_PATTERN = r"^did:key:z[1-9A-HJ-NP-Za-km-z]{1,64}$"
"""A holder's ``did:key`` (base58btc multibase); the issuer checks that it is an SM2 key."""

IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$"
"""An ``Idempotency-Key`` on the issuing routes: the audit log's rule for ``idempotencyKey``.

At most 128 characters, a letter or digit then letters, digits, ``_.:-`` (as
``ledger.audit.events`` checks an appended event's key).
"""

_DATE_TIME = "UTC `YYYY-MM-DDTHH:MM:SSZ` (milliseconds `.sss` allowed)."

ReasonName = Literal[
    "unspecified",
    "key_compromise",
    "superseded",
    "issued_in_error",
    "holder_request",
    "data_changed",
    "legal_order",
    "under_review",
    "review_cleared",
]
StatusName = Literal["none", "suspended", "revoked"]
Digest = Annotated[str, Field(pattern=DIGEST_PATTERN)]
ActionName = Literal["revoke", "suspend", "reinstate"]


# -- issuing ------------------------------------------------------------------------------


class IssueIn(InputModel):
    """One credential to issue: a template, the holder, every claim in clear, the validity."""

    template: str = Field(
        pattern=r"^[a-z][a-z0-9-]{0,63}$",
        description="A certificate template, e.g. `degree-certificate` (docs/credentials.md).",
    )
    holder: str = Field(pattern=DID_KEY_PATTERN, description="The holder's SM2 `did:key`.")
    claims: dict[str, Any] = Field(
        description="Every claim of the template, in clear; the template decides which "
        "become selectively disclosable. Never echoed in an error."
    )
    valid_from: str | None = Field(
        default=None, max_length=32, description=f"{_DATE_TIME} Default: now."
    )
    valid_until: str | None = Field(default=None, max_length=32, description=_DATE_TIME)
    certificate_file: CertificateFileIn | None = Field(
        default=None, description=CERTIFICATE_FILE_HELP
    )
    agency: str | None = Field(
        default=None,
        max_length=32,
        description="The issuing agency (颁发机构) by its 统一社会信用代码: one this client "
        "may issue for (403 `agency-not-allowed` otherwise), registered, active and allowed "
        "the template (422 `agency-refused` otherwise). May be left out when the client may "
        "issue the template for exactly one agency (docs/agencies.md).",
    )


class BatchIssueIn(InputModel):
    """Up to 1,000 credentials issued all or none."""

    requests: list[IssueIn] = Field(min_length=1, max_length=1000)


def issue_request(body: IssueIn) -> IssueRequest:
    """The domain request of one issue body."""
    return IssueRequest(
        template=body.template,
        holder=body.holder,
        claims=body.claims,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        related_file=(
            None if body.certificate_file is None else body.certificate_file.certificate_file()
        ),
    )


class AnchoringOut(ApiModel):
    """Where a credential's digest is on its way to the chain.

    ``root``, ``treeSize`` and ``leafIndex`` once its batch is sealed;
    ``blockNumber`` and ``blockTime`` once the batch is anchored and final.
    """

    digest: str
    state: Literal["pending", "sealed", "anchored"]
    root: str | None = None
    tree_size: int | None = None
    leaf_index: int | None = None
    block_number: int | None = None
    block_time: str | None = Field(
        default=None, description="Block timestamp of the anchoring, `YYYY-MM-DDTHH:MM:SSZ`."
    )


def anchoring_json(status: AnchoringStatus) -> dict[str, Any]:
    """``AnchoringOut`` of ``status``, without the members it has no value for."""
    document: dict[str, Any] = {"digest": status.digest.hex(), "state": status.state.value}
    if status.root is not None:
        document["root"] = status.root.hex()
    if status.tree_size is not None:
        document["treeSize"] = status.tree_size
    if status.leaf_index is not None:
        document["leafIndex"] = status.leaf_index
    if status.block_number is not None:
        document["blockNumber"] = status.block_number
    if status.block_time is not None:
        document["blockTime"] = format_seconds(status.block_time)
    return document


class CredentialOut(ApiModel):
    """An issued credential, its digest and its anchoring state."""

    digest: str
    credential: dict[str, Any] = Field(
        description="The W3C VC: its sm2-jcs-2026 proof and, once its batch is final, "
        "its TongbanAnchorProof2026."
    )
    anchoring: AnchoringOut


class BatchIssuedOut(ApiModel):
    """The credentials of a batch, in request order."""

    results: list[CredentialOut]


def credential_json(document: dict[str, Any], anchoring: AnchoringStatus) -> dict[str, Any]:
    """``CredentialOut`` of a credential and its anchoring state."""
    return {
        "digest": anchoring.digest.hex(),
        "credential": document,
        "anchoring": anchoring_json(anchoring),
    }


class AnchorProofOut(ApiModel):
    """``TongbanAnchorProof2026`` (docs/anchor-proof.md)."""

    type: Literal["TongbanAnchorProof2026"]
    chain_id: int
    contract: str
    issuer_id: int
    root: str
    leaf_index: int
    tree_size: int
    audit_path: list[str]
    block_number: int


# -- status -------------------------------------------------------------------------------


def status_name(status: DigestStatus) -> str:
    """``none``, ``suspended`` or ``revoked``."""
    return status.name.lower()


class OnChainStatusOut(ApiModel):
    """The digest's status in the CredentialAnchor, as of the chain index."""

    status: StatusName
    reason: str = Field(
        description="Reason of the latest change, a lower-case `StatusReason` name "
        "(`unspecified` when it never changed; `unknown` for a code this service does not know)."
    )
    reason_code: int = Field(description="The on-chain `uint16` reason code.")
    block_number: int | None = Field(default=None, description="Block of the latest change.")


def on_chain_json(status: IndexedStatus) -> dict[str, Any]:
    """``OnChainStatusOut`` of an indexed status."""
    document: dict[str, Any] = {
        "status": status_name(status.status),
        "reason": status_reason_name(status.reason),
        "reasonCode": status.reason,
    }
    if status.block_number is not None:
        document["blockNumber"] = status.block_number
    return document


class StatusOut(ApiModel):
    """A digest's status on chain, and what this issuer last requested for it."""

    digest: str
    issuer: str = Field(description="The DID of the issuer whose namespace the status is in.")
    on_chain: OnChainStatusOut
    index_height: int = Field(description="The block the chain index reflects.")
    requested: StatusName | None = Field(
        default=None,
        description="Issuer callers only, for digests this province issued: the status it "
        "last requested (the chain may lag behind).",
    )


class StatusChangeIn(InputModel):
    """Revoke, suspend or reinstate credentials this province issued, by digest."""

    action: ActionName
    digests: list[Digest] = Field(
        min_length=1,
        max_length=1000,
        description="Credential digests (64 lowercase hex) this province issued; repeats "
        "count once.",
    )
    reason: ReasonName = "unspecified"


class StatusRequestOut(ApiModel):
    """A status change handed to the chain (one transaction)."""

    request_id: int
    action: ActionName
    reason: str
    count: int = Field(description="Digests in the request.")
    state: Literal["pending", "final", "failed"]
    block_number: int | None = Field(default=None, description="Once final by our transaction.")


class StatusRequestsOut(ApiModel):
    """The requests a status change became (one per 1,000 digests)."""

    requests: list[StatusRequestOut]


def status_request_json(
    request: StatusRequest, state: str = "pending", block_number: int | None = None
) -> dict[str, Any]:
    """``StatusRequestOut`` of a request."""
    document: dict[str, Any] = {
        "requestId": request.request_id,
        "action": request.action.value,
        "reason": status_reason_name(request.reason),
        "count": len(request.digests),
        "state": state,
    }
    if block_number is not None:
        document["blockNumber"] = block_number
    return document


def progress_json(progress: StatusRequestProgress) -> dict[str, Any]:
    """``StatusRequestOut`` of a request and its progress."""
    return status_request_json(progress.request, progress.state.value, progress.block_number)


# -- verification -------------------------------------------------------------------------


class ChallengeIn(InputModel):
    """Nothing to say: the body is `{}` or absent."""


class ChallengeOut(ApiModel):
    """A single-use challenge for one presentation to this verifier."""

    challenge: str
    domain: str = Field(description="This verifier's DID: the presentation's `domain`.")
    expires_at: str = Field(description="UTC with milliseconds, `YYYY-MM-DDTHH:MM:SS.sssZ`.")


_CONTEXT_RULE = (
    "An array whose first item is `https://www.w3.org/ns/credentials/v2` (VCDM 2.0 §4.3) "
    "or `https://www.w3.org/2018/credentials/v1` (VCDM 1.1 §4.1)."
)


def _document_schema(kind: str, type_name: str) -> dict[str, Any]:
    """The JSON Schema published for a request's document (what makes it one, VCDM 2.0)."""
    return {
        "type": "object",
        "description": f"The {kind} to verify, checked by the verifier itself. Not a {kind} "
        "at all (not an object, `@context` or `type` missing or wrong, a malformed date-time, "
        "a non-URL `id`, `proof` not an object or objects): 400 naming the member. A well "
        "formed one that fails a check: 200 with `verified` false.",
        "required": ["@context", "type"],
        "properties": {
            "@context": {"type": "array", "minItems": 1, "description": _CONTEXT_RULE},
            "type": {
                "description": f"Includes `{type_name}` (VCDM 2.0 §4.5).",
                "oneOf": [
                    {"type": "string"},
                    {"type": "array", "minItems": 1, "items": {"type": "string"}},
                ],
            },
            "id": {"type": "string", "description": "A URL (VCDM 2.0 §4.4)."},
            "proof": {
                "oneOf": [
                    {"type": "object"},
                    {"type": "array", "minItems": 1, "items": {"type": "object"}},
                ]
            },
        },
    }


def _options_schema(options: dict[str, dict[str, Any]], what: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "description": f"VC API `{what}`. An unknown option (VC API §Options: "
        "implementations MUST throw an error) or a value of the wrong type is a 400 whose "
        "`errors` name it (`https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED`).",
        "properties": options,
    }


_CREDENTIAL_OPTIONS = _options_schema(
    {
        "returnResults": {
            "type": "boolean",
            "description": "Add `results` (validFrom, validUntil, credentialSchema, proof).",
        },
        "returnProblemDetails": {
            "type": "boolean",
            "description": "Include `problemDetails` (default: true).",
        },
        "returnCredential": {
            "type": "boolean",
            "description": "Echo the verified credential as `credential` (default: false).",
        },
    },
    "VerifyCredentialOptions",
)

_PRESENTATION_OPTIONS = _options_schema(
    {
        "challenge": {
            "type": "string",
            "description": "A challenge this verifier issued (`POST /challenges`) that the "
            "presentation's proof must carry: else check 6 is `challenge_mismatch`, or "
            "`challenge_not_issued` when this verifier never issued it. Single use.",
        },
        "domain": {
            "type": "string",
            "description": "The proof's `domain` must equal it (`domain_mismatch`).",
        },
        "returnPresentation": {
            "type": "boolean",
            "description": "Echo the presentation as `verifiablePresentation` (default: false).",
        },
    },
    "VerifyPresentationOptions",
)


class VerifyCredentialIn(InputModel):
    """A credential to verify, VC API `VerifyCredentialRequest`: unknown members refused."""

    # Any JSON value: the VC API view (credentials.verify.vcapi) answers 400 for a
    # document that is not a credential, naming the member.
    verifiable_credential: Annotated[
        Any, WithJsonSchema(_document_schema("credential", "VerifiableCredential"))
    ]
    options: Annotated[Any, WithJsonSchema(_CREDENTIAL_OPTIONS)] = None


class VerifyPresentationIn(InputModel):
    """A presentation to verify (its challenge is used up), VC API `VerifyPresentationRequest`."""

    verifiable_presentation: Annotated[
        Any, WithJsonSchema(_document_schema("presentation", "VerifiablePresentation"))
    ]
    options: Annotated[Any, WithJsonSchema(_PRESENTATION_OPTIONS)] = None


class VerificationProblemOut(ApiModel):
    """A VC API ProblemDetails (RFC 9457 members) for one failing check."""

    type: str = Field(
        description="`https://w3id.org/tongban/problems/verification#<reasonCode>` (stable)."
    )
    title: str = Field(
        description="Short, from the reason code (`Anchor pending` for `anchor_proof_missing`)."
    )
    detail: str = Field(description="The check's message: names elements, never values.")
    check: str = Field(description="Tongban extension: the check's name.")
    reason_code: str = Field(description="Tongban extension: the frozen reason code.")
    at: str | None = Field(
        default=None,
        description="Tongban extension: JSON pointer of the element at fault, when one is.",
    )


class CheckOut(ApiModel):
    """One check of the checklist."""

    number: int
    name: str
    status: Literal["VALID", "INVALID", "ERROR", "SKIPPED"]
    reason_code: str = Field(description="A frozen reason code (docs/credentials.md).")
    message: str = Field(
        description="Names the rule and the element at fault (which credential, disclosure, "
        "member or claim; for `revoked`/`suspended` the reason and block); never quotes "
        "the document's values."
    )
    at: str | None = Field(
        default=None,
        description="JSON pointer of the element at fault in the verified document "
        "(`/disclosures/2`, `/verifiableCredential/1/disclosures/0`), when one is.",
    )


class VerifiedStatusOut(ApiModel):
    """A verified credential's status on chain, as check (4) read it."""

    digest: str
    status: StatusName
    reason: str = Field(
        description="Reason of the latest change, a lower-case `StatusReason` name "
        "(`unspecified` when it never changed; `unknown` for a code this service does not know)."
    )
    reason_code: int = Field(description="The on-chain `uint16` reason code.")
    block_number: int | None = Field(
        default=None, description="Block of the latest change (absent: it never changed)."
    )


class StatusListFindingOut(ApiModel):
    """The Bitstring Status List check of one `credentialStatus` entry (reported)."""

    credential: int = Field(description="The credential's position (0 for a credential alone).")
    entry: int = Field(description="The entry's position in the credential's `credentialStatus`.")
    purpose: str | None = Field(description="`statusPurpose` (`revocation`, `suspension`).")
    index: int | None = Field(description="`statusListIndex` as a number (absent if unreadable).")
    status: Literal["VALID", "INVALID", "SKIPPED"] = Field(
        description="VALID: bit 0. INVALID: bit 1 (`revoked`/`suspended`) or a list that breaks "
        "the specification. SKIPPED: not retrieved (`status_retrieval_error`, "
        "`status_list_not_fetched`) or a purpose not judged (`not_applicable`)."
    )
    reason_code: str = Field(
        description="`ok`, `revoked`, `suspended`, or the specification's error lower-cased "
        "(`status_retrieval_error`, `status_verification_error`, `status_list_length_error`, "
        "`malformed_value_error`, `range_error`), `status_list_not_fetched`, `not_applicable`."
    )
    message: str = Field(description="Names members, never values or URLs.")
    status_block: int | None = Field(
        default=None, description="The list's `statusBlock`: the chain block its bits reflect."
    )
    error_type: str | None = Field(
        default=None, description="The specification's error URL (section 3.5), when one."
    )
    chain_agrees: bool | None = Field(
        default=None,
        description="Tongban credentials: whether the bit says what the chain says (check 4). "
        "The verdict follows the chain; a list lags it by up to about a minute.",
    )


class VerificationOut(ApiModel):
    """VC API VerificationResult, then Tongban's members: the verdict is in the body.

    The standard members come first (`verified`, `problemDetails`, `results`, the echo);
    `kind`, `verdict`, `indexHeight`, `credentialDigests`, `checks` and `statuses` are
    Tongban extensions beside them.
    """

    verified: bool = Field(
        description="True only when the verdict is VALID: every applicable check passed. "
        "A pending anchor, a revoked, suspended, expired or not yet valid credential is false; "
        "so is a credential of an issuer outside the consortium whose proofs verified "
        "(`UNREGISTERED_ISSUER`, one problem of type `...#issuer_not_in_registry`)."
    )
    problem_details: list[VerificationProblemOut] | None = Field(
        default=None,
        description="One per failing check (absent when `options.returnProblemDetails` is false).",
    )
    results: dict[str, Any] | None = Field(
        default=None,
        description="Credentials: with `options.returnResults`, `validFrom`, `validUntil`, "
        "`credentialSchema`, `proof` (each `{verified, input}`, where its check ran). "
        "Presentations: always `presentation` (`challenge`, `domain`, `holder`, `proof`).",
    )
    credential: dict[str, Any] | None = Field(
        default=None, description="The verified credential, with `options.returnCredential`."
    )
    verifiable_presentation: dict[str, Any] | None = Field(
        default=None,
        description="The verified presentation, with `options.returnPresentation`.",
    )
    kind: Literal["credential", "presentation"]
    verdict: Literal["VALID", "INVALID", "ERROR", "UNREGISTERED_ISSUER"] = Field(
        description="Tongban extension. ERROR (the verifier could not decide) never reaches "
        "a 200: it is a 503 (`store-unavailable`) or a 500. UNREGISTERED_ISSUER: an issuer "
        "that is not a `did:tongban` signed it and everything that applies holds (proofs, "
        "validity period, status lists), but no consortium member vouches for it: never a "
        "consortium certificate (check 2 `issuer_not_in_registry`)."
    )
    index_height: int = Field(description="The block the chain index reflected.")
    credential_digests: list[str]
    checks: list[CheckOut]
    statuses: list[VerifiedStatusOut] | None = Field(
        default=None,
        description="Tongban extension: each credential's status on chain as check (4) read "
        "it, in `credentialDigests` order (absent when no status was read).",
    )
    status_list: list[StatusListFindingOut] | None = Field(
        default=None,
        description="Tongban extension: the Bitstring Status List check of each "
        "`BitstringStatusListEntry` (absent when no credential carries one). Reported beside "
        "check 4 for Tongban credentials; for others it is their check 4.",
    )
    zhengzhao: list[ZhengzhaoOut] | None = Field(default=None, description=ZHENGZHAO_DESCRIPTION)


# -- DIDs ---------------------------------------------------------------------------------


class VerificationMethodOut(ApiModel):
    """A Multikey verification method."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: Literal["Multikey"]
    controller: str
    public_key_multibase: str = Field(description="base58btc multibase of `sm2-pub` + point.")


class DidDocumentOut(ApiModel):
    """A DID document (issuer keys carry `keyValidFrom`, `expires`, `revoked`)."""

    model_config = ConfigDict(extra="allow")

    context: list[str] = Field(alias="@context")
    id: str
    verification_method: list[VerificationMethodOut]
    assertion_method: list[str]
