"""``/audit``: append access events (systems that access personal data), read and prove (auditors).

Appends: roles issuer, verifier, operator; actor and organisation come from
the token. Reads: role auditor; reading events (one, or the export) needs
``X-Purpose`` and ``X-Legal-Basis`` and is itself logged (``audit.read``,
through ``api.province.access``) before anything is returned. The appended
events are the callers' own access events, not accesses by these routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from api.errors import ProblemCode
from api.http.deps import (
    AppenderDep,
    AuditorDep,
    ContextDep,
    DeclarationDep,
    IdempotencyKeyDep,
    JsonBody,
    RequestIdDep,
)
from api.http.export_stream import stream_export
from api.http.problems import Problem, problem_responses
from api.http.schemas.audit import (
    BatchIn,
    BatchOut,
    CheckpointList,
    ConsistencyProofOut,
    EventIn,
    InclusionProofOut,
    replay_matches,
    to_event_inputs,
)
from api.http.schemas.common import AppendedEvent, appended, checkpoint_out
from api.province.access import Declaration, access_event, record_access
from ledger.audit.anchoring import CheckpointAnchorer, CheckpointState
from ledger.audit.events import Caller, Outcome
from ledger.audit.log import AuditLog

router = APIRouter(prefix="/audit", tags=["audit"])

EVENT_BODY = JsonBody(EventIn)
BATCH_BODY = JsonBody(BatchIn, batch=True)
MAX_INDEX = 2**53 - 1
EXPORT_MEDIA_TYPE = "application/jsonl"

_APPEND_PROBLEMS = problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 503)
_READ_PROBLEMS = problem_responses(401, 403, 422, 429, 503)
_EVENT_PROBLEMS = problem_responses(401, 403, 404, 422, 429, 503)


def _log_read(
    log: AuditLog,
    caller: Caller,
    declared: Declaration,
    resource: str,
    request_id: str,
    outcome: Outcome = Outcome.SUCCESS,
) -> None:
    event = access_event(declared, request_id, "audit.read", resource, outcome=outcome)
    record_access(log, caller, [event])


def _anchorer(anchorer: CheckpointAnchorer | None) -> CheckpointAnchorer:
    if anchorer is None:
        raise Problem(ProblemCode.UNAVAILABLE, "this process serves no checkpoints")
    return anchorer


@router.post(
    "/events",
    status_code=201,
    response_model=AppendedEvent,
    summary="Append one access event",
    responses={
        200: {
            "model": AppendedEvent,
            "description": "An idempotent replay: the original event and receipt.",
        },
        **_APPEND_PROBLEMS,
    },
    openapi_extra=EVENT_BODY.openapi,
)
def append_event(
    principal: AppenderDep,
    body: Annotated[EventIn, EVENT_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """Append one event; 201 with the event and its signed receipt, 200 for a replay."""
    [event] = to_event_inputs([body], request_id, idempotency_key, pointer="")
    result = context.audit_log.append(principal.caller, event)
    if result.replayed and not replay_matches(result.event, event, context.audit_log.pseudonyms):
        raise Problem(ProblemCode.CONFLICT, "the idempotency key was used for a different event")
    status = 200 if result.replayed else 201
    headers = {"Location": f"/audit/events/{result.index}"}
    return JSONResponse(appended(result), status_code=status, headers=headers)


@router.post(
    "/events/batch",
    status_code=201,
    response_model=BatchOut,
    summary="Append up to 1,000 access events, all or nothing",
    responses=_APPEND_PROBLEMS,
    openapi_extra=BATCH_BODY.openapi,
)
def append_batch(
    principal: AppenderDep,
    body: Annotated[BatchIn, BATCH_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """Validate every event, then append them all in one group commit (or none)."""
    if idempotency_key is not None:
        raise Problem.validation(
            "Idempotency-Key", "not accepted on batches; set idempotencyKey on each event"
        )
    if len(body.events) > context.limits.max_batch_events:
        raise Problem.validation(
            "/events", f"at most {context.limits.max_batch_events} events per batch"
        )
    events = to_event_inputs(body.events, request_id, None, pointer="/events/")
    results = context.audit_log.append_many(principal.caller, events)
    keys = context.audit_log.pseudonyms
    items = []
    for result, event in zip(results, events, strict=True):
        item = appended(result)
        item["conflict"] = result.replayed and not replay_matches(result.event, event, keys)
        items.append(item)
    return JSONResponse({"results": items}, status_code=201)


@router.get(
    "/events/{index}",
    response_model=AppendedEvent,
    summary="Read one event and its receipt (logged as audit.read)",
    responses=_EVENT_PROBLEMS,
)
def read_event(
    principal: AuditorDep,
    declared: DeclarationDep,
    context: ContextDep,
    request_id: RequestIdDep,
    index: Annotated[int, Path(ge=0, le=MAX_INDEX)],
) -> JSONResponse:
    """The event at ``index`` with its receipt."""
    log = context.audit_log
    result = log.event(index)
    outcome = Outcome.SUCCESS if result is not None else Outcome.NOT_FOUND
    _log_read(log, principal.caller, declared, "record:audit_event", request_id, outcome)
    if result is None:
        raise Problem(ProblemCode.NOT_FOUND, "the log has no event at that index")
    return JSONResponse(appended(result))


@router.get(
    "/checkpoints",
    response_model=CheckpointList,
    summary="Signed checkpoints and their anchoring state",
    responses=_READ_PROBLEMS,
)
def list_checkpoints(
    principal: AuditorDep,
    context: ContextDep,
    state: Annotated[
        CheckpointState | None, Query(description="Only checkpoints in this state.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CheckpointList:
    """The newest ``limit`` checkpoints (optionally only anchored, pending, superseded)."""
    anchorer = _anchorer(context.anchorer)
    stored = anchorer.checkpoints(state=state, limit=limit, newest_first=True)
    return CheckpointList(origin=anchorer.origin, checkpoints=[checkpoint_out(c) for c in stored])


@router.get(
    "/proofs/inclusion",
    response_model=InclusionProofOut,
    summary="Inclusion proof of an event in the tree of a given size",
    responses=_EVENT_PROBLEMS,
)
def inclusion_proof(
    principal: AuditorDep,
    context: ContextDep,
    index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
    size: Annotated[int, Query(ge=1, le=MAX_INDEX)],
) -> InclusionProofOut:
    """Audit path of event ``index`` in the tree of ``size`` events (``index < size <= now``)."""
    log = context.audit_log
    current = log.size()
    if size > current:
        raise Problem.validation("size", f"must not exceed the log's size ({current})")
    if index >= size:
        raise Problem.validation("index", "must be below size")
    result = log.event(index)
    if result is None:
        raise Problem(ProblemCode.NOT_FOUND, "the log has no event at that index")
    _, root = log.root(size)
    return InclusionProofOut(
        index=index,
        tree_size=size,
        leaf_hash=result.receipt.leaf_hash.hex(),
        root=root.hex(),
        proof=[node.hex() for node in log.inclusion_proof(index, size)],
    )


@router.get(
    "/proofs/consistency",
    response_model=ConsistencyProofOut,
    summary="Consistency proof between two tree sizes",
    responses=_READ_PROBLEMS,
)
def consistency_proof(
    principal: AuditorDep,
    context: ContextDep,
    from_size: Annotated[int, Query(alias="from", ge=1, le=MAX_INDEX)],
    to_size: Annotated[int, Query(alias="to", ge=1, le=MAX_INDEX)],
) -> ConsistencyProofOut:
    """Proof that the tree of ``to`` events extends the tree of ``from`` (``from <= to <= now``)."""
    log = context.audit_log
    current = log.size()
    if to_size > current:
        raise Problem.validation("to", f"must not exceed the log's size ({current})")
    if from_size > to_size:
        raise Problem.validation("from", "must not exceed to")
    _, from_root = log.root(from_size)
    _, to_root = log.root(to_size)
    return ConsistencyProofOut(
        from_size=from_size,
        to_size=to_size,
        from_root=from_root.hex(),
        to_root=to_root.hex(),
        proof=[node.hex() for node in log.consistency_proof(from_size, to_size)],
    )


@router.get(
    "/export",
    summary="The whole log as JSON Lines (logged as audit.read)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`tongban-audit-export/v2` JSON Lines: a header (size and root), "
            "one line per event with its receipt, one per signed checkpoint, and consistency "
            "proofs to checkpoints signed beyond the export's size (docs/audit.md).",
            "content": {EXPORT_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **_READ_PROBLEMS,
    },
)
def export(
    request: Request,
    principal: AuditorDep,
    declared: DeclarationDep,
    context: ContextDep,
    request_id: RequestIdDep,
) -> StreamingResponse:
    """Stream the export; check it with ``tongban audit verify``."""
    anchorer = _anchorer(context.anchorer)
    _log_read(context.audit_log, principal.caller, declared, "record:audit_export", request_id)
    return StreamingResponse(
        stream_export(context.audit_log, anchorer, request.is_disconnected),
        media_type=EXPORT_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="audit-{context.issuer_id}.jsonl"'},
    )
