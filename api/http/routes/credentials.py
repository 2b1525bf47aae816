"""``/credentials``: issue, read, anchoring state and anchor proof, status (issuer systems).

Issuing and reading a credential touch personal data: they need ``X-Purpose``
and ``X-Legal-Basis`` and each credential gets an access event in this
province's log (``credential.issue``, ``credential.read``; resource
``credential:<digest>``, subject the holder DID), recorded through
``api.province.access``. Issuing signs with the key ring's active key, never a
key the chain does not list as valid now.

Issuing takes an ``Idempotency-Key`` (scoped to the API client, remembered 24
hours, ``credentials.issuance.idempotency``): a retry with the same key and
body answers the same credentials, with the same status, and issues nothing; with
another body it is a 409 ``idempotency-key-reused``. A keyed issuance's
``credential.issue`` events carry the audit log's own idempotency key
``credential.issue:<digest>``, so a replay appends none again, but records those
a crash lost between storing the credentials and logging them: no answer
without its events, and never two for one credential.

Every certificate is issued for an issuing agency (颁发机构) the client may issue
for (``api.province.issuing_agency``): the Tongban dialect names it in
``agency`` (per request in a batch), the VC API dialect in ``options.agency``
(the VC API's options are extensible; a member of the credential would be
the caller writing what the issuer signs). The agency goes into the
credential (``IssueRequest.agency``) and is the ``actorOrg`` of the
``credential.issue`` event (``credentials.zhengzhao.agencies.event_org``).

Anchoring state, anchor proofs and statuses carry digests and chain positions
only. Refusals of the credential store are answered by the problem table; only
issuing translates its own, to name the request's field.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import JSONResponse

from api.errors import ProblemCode
from api.http.auth import Principal, check_declaration
from api.http.context import ProvinceContext
from api.http.credential_problems import batch_issue_problem, issue_problem, submitted_problem
from api.http.deps import (
    ContextDep,
    CredentialReaderDep,
    DeclarationDep,
    DialectBody,
    IssuerDep,
    JsonBody,
    LegalBasisHeader,
    PurposeHeader,
    RequestIdDep,
    require,
)
from api.http.issue_agency import as_sent, submitted_with_agency, with_agency
from api.http.problems import Problem, problem_responses, unavailable
from api.http.schemas.credentials import (
    DIGEST_PATTERN,
    IDEMPOTENCY_KEY_PATTERN,
    AnchoringOut,
    AnchorProofOut,
    BatchIssuedOut,
    BatchIssueIn,
    CredentialOut,
    IssueIn,
    StatusChangeIn,
    StatusOut,
    StatusRequestOut,
    StatusRequestsOut,
    anchoring_json,
    credential_json,
    issue_request,
    on_chain_json,
    progress_json,
    status_name,
    status_request_json,
)
from api.http.schemas.issuing import batch_examples, issue_examples
from api.http.schemas.vcapi import (
    VcApiIssuedOut,
    VcApiIssueIn,
    VcApiStatusIn,
    vc_api_issue_examples,
    vc_api_status_action,
)
from api.province.access import Declaration, access_event, record_access
from api.province.clients import Role
from api.province.issuing_agency import agency_caller
from credentials.credential import IssueRequest, SignedCredential, holder_of
from credentials.did import issuer_did
from credentials.errors import CredentialError, UnknownCredentialError
from credentials.issuance import (
    AnchoringState,
    AnchoringStatus,
    CredentialIssuer,
    Idempotency,
    Replay,
    request_hash,
)
from credentials.status import StatusAction, StatusReason
from credentials.submitted import CredentialRequest, SubmittedCredential
from credentials.zhengzhao.profile import Agency
from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import AuditLog
from ledger.chain.index import ChainIndex

router = APIRouter(prefix="/credentials", tags=["credentials"])

# Documented per template (api.http.schemas.issuing); validated by IssueIn and the template.
ISSUE_BODY = JsonBody(IssueIn, examples=issue_examples())
BATCH_BODY = JsonBody(BatchIssueIn, batch=True, examples=batch_examples())
STATUS_BODY = JsonBody(StatusChangeIn)
# One route, two dialects (the body's top-level member chooses): the VC API's and ours.
ISSUE_DIALECTS = DialectBody({"template": ISSUE_BODY, "credential": JsonBody(VcApiIssueIn)})
STATUS_DIALECTS = DialectBody({"action": STATUS_BODY, "credentialId": JsonBody(VcApiStatusIn)})
MAX_REQUEST_ID = 2**53 - 1

# A holder app may read the status of its credentials: digests and chain state only.
StatusReaderDep = Annotated[Principal, require(Role.ISSUER, Role.VERIFIER, Role.HOLDER)]
"""An issuing or verifying system asking for a digest's status."""

IssueKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Makes a retried issuance harmless: the same key from the same client "
        "within 24 hours answers the credentials it issued (same digests), issuing "
        "nothing; with another body, 409 `idempotency-key-reused`.",
        # Documented only: checked with the declaration headers (check_declaration).
        json_schema_extra={"maxLength": 128, "pattern": IDEMPOTENCY_KEY_PATTERN},
    ),
]
"""The optional ``Idempotency-Key`` header of the issuing routes, as sent."""


@dataclass(frozen=True)
class IssueHeaders:
    """The issuing routes' headers: the declaration and the optional idempotency key."""

    declared: Declaration
    idempotency_key: str | None


async def _issue_headers(
    purpose: PurposeHeader = None,
    legal_basis: LegalBasisHeader = None,
    idempotency_key: IssueKeyHeader = None,
) -> IssueHeaders:
    # One problem for every bad header, the key's included.
    declared = check_declaration(purpose, legal_basis, idempotency_key)
    return IssueHeaders(declared, idempotency_key)


IssueHeadersDep = Annotated[IssueHeaders, Depends(_issue_headers)]
"""``X-Purpose``, ``X-Legal-Basis`` and ``Idempotency-Key``, checked together."""

REPLAYED_HEADER = "Idempotent-Replayed"
"""Answer header: ``true`` when an ``Idempotency-Key`` replayed an earlier issuance."""

DigestPath = Annotated[
    str, Path(pattern=DIGEST_PATTERN, description="The credential digest (64 lowercase hex).")
]

_ISSUE_PROBLEMS = problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 503)
_READ_PROBLEMS = problem_responses(401, 403, 404, 422, 429, 503)
_PROOF_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 429, 503)
_STATUS_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503)


def _issuer(context: ProvinceContext) -> CredentialIssuer:
    if context.issuer is None:
        raise unavailable("credential issuing")
    return context.issuer


def _index(context: ProvinceContext) -> ChainIndex:
    if context.index is None:
        raise unavailable("chain index")
    return context.index


def _keyed_event(event: EventInput, digest: str) -> EventInput:
    # The audit log's idempotency (per actor) makes the event exactly-once per credential.
    return replace(event, idempotency_key=f"credential.issue:{digest}")


def _record_issue_events(
    audit_log: AuditLog, caller: Caller, events: list[EventInput], keyed: bool
) -> None:
    results = record_access(audit_log, caller, events)
    if not keyed:
        return
    # A key the caller spent on an event of its own (``POST /audit/events``) is not ours.
    foreign = [
        replace(event, idempotency_key=None)
        for event, result in zip(events, results, strict=True)
        if result.replayed
        and (result.event.action, result.event.resource) != (event.action, event.resource)
    ]
    if foreign:
        record_access(audit_log, caller, foreign)


def _record_by_agency(
    context: ProvinceContext,
    caller: Caller,
    requests: Sequence[CredentialRequest],
    events: list[EventInput],
    keyed: bool,
) -> None:
    # One group commit per agency: the agency is the events' actorOrg.
    groups: dict[Agency | None, list[EventInput]] = {}
    for request, event in zip(requests, events, strict=True):
        groups.setdefault(request.agency, []).append(event)
    for agency, grouped in groups.items():
        _record_issue_events(context.audit_log, agency_caller(caller, agency), grouped, keyed)


def _issued_json(credential: SignedCredential) -> dict[str, Any]:
    # Just stored: the writer has not sealed it into a batch yet.
    return credential_json(
        credential.document, AnchoringStatus(credential.digest, AnchoringState.PENDING)
    )


@dataclass(frozen=True)
class _Issued:
    """What an issuing call answers: each credential's JSON, and whether it is a replay."""

    results: list[dict[str, Any]]
    replayed: bool

    @property
    def headers(self) -> dict[str, str]:
        return {REPLAYED_HEADER: "true"} if self.replayed else {}


