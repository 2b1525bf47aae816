"""``POST /credentials/verify/batch``: up to 1,000 credentials verified item by item.

A province checking a class of diplomas sends ``{"verifiableCredentials": [...],
"options": {...}}``; the answer is ``{"results": [...]}``, one item per credential in
request order: the VC API verification result ``POST /credentials/verify`` would
give, or ``{"index", "problem"}`` for an item that is not a credential at all
(``bad-request``, pointers under ``/verifiableCredentials/<i>``) or that the verifier
could not decide (``store-unavailable``, ``internal-error``). Options are those of the
single route, applied to every item; a malformed option is a 400 for the whole request.
What is checked, and how, is ``credentials.verify.batch``.

The batch must not stall the worker: everything but the request's plumbing runs in
one thread-pool call (``_verify_and_record``): the credentials are verified together
in one index view (``verify_chunk``, on one thread per core: SM2 releases the GIL,
and the threads hand it over between credentials), their access events are built,
checked and recorded, and the answer is encoded, so the event loop keeps serving
other requests meanwhile.

Every verified item is one ``credential.verify`` access event; all of them are
recorded in one group commit (``record_access``, the audit log's batch path) before
the answer, as a *verdict*: if they cannot be recorded, no answer (503
``access-log-unavailable``). A malformed item is no access and writes no event. The
events are recorded from the thread pool, not the event loop, because the audit
log checks 1,000 events on the submitting thread (tens of milliseconds).
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from api.errors import ProblemCode
from api.http.context import ProvinceContext
from api.http.deps import (
    ContextDep,
    DeclarationDep,
    JsonBody,
    RequestIdDep,
    VerifierDep,
    _check_media_type,
    context_of,
    read_capped,
)
from api.http.problems import (
    FieldIssue,
    Problem,
    problem_responses,
    unavailable,
    validation_problem,
)
from api.http.schemas.verification_batch import (
    VerificationBatchOut,
    VerifyCredentialsBatchIn,
    item_problem_json,
    malformed_item_json,
)
from api.province.access import record_access
from credentials import ijson
from credentials.verify import CREDENTIAL_VERIFY, VerificationRequest, Verifier
from credentials.verify.batch import Outcome, read_batch_options, verify_chunk
from credentials.verify.vcapi import Malformed, VerifyOptions

router = APIRouter(tags=["verification"])

BATCH_BODY = JsonBody(VerifyCredentialsBatchIn, batch=True)

VERIFY_THREADS = 1
"""Threads one batch is verified on: the request's own thread.

