"""``/credentials/verify``, ``/presentations/verify``, ``/challenges`` (verifier systems).

The verify routes speak the W3C VC API: ``{"verifiableCredential" |
"verifiablePresentation": ..., "options": {...}}`` in, the VC API verification
result (``verified``, ``problemDetails``, ``results``, the echo) and Tongban's
members (verdict, checks, index height, digests, statuses) out. A scanned printed
certificate comes as an ``EnvelopedVerifiableCredential`` whose ``id`` is a
``data:application/vnd.tongban.tb1,`` URL of the QR text (docs/paper-certificate.md):
it is decoded and verified like any credential, check (6) saying that paper has no
holder binding. What is a
malformed request (400, nothing verified) and what a failed check (200,
``verified`` false) is decided in one place, ``credentials.verify.vcapi``; a
body that is not JSON (400) or not the route's shape (422: unknown or missing
members) is refused before it. A verification the verifier could not decide
(verdict ERROR) has no result to give: 503 ``store-unavailable`` when its store
or index failed, else 500. A credential of an issuer outside the consortium whose
proofs verified is a 200 with ``verified`` false and verdict
``UNREGISTERED_ISSUER`` (``credentials.verify.foreign``).

Both verify routes run the verifier in the thread pool (the credential route
through ``run_in_threadpool``, the presentation route as a sync route): an RDFC
canonicalization (capped in work and time) or a status list fetch (1 s,
``api.province.status_fetch``) holds one pool thread, never the event loop.

Each verification is an access event in this province's log
(``credential.verify``, ``presentation.verify``): the verifier evaluates and
builds the event (``Verifier.access_event``), the route records it through
``api.province.access`` as a *verdict*: if the event cannot be recorded, no
answer is given (503 ``access-log-unavailable``). A malformed request is no
access and writes no event.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.errors import ProblemCode
from api.http.auth import Principal, check_declaration
from api.http.context import ProvinceContext
from api.http.deps import (
    ContextDep,
    DeclarationDep,
    JsonBody,
    RequestIdDep,
    VerifierDep,
    authenticate,
    context_of,
    read_json,
    request_id_for,
)
from api.http.lean import LeanRoute, json_response, lean
from api.http.problems import FieldIssue, Problem, problem_responses, unavailable
from api.http.schemas.credentials import (
    ChallengeIn,
    ChallengeOut,
    VerificationOut,
    VerifyCredentialIn,
    VerifyPresentationIn,
)
from api.province.access import (
    Declaration,
    record_access_async,
    record_presentation,
)
from api.province.clients import Role
from credentials.paper.codec import PaperCodecError
from credentials.paper.codec import decode as decode_tb1
from credentials.paper.envelope import scanned_text
from credentials.paper.printing import on_paper
from credentials.verify import CREDENTIAL_VERIFY, PRESENTATION_VERIFY, VerificationRequest, Verifier
from credentials.verify.vcapi import Malformed, VcApiVerification, check_request, verify
from ledger.audit.events import EventInput, format_time

router = APIRouter(tags=["verification"], route_class=LeanRoute)

CHALLENGE_BODY = JsonBody(ChallengeIn)
CREDENTIAL_BODY = JsonBody(VerifyCredentialIn)
# A presentation may be 1 MiB by itself (PRESENTATION_LIMITS): the larger cap lets the
# verifier answer for it (check 0) instead of the body reader.
PRESENTATION_BODY = JsonBody(VerifyPresentationIn, batch=True)

_CHALLENGE_PROBLEMS = problem_responses(400, 401, 403, 413, 415, 422, 429, 503)
_VERIFY_PROBLEMS = problem_responses(400, 401, 403, 413, 415, 422, 429, 500, 503)
_VERIFY_PROBLEMS[400]["description"] = (
    "Not I-JSON (`invalid-json`, ...), or not a VC API verification request "
    "(`bad-request`): the document is not a credential/presentation at all, or an option "
    "is unknown or malformed; `errors` names each member (never its value)."
)
_VERIFY_PROBLEMS[500]["description"] = "The verifier failed unexpectedly (`internal-error`)."
_VERIFY_PROBLEMS[503]["description"] = (
    "The verifier could not decide (its store or chain index failed: `store-unavailable`), "
    "the access event could not be recorded (`access-log-unavailable`), or no verifier is "
    "served (`unavailable`); see `Retry-After`."
)
_RETRY_AFTER = "5"

T = TypeVar("T")


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


def _malformed(malformed: Malformed) -> Problem:
    """400 naming each member at fault (JSON pointers into the body, never values)."""
    return Problem(
        ProblemCode.BAD_REQUEST,
        malformed.detail(),
        errors=[
            FieldIssue(field=p.pointer, rule=f"{p.rule} ({p.type})") for p in malformed.problems
        ],
    )


def _answer(checked: VcApiVerification) -> Response:
    """200 with the VC API result, or the server error of a verification left undecided."""
    if checked.decided:
        return json_response(checked.to_json())
    if checked.unavailable:
        raise Problem(
            ProblemCode.STORE_UNAVAILABLE,
            "the verifier could not read its store or chain index, or the index has not "
            "reached the anchor's block yet; retry later",
            headers={"Retry-After": _RETRY_AFTER},
        )
    raise Problem(ProblemCode.INTERNAL_ERROR, "the verification failed; see the server log")


def _checked(outcome: T | Malformed) -> T:
    if isinstance(outcome, Malformed):
        raise _malformed(outcome)
    return outcome


def _verify_presentation(
    context: ProvinceContext,
    principal: Principal,
    declared: Declaration,
    request_id: str,
    body: VerifyPresentationIn,
) -> Response:
    verifier = _verifier(context)
    started = time.perf_counter()
    request = _request(principal, declared, request_id)

    def evaluate() -> tuple[VcApiVerification, EventInput]:
        checked = _checked(
            verify(
                verifier,
                "presentation",
                body.verifiable_presentation,
                body.options,
                purpose=declared.purpose,
            )
        )
        return checked, verifier.access_event(checked.result, request, PRESENTATION_VERIFY)

    # The challenge is used up in the access event's own commit: one durable write.
    checked = record_presentation(context.audit_log, principal.caller, evaluate)
    context.metrics.verification_seconds.observe(time.perf_counter() - started, "presentation")
    context.metrics.verified.inc()
    return _answer(checked)


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


def _evaluate_credential(verifier: Verifier, credential: Any, options: Any) -> VcApiVerification:
    """``vcapi.verify`` of a credential the body reader decoded (its I-JSON checked once).

    A scanned printed certificate (an enveloped TB1 payload, ``credentials.paper.envelope``)
    is decoded first (400 naming ``/verifiableCredential/id`` if it is not TB1) and
    verified like any credential; check (6) then says that paper has no holder binding.
    """
    request = _checked(check_request("credential", credential, options))
    try:
        scanned = scanned_text(credential)
        decoded = None if scanned is None else decode_tb1(scanned)
    except PaperCodecError as error:
        raise Problem(
            ProblemCode.BAD_REQUEST,
            "the scanned certificate is not a TB1 payload",
            errors=[FieldIssue(field="/verifiableCredential/id", rule=str(error))],
        ) from None
    if decoded is not None:
        result = on_paper(verifier.evaluate_parsed_credential(decoded))
        return VcApiVerification("credential", result, decoded, request)
    result = verifier.evaluate_parsed_credential(credential)
    return VcApiVerification("credential", result, credential, request)


async def _verify_credential(
    context: ProvinceContext,
    principal: Principal,
    declared: Declaration,
    request_id: str,
    credential: Any,
    options: Any,
) -> Response:
    # The checks run in the thread pool (SM2 releases the GIL, so verifications
    # overlap); the access event is then awaited as a future of the log's group
    # commit, so no pool thread is parked while the commit reaches the disk.
    verifier = _verifier(context)
    started = time.perf_counter()
    checked = await run_in_threadpool(_evaluate_credential, verifier, credential, options)
    event = verifier.access_event(
        checked.result, _request(principal, declared, request_id), CREDENTIAL_VERIFY
    )
    await record_access_async(context.audit_log, principal.caller, [event], verdict=True)
    context.metrics.verification_seconds.observe(time.perf_counter() - started, "credential")
    context.metrics.verified.inc()
    return _answer(checked)


_VERIFIERS = (Role.VERIFIER,)  # VerifierDep's roles
_OPTIONS = "options"


def _envelope(raw: bytes, document: Any, member: str, body: JsonBody[Any]) -> tuple[Any, Any]:
    """The document and options of a decoded body, as strict as the route's model.

    The model takes an object holding ``member`` and at most ``options`` besides (any
    JSON values: ``vcapi`` judges them); anything else is the model's own 422.
    """
    if (
        type(document) is dict
        and member in document
        and (len(document) == 1 or (len(document) == 2 and _OPTIONS in document))
    ):
        return document[member], document.get(_OPTIONS)
    # Not the model's shape: the model names what is wrong (and were it to accept
    # what this refused, its values are used: never laxer than the model).
    accepted = body.validate(raw).model_dump(by_alias=True)
    return accepted[member], accepted.get(_OPTIONS)


async def _read(request: Request, member: str, body: JsonBody[Any]) -> tuple[Any, ...]:
    """What the endpoint's dependencies give, in their order: caller, declaration, body."""
    request_id = request_id_for(request)
    principal = authenticate(request, _VERIFIERS, request_id)
    headers = request.headers
    declared = check_declaration(headers.get("x-purpose"), headers.get("x-legal-basis"))
    raw, document = await read_json(request, body.batch)
    found, options = _envelope(raw, document, member, body)
    return context_of(request), principal, declared, request_id, found, options