def _issue(
    context: ProvinceContext,
    principal: Principal,
    declared: Declaration,
    request_id: str,
    requests: Sequence[CredentialRequest],
    batch: bool,
    key: str | None,
    named: Sequence[bool],
) -> _Issued:
    issuer = _issuer(context)
    if context.keyring is None:
        raise unavailable("signing keys")
    signer = context.keyring.credential_signer()
    try:
        if key is None:
            signed, replay = issuer.issue_many(requests, signer=signer), Replay.NEW
        else:
            kind = "issue/batch" if batch else "issue"
            sent = as_sent(requests, named)
            scope = Idempotency(principal.caller.actor, key, request_hash(kind, sent))
            keyed = issuer.issue_once(requests, scope, signer=signer)
            signed, replay = keyed.credentials, keyed.replay
    except CredentialError as exc:
        # Kept here, not in the problem table: the credential's JSON pointers become
        # the request's (``/requests/3/claims/...``), which needs the requests.
        config = issuer.config
        first = requests[0]
        if isinstance(first, SubmittedCredential):
            problem = submitted_problem(exc)
        elif batch:
            problem = batch_issue_problem(
                exc,
                [r for r in requests if isinstance(r, IssueRequest)],
                chain_id=config.chain_id,
                issuer_id=config.issuer_id,
                now_ms=context.clock(),
            )
        else:
            problem = issue_problem(exc, first)
        if problem is None:
            raise
        raise problem from None
    if replay is Replay.CONFLICT:
        raise Problem(
            ProblemCode.IDEMPOTENCY_KEY_REUSED,
            "this client already used the Idempotency-Key for another request; use a new key",
        )
    events = [
        access_event(
            declared,
            request_id,
            "credential.issue",
            f"credential:{credential.digest_hex}",
            subject_id=request.holder,
        )
        for credential, request in zip(signed, requests, strict=True)
    ]
    if key is not None:
        events = [_keyed_event(e, c.digest_hex) for e, c in zip(events, signed, strict=True)]
    _record_by_agency(context, principal.caller, requests, events, key is not None)
    if replay is Replay.REPLAYED:
        # The anchoring as it is now, and the anchor proof once final.
        answers = issuer.answers([c.digest for c in signed])
        return _Issued([credential_json(*answer) for answer in answers], replayed=True)
    context.metrics.issued.inc(amount=len(signed))
    return _Issued([_issued_json(c) for c in signed], replayed=False)