Measured on 2 cores with the default 2 workers (docs/benchmarks.md, "Batch
verification on several threads"): a thread per core added nothing end to end
(1,643/1,685 against 1,682/1,734 credentials/s) and made requests beside the
batch wait longer (probe p99 80-141 ms against 36-102 ms), since the workers
already fill the cores. ``scripts/bench_verify_batch.py`` sets it to compare."""

_PROBLEMS = problem_responses(400, 401, 403, 413, 415, 422, 429, 503)
_PROBLEMS[400]["description"] = (
    "Not I-JSON (`invalid-json`, `array-too-long` past 1,000 items, ...), or an option "
    "unknown or malformed (`bad-request`, `errors` names it). An item that is not a "
    "credential is answered in `results`, not here."
)
_PROBLEMS[503]["description"] = (
    "The access events could not be recorded (`access-log-unavailable`: no result is "
    "given), or no verifier is served (`unavailable`); see `Retry-After`."
)


def _parse(raw: bytes, limits: ijson.Limits) -> VerifyCredentialsBatchIn:
    document = ijson.parse(raw, limits)
    # The decoded document, not the bytes: pydantic would decode 4 MiB again in one
    # call that holds the GIL throughout.
    try:
        return VerifyCredentialsBatchIn.model_validate(document, strict=True)
    except ValidationError as exc:
        raise validation_problem(exc) from None


async def _read_body(request: Request) -> VerifyCredentialsBatchIn:
    """``BATCH_BODY.read`` (same caps, same problems), parsing in the thread pool.

    Checking 4 MiB of I-JSON and validating it is 0.1-0.3 s of Python: on the event
    loop it would stall every other request of the worker for that long.
    """
    limits = context_of(request).limits
    _check_media_type(request)
    raw = await read_capped(request, limits.batch_body_bytes)
    caps = ijson.Limits(limits.batch_body_bytes, limits.max_depth, limits.max_array)
    return await run_in_threadpool(_parse, raw, caps)


def _verifier(context: ProvinceContext) -> Verifier:
    if context.verifier is None:
        raise unavailable("verification")
    return context.verifier


def _options(options: object) -> VerifyOptions:
    read = read_batch_options(options)
    if isinstance(read, Malformed):
        raise Problem(
            ProblemCode.BAD_REQUEST,
            read.detail(),
            errors=[
                FieldIssue(field=p.pointer, rule=f"{p.rule} ({p.type})") for p in read.problems
            ],
        )
    return read


def _item_json(index: int, outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Malformed):
        return malformed_item_json(index, outcome)
    if outcome.decided:
        return outcome.to_json()
    if outcome.unavailable:
        detail = (
            "the verifier could not read its store or chain index, or the index has not "
            "reached the anchor's block yet; retry this credential"
        )
        return item_problem_json(index, ProblemCode.STORE_UNAVAILABLE, detail)
    detail = "the verification failed; see the server log"
    return item_problem_json(index, ProblemCode.INTERNAL_ERROR, detail)


def _encode(outcomes: list[Outcome]) -> bytes:
    """The answer's bytes (JSONResponse's encoding), built off the event loop."""
    results = [_item_json(index, outcome) for index, outcome in enumerate(outcomes)]
    return json.dumps(
        {"results": results}, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")


def _verify_and_record(
    context: ProvinceContext,
    verifier: Verifier,
    documents: list[Any],
    options: VerifyOptions,
    request: VerificationRequest,
) -> tuple[bytes, int]:
    """Verify, record the access events (raises when it cannot), encode (blocking).

    Returns the answer's bytes and the number of access events recorded.
    """
    items = list(enumerate(documents))
    # ``_parse`` decoded the body with ``ijson.parse``: its value rules hold for every item.
    outcomes = verify_chunk(
        verifier, items, options, verifier.clock(), parsed=True, threads=VERIFY_THREADS
    )
    events = [
        verifier.access_event(outcome.result, request, CREDENTIAL_VERIFY)
        for outcome in outcomes
        if not isinstance(outcome, Malformed)
    ]
    record_access(context.audit_log, request.caller, events, verdict=True)
    return _encode(outcomes), len(events)


@router.post(
    "/credentials/verify/batch",
    response_model=VerificationBatchOut,
    summary="Verify up to 1,000 credentials, one result each (logged as credential.verify)",
    responses=_PROBLEMS,
    openapi_extra=BATCH_BODY.openapi,
)
async def verify_credentials_batch(
    principal: VerifierDep,
    declared: DeclarationDep,
    body: Annotated[VerifyCredentialsBatchIn, Depends(_read_body)],
    context: ContextDep,
    request_id: RequestIdDep,
) -> Response:
    """Checks (0)-(7) on each credential; the results are in the body, in request order."""
    verifier = _verifier(context)
    options = _options(body.options)
    started = time.perf_counter()
    request = VerificationRequest(
        principal.caller, declared.purpose, declared.legal_basis, request_id
    )
    encoded, recorded = await run_in_threadpool(
        _verify_and_record, context, verifier, body.verifiable_credentials, options, request
    )
    context.metrics.verification_seconds.observe(time.perf_counter() - started, "batch")
    context.metrics.verified.inc(amount=recorded)
    return Response(encoded, media_type="application/json")