async def _lean_verify_credential(request: Request) -> Response:
    read = await _read(request, "verifiableCredential", CREDENTIAL_BODY)
    return await _verify_credential(*read)


@router.post(
    "/credentials/verify",
    response_model=VerificationOut,
    summary="Verify a credential (logged as credential.verify)",
    responses=_VERIFY_PROBLEMS,
    openapi_extra=CREDENTIAL_BODY.openapi,
)
@lean(_lean_verify_credential)
async def verify_credential(
    principal: VerifierDep,
    declared: DeclarationDep,
    body: Annotated[VerifyCredentialIn, CREDENTIAL_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> Response:
    """VC API Verify Credential: checks (0)-(7) on one credential; the result is in the body."""
    return await _verify_credential(
        context, principal, declared, request_id, body.verifiable_credential, body.options
    )


async def _lean_verify_presentation(request: Request) -> Response:
    context, principal, declared, request_id, presentation, options = await _read(
        request, "verifiablePresentation", PRESENTATION_BODY
    )
    # Checked by _read already: the model is only the carrier _verify_presentation takes.
    body = VerifyPresentationIn.model_construct(
        verifiable_presentation=presentation, options=options
    )
    # In the thread pool, as the sync route: using up the challenge is a durable store write.
    return await run_in_threadpool(
        _verify_presentation, context, principal, declared, request_id, body
    )


@router.post(
    "/presentations/verify",
    response_model=VerificationOut,
    summary="Verify a presentation and use up its challenge (logged as presentation.verify)",
    responses=_VERIFY_PROBLEMS,
    openapi_extra=PRESENTATION_BODY.openapi,
)
@lean(_lean_verify_presentation)
def verify_presentation(
    principal: VerifierDep,
    declared: DeclarationDep,
    body: Annotated[VerifyPresentationIn, PRESENTATION_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> Response:
    """VC API Verify Presentation: checks (0)-(7) on a presentation of up to 50 credentials."""
    # A thread-pool route: using up the challenge is a durable store write.
    return _verify_presentation(context, principal, declared, request_id, body)