@router.post(
    "/issue",
    status_code=201,
    response_model=CredentialOut | VcApiIssuedOut,
    summary="Issue one credential: VC API (`credential`) or template (`template`) dialect",
    responses=_ISSUE_PROBLEMS,
    openapi_extra=ISSUE_DIALECTS.openapi(vc_api_issue_examples()),
)
def issue(
    principal: IssuerDep,
    headers: IssueHeadersDep,
    body: Annotated[IssueIn | VcApiIssueIn, ISSUE_DIALECTS.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """Build, sign and store one credential; it joins the open batch (anchoring pending).

    The body's top-level member picks the dialect: ``credential`` (W3C VC API:
    201 ``{"verifiableCredential": ...}``) or ``template`` (Tongban's catalogue:
    201 ``CredentialOut``); both or neither is 400. Logged as ``credential.issue``.
    """
    request: CredentialRequest = (
        submitted_with_agency(context.db, principal.client, body)
        if isinstance(body, VcApiIssueIn)
        else with_agency(context.db, principal.client, issue_request(body), body.agency, "/agency")
    )
    issued = _issue(
        context,
        principal,
        headers.declared,
        request_id,
        [request],
        batch=False,
        key=headers.idempotency_key,
        named=[
            (body.options.agency if isinstance(body, VcApiIssueIn) else body.agency) is not None
        ],
    )
    [result] = issued.results
    answer_headers = {"Location": f"/credentials/{result['digest']}", **issued.headers}
    if isinstance(body, VcApiIssueIn):
        answer = {"verifiableCredential": result["credential"]}
        return JSONResponse(answer, status_code=201, headers=answer_headers)
    return JSONResponse(result, status_code=201, headers=answer_headers)


@router.post(
    "/issue/batch",
    status_code=201,
    response_model=BatchIssuedOut,
    summary="Issue up to 1,000 credentials, all or none (one credential.issue event each)",
    responses=_ISSUE_PROBLEMS,
    openapi_extra=BATCH_BODY.openapi,
)
def issue_batch(
    principal: IssuerDep,
    headers: IssueHeadersDep,
    body: Annotated[BatchIssueIn, BATCH_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """Issue every request or none; a bad one is a 422 naming ``/requests/<i>/...``."""
    requests = [
        with_agency(
            context.db, principal.client, issue_request(item), item.agency, f"/requests/{n}/agency"
        )
        for n, item in enumerate(body.requests)
    ]
    issued = _issue(
        context,
        principal,
        headers.declared,
        request_id,
        requests,
        batch=True,
        key=headers.idempotency_key,
        named=[item.agency is not None for item in body.requests],
    )
    return JSONResponse({"results": issued.results}, status_code=201, headers=issued.headers)


@router.post(
    "/status",
    status_code=202,
    response_model=StatusRequestsOut,
    summary="Change a credential's status: VC API (`credentialId`) or by digests (`action`)",
    responses={
        **_STATUS_PROBLEMS,
        200: {
            "description": "VC API dialect: the change is "
            "handed to the chain; `requests` (Tongban extension) says where it stands."
        },
    },
    openapi_extra=STATUS_DIALECTS.openapi(),
)
def change_status(
    principal: IssuerDep,
    body: Annotated[StatusChangeIn | VcApiStatusIn, STATUS_DIALECTS.depends],
    context: ContextDep,
) -> JSONResponse:
    """Hand the change to the chain (one transaction per 1,000 digests); all or none.

    ``credentialId`` (W3C VC API Update Status) answers 200; ``action`` (by
    digests) answers 202; both or neither is 400.
    """
    issuer = _issuer(context)
    if isinstance(body, VcApiStatusIn):
        digest = issuer.digest_named(body.credential_id)
        action = vc_api_status_action(body)
        requests = issuer.change_status(action, [digest], StatusReason.UNSPECIFIED)
        return JSONResponse({"requests": [status_request_json(r) for r in requests]})
    digests = [bytes.fromhex(d) for d in body.digests]
    reason = StatusReason[body.reason.upper()]
    requests = issuer.change_status(StatusAction(body.action), digests, reason)
    return JSONResponse({"requests": [status_request_json(r) for r in requests]}, status_code=202)


@router.get(
    "/status-requests/{request_id}",
    response_model=StatusRequestOut,
    summary="Where a status change stands on chain",
    responses=_READ_PROBLEMS,
)
def status_request(
    principal: IssuerDep,
    context: ContextDep,
    request_id: Annotated[int, Path(ge=1, le=MAX_REQUEST_ID)],
) -> JSONResponse:
    """Pending until its transaction is final; failed if the outbox gave it up."""
    progress = _issuer(context).status_request(request_id)
    if progress is None:
        raise Problem(ProblemCode.NOT_FOUND, "no status request has that id")
    return JSONResponse(progress_json(progress))


@router.get(
    "/{digest}",
    response_model=CredentialOut,
    summary="Read an issued credential (logged as credential.read)",
    responses=_READ_PROBLEMS,
)
def read_credential(
    principal: CredentialReaderDep,
    declared: DeclarationDep,
    context: ContextDep,
    request_id: RequestIdDep,
    digest: DigestPath,
) -> JSONResponse:
    """The credential, with its anchor proof once its batch is final, and its anchoring."""
    issuer = _issuer(context)
    raw = bytes.fromhex(digest)
    found: tuple[dict[str, Any], AnchoringStatus] | None
    try:
        found = issuer.credential(raw, require_anchor=False), issuer.anchoring_status(raw)
    except UnknownCredentialError:
        found = None
    holder = None if found is None else holder_of(found[0])
    event = access_event(
        declared,
        request_id,
        "credential.read",
        f"credential:{digest}",
        outcome=Outcome.SUCCESS if found is not None else Outcome.NOT_FOUND,
        subject_id=holder,
    )
    record_access(context.audit_log, principal.caller, [event])
    if found is None:
        raise Problem(ProblemCode.NOT_FOUND, "no credential with that digest was issued here")
    return JSONResponse(credential_json(*found))


@router.get(
    "/{digest}/anchoring",
    response_model=AnchoringOut,
    summary="Whether a credential is pending, sealed into a batch, or anchored",
    responses=_READ_PROBLEMS,
)
def anchoring(
    principal: CredentialReaderDep, context: ContextDep, digest: DigestPath
) -> JSONResponse:
    """The anchoring state of a credential issued here."""
    status = _issuer(context).anchoring_status(bytes.fromhex(digest))
    return JSONResponse(anchoring_json(status))


@router.get(
    "/{digest}/anchor-proof",
    response_model=AnchorProofOut,
    summary="The anchor proof, once the credential's batch is final on chain",
    responses=_PROOF_PROBLEMS,
)
def anchor_proof(
    principal: CredentialReaderDep, context: ContextDep, digest: DigestPath
) -> JSONResponse:
    """``TongbanAnchorProof2026``; 409 ``anchor-pending`` until the batch is final."""
    proof = _issuer(context).anchor_proof(bytes.fromhex(digest))
    return JSONResponse(proof.to_json())


@router.get(
    "/{digest}/status",
    response_model=StatusOut,
    summary="A digest's revocation or suspension status on chain",
    responses=_READ_PROBLEMS,
)
def digest_status(
    principal: StatusReaderDep, context: ContextDep, digest: DigestPath
) -> JSONResponse:
    """Status under this province's issuer id, as of the chain index; ``requested`` for issuers."""
    raw = bytes.fromhex(digest)
    with _index(context).view() as view:
        on_chain = view.digest_status(context.issuer_id, raw)
        height = view.height
    document: dict[str, Any] = {
        "digest": digest,
        "issuer": issuer_did(context.chain_id, context.issuer_id),
        "onChain": on_chain_json(on_chain),
        "indexHeight": height,
    }
    if Role.ISSUER in principal.client.roles and context.issuer is not None:
        # A digest not issued here has nothing requested: the member is left out.
        with suppress(UnknownCredentialError):
            document["requested"] = status_name(context.issuer.local_status(raw))
    return JSONResponse(document)
