"""``/credentials/verify``, ``/presentations/verify``, ``/challenges`` (verifier systems).

A verification runs the verifier's numbered checklist against this province's
own configuration (chain id, contracts) and chain index, and answers 200 with
the verdict in the body: an invalid credential is a result, not an error. Only
a body that is not JSON or not the route's shape is refused before (400/422).
Each verification is an access event in this province's log
(``credential.verify``, ``presentation.verify``): the verifier evaluates and
builds the event (``Verifier.access_event``), the route records it through
``api.province.access`` as a *verdict*: if the event cannot be recorded, no
answer is given (503 ``access-log-unavailable``).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.http.auth import Principal
from api.http.context import ProvinceContext
from api.http.deps import ContextDep, DeclarationDep, JsonBody, RequestIdDep, VerifierDep
from api.http.problems import problem_responses, unavailable
from api.http.schemas.credentials import (
    ChallengeIn,
    ChallengeOut,
    VerificationOut,
    VerifyCredentialIn,
    VerifyPresentationIn,
)
from api.province.access import Declaration, record_access, record_access_async
from credentials.verify import CREDENTIAL_VERIFY, PRESENTATION_VERIFY, VerificationRequest, Verifier
from ledger.audit.events import format_time

router = APIRouter(tags=["verification"])

CHALLENGE_BODY = JsonBody(ChallengeIn)
CREDENTIAL_BODY = JsonBody(VerifyCredentialIn)
# A presentation may be 1 MiB by itself (PRESENTATION_LIMITS): the larger cap lets the
# verifier answer for it (check 0) instead of the body reader.
PRESENTATION_BODY = JsonBody(VerifyPresentationIn, batch=True)

_CHALLENGE_PROBLEMS = problem_responses(400, 401, 403, 413, 415, 422, 429, 503)
_VERIFY_PROBLEMS = problem_responses(400, 401, 403, 413, 415, 422, 429, 503)


def _verifier(context: ProvinceContext) -> Verifier:
    if context.verifier is None:
        raise unavailable("verification")
    return context.verifier


async def _optional_empty_body(request: Request) -> None:
    """``{}`` or no body at all (a client may POST without one)."""
    length = request.headers.get("content-length")
    if length in (None, "0") and "transfer-encoding" not in request.headers:
        return
    await CHALLENGE_BODY.read(request)


def _verify_presentation(
    context: ProvinceContext,
    principal: Principal,
    declared: Declaration,
    request_id: str,
    document: dict[str, Any],
) -> JSONResponse:
    verifier = _verifier(context)
    started = time.perf_counter()
    result = verifier.evaluate_presentation(document)
    event = verifier.access_event(
        result, _request(principal, declared, request_id), PRESENTATION_VERIFY
    )
    record_access(context.audit_log, principal.caller, [event], verdict=True)
    context.metrics.verification_seconds.observe(time.perf_counter() - started, "presentation")
    context.metrics.verified.inc()
    return JSONResponse(result.to_json())


@router.post(
    "/challenges",
    status_code=201,
    response_model=ChallengeOut,
    summary="A single-use challenge for one presentation to this verifier",
    responses=_CHALLENGE_PROBLEMS,
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ChallengeIn"}}
            },
        }
    },
)
def issue_challenge(
    principal: VerifierDep,
    body: Annotated[None, Depends(_optional_empty_body)],
    context: ContextDep,
) -> ChallengeOut:
    """The holder signs it into the presentation's proof, with ``domain`` this verifier's DID."""
    challenge = _verifier(context).issue_challenge()
    return ChallengeOut(
        challenge=challenge.value,
        domain=challenge.audience,
        expires_at=format_time(challenge.expires_at_ms),
    )


def _request(principal: Principal, declared: Declaration, request_id: str) -> VerificationRequest:
    return VerificationRequest(principal.caller, declared.purpose, declared.legal_basis, request_id)


@router.post(
    "/credentials/verify",
    response_model=VerificationOut,
    summary="Verify a credential (logged as credential.verify)",
    responses=_VERIFY_PROBLEMS,
    openapi_extra=CREDENTIAL_BODY.openapi,
)
async def verify_credential(
    principal: VerifierDep,
    declared: DeclarationDep,
    body: Annotated[VerifyCredentialIn, CREDENTIAL_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """Checks (0)-(7) on one credential; the verdict is in the body."""
    # The checks run in the thread pool (SM2 releases the GIL, so verifications
    # overlap); the access event is then awaited as a future of the log's group
    # commit, so no pool thread is parked while the commit reaches the disk.
    verifier = _verifier(context)
    started = time.perf_counter()
    result = await run_in_threadpool(verifier.evaluate_credential, body.verifiable_credential)
    event = verifier.access_event(
        result, _request(principal, declared, request_id), CREDENTIAL_VERIFY
    )
    await record_access_async(context.audit_log, principal.caller, [event], verdict=True)
    context.metrics.verification_seconds.observe(time.perf_counter() - started, "credential")
    context.metrics.verified.inc()
    return JSONResponse(result.to_json())


@router.post(
    "/presentations/verify",
    response_model=VerificationOut,
    summary="Verify a presentation and use up its challenge (logged as presentation.verify)",
    responses=_VERIFY_PROBLEMS,
    openapi_extra=PRESENTATION_BODY.openapi,
)
def verify_presentation(
    principal: VerifierDep,
    declared: DeclarationDep,
    body: Annotated[VerifyPresentationIn, PRESENTATION_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """Checks (0)-(7) on a presentation of up to 50 credentials; the verdict is in the body."""
    # A thread-pool route: using up the challenge is a durable store write.
    return _verify_presentation(
        context, principal, declared, request_id, body.verifiable_presentation
    )
