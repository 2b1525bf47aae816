"""``/credentials``: issue, read, anchoring state and anchor proof, status (issuer systems).

Issuing and reading a credential touch personal data: they need ``X-Purpose``
and ``X-Legal-Basis`` and each credential gets an access event in this
province's log (``credential.issue``, ``credential.read``; resource
``credential:<digest>``, subject the holder DID), recorded through
``api.province.access``. Issuing signs with the key ring's active key, never a
key the chain does not list as valid now. Anchoring state, anchor proofs and
statuses carry digests and chain positions only. Refusals of the credential
store are answered by the problem table; only issuing translates its own, to
name the request's field.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from api.errors import ProblemCode
from api.http.auth import Principal
from api.http.context import ProvinceContext
from api.http.credential_problems import batch_issue_problem, issue_problem
from api.http.deps import (
    ContextDep,
    CredentialReaderDep,
    DeclarationDep,
    IssuerDep,
    JsonBody,
    RequestIdDep,
    require,
)
from api.http.problems import Problem, problem_responses, unavailable
from api.http.schemas.credentials import (
    DIGEST_PATTERN,
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
from api.province.access import Declaration, access_event, record_access
from api.province.clients import Role
from credentials.credential import IssueRequest, SignedCredential
from credentials.errors import CredentialError, UnknownCredentialError
from credentials.issuance import AnchoringState, AnchoringStatus, CredentialIssuer
from credentials.status import StatusAction, StatusReason
from ledger.audit.events import Outcome
from ledger.chain.index import ChainIndex

router = APIRouter(prefix="/credentials", tags=["credentials"])

ISSUE_BODY = JsonBody(IssueIn)
BATCH_BODY = JsonBody(BatchIssueIn, batch=True)
STATUS_BODY = JsonBody(StatusChangeIn)
MAX_REQUEST_ID = 2**53 - 1

StatusReaderDep = Annotated[Principal, require(Role.ISSUER, Role.VERIFIER)]
"""An issuing or verifying system asking for a digest's status."""

DigestPath = Annotated[
    str, Path(pattern=DIGEST_PATTERN, description="The credential digest (64 lowercase hex).")
]

_ISSUE_PROBLEMS = problem_responses(400, 401, 403, 413, 415, 422, 429, 503)
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


def _issue(
    context: ProvinceContext,
    principal: Principal,
    declared: Declaration,
    request_id: str,
    requests: Sequence[IssueRequest],
    batch: bool,
) -> list[SignedCredential]:
    issuer = _issuer(context)
    if context.keyring is None:
        raise unavailable("signing keys")
    signer = context.keyring.credential_signer()
    try:
        signed = issuer.issue_many(requests, signer=signer)
    except CredentialError as exc:
        # Kept here, not in the problem table: the credential's JSON pointers become
        # the request's (``/requests/3/claims/...``), which needs the requests.
        config = issuer.config
        problem = (
            batch_issue_problem(
                exc,
                requests,
                chain_id=config.chain_id,
                issuer_id=config.issuer_id,
                now_ms=context.clock(),
            )
            if batch
            else issue_problem(exc, requests[0])
        )
        if problem is None:
            raise
        raise problem from None
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
    record_access(context.audit_log, principal.caller, events)
    context.metrics.issued.inc(amount=len(signed))
    return signed


def _issued_json(credential: SignedCredential) -> dict[str, Any]:
    # Just stored: the writer has not sealed it into a batch yet.
    return credential_json(
        credential.document, AnchoringStatus(credential.digest, AnchoringState.PENDING)
    )


@router.post(
    "/issue",
    status_code=201,
    response_model=CredentialOut,
    summary="Issue one credential (logged as credential.issue)",
    responses=_ISSUE_PROBLEMS,
    openapi_extra=ISSUE_BODY.openapi,
)
def issue(
    principal: IssuerDep,
    declared: DeclarationDep,
    body: Annotated[IssueIn, ISSUE_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """Build, sign and store one credential; it joins the open batch (anchoring pending)."""
    [credential] = _issue(
        context, principal, declared, request_id, [issue_request(body)], batch=False
    )
    return JSONResponse(
        _issued_json(credential),
        status_code=201,
        headers={"Location": f"/credentials/{credential.digest_hex}"},
    )


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
    declared: DeclarationDep,
    body: Annotated[BatchIssueIn, BATCH_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """Issue every request or none; a bad one is a 422 naming ``/requests/<i>/...``."""
    requests = [issue_request(item) for item in body.requests]
    signed = _issue(context, principal, declared, request_id, requests, batch=True)
    return JSONResponse({"results": [_issued_json(c) for c in signed]}, status_code=201)


@router.post(
    "/status",
    status_code=202,
    response_model=StatusRequestsOut,
    summary="Revoke, suspend or reinstate credentials issued here, by digest",
    responses=_STATUS_PROBLEMS,
    openapi_extra=STATUS_BODY.openapi,
)
def change_status(
    principal: IssuerDep,
    body: Annotated[StatusChangeIn, STATUS_BODY.depends],
    context: ContextDep,
) -> JSONResponse:
    """Hand the change to the chain (one transaction per 1,000 digests); all or none."""
    issuer = _issuer(context)
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
    holder = None if found is None else str(found[0]["credentialSubject"]["id"])
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
        "onChain": on_chain_json(on_chain),
        "indexHeight": height,
    }
    if Role.ISSUER in principal.client.roles and context.issuer is not None:
        # A digest not issued here has nothing requested: the member is left out.
        with suppress(UnknownCredentialError):
            document["requested"] = status_name(context.issuer.local_status(raw))
    return JSONResponse(document)
