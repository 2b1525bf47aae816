"""``/governance``: consortium proposals and approvals (governors).

This service acts for one governor account (setting ``governor_keystore``);
without one every route here answers 503 ``unavailable``. Proposals and
approvals are operations pinned to that account in the outbox (202; follow
them at ``GET /operations/{id}``, which gives the proposal id once final).
Proposing and approving are administrative events in the province's log
(``governance.propose``, ``governance.approve``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from api.errors import ProblemCode
from api.http.context import ProvinceContext
from api.http.deps import ContextDep, GovernorDep, JsonBody, RequestIdDep
from api.http.problems import Problem, problem_responses
from api.http.routes.admin_common import OperationOut, accepted, enqueued
from api.http.schemas.common import ApiModel, InputModel
from api.province.audited import audited
from api.province.governance import Governance, ProposalView, proposal_json
from ledger.chain.contracts.registry import (
    MAX_PROPOSAL_LIFETIME,
    GovernanceAction,
    encode_admit_issuer,
    encode_issuer_id,
    encode_replace_admin,
)

router = APIRouter(prefix="/governance", tags=["governance"])

PROPOSAL_RESOURCE = "record:governance_proposal"
ACCOUNT_PATTERN = r"^0x[0-9a-fA-F]{40}$"
MAX_ISSUER_ID = 2**32 - 1
MAX_NAME_BYTES = 128

_READ_PROBLEMS = problem_responses(401, 403, 404, 422, 429, 503)
_PROPOSE_PROBLEMS = problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 503)
_APPROVE_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 429, 503)

ProposalIdPath = Annotated[int, Path(ge=1, le=2**53 - 1, description="The proposal id.")]

_ACTIONS = {
    "admit-issuer": GovernanceAction.ADMIT_ISSUER,
    "suspend-issuer": GovernanceAction.SUSPEND_ISSUER,
    "reinstate-issuer": GovernanceAction.REINSTATE_ISSUER,
    "replace-admin": GovernanceAction.REPLACE_ISSUER_ADMIN,
}
_FIELDS = {
    "admit-issuer": {"issuer_id", "division_code", "name", "admin"},
    "suspend-issuer": {"issuer_id"},
    "reinstate-issuer": {"issuer_id"},
    "replace-admin": {"issuer_id", "new_admin"},
}
_POINTERS = {
    "issuer_id": "/issuerId",
    "division_code": "/divisionCode",
    "name": "/name",
    "admin": "/admin",
    "new_admin": "/newAdmin",
}


class ProposalIn(InputModel):
    """A proposal: the action and the fields it takes (no others)."""

    action: Literal["admit-issuer", "suspend-issuer", "reinstate-issuer", "replace-admin"]
    issuer_id: int = Field(ge=1, le=MAX_ISSUER_ID, description="The issuer (every action).")
    division_code: int | None = Field(
        default=None, ge=100000, le=999999, description="admit-issuer: GB/T 2260 code."
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAME_BYTES,
        description="admit-issuer: display name, 1-128 bytes of UTF-8.",
    )
    admin: str | None = Field(
        default=None, pattern=ACCOUNT_PATTERN, description="admit-issuer: the admin account."
    )
    new_admin: str | None = Field(
        default=None, pattern=ACCOUNT_PATTERN, description="replace-admin: the new admin."
    )
    expires_in_seconds: int | None = Field(
        default=None,
        ge=300,
        le=MAX_PROPOSAL_LIFETIME,
        description="Lifetime from now (default 7 days, at most 30).",
    )


class ProposalOut(ApiModel):
    """A proposal as it stands on chain."""

    proposal_id: int
    action: str = Field(description="`admit-issuer`, `suspend-issuer`, ... (any action).")
    params: dict[str, Any] = Field(description="The decoded parameters by name.")
    proposer: str
    created_at: int = Field(description="Unix seconds (block time).")
    expires_at: int
    approvals: int
    threshold: int
    executed: bool
    state: Literal["open", "executed", "expired", "stale"]
    governor_set_version: int
    approved_by_this_governor: bool | None


class ProposalList(ApiModel):
    """The newest proposals, newest first."""

    proposals: list[ProposalOut]


class GovernanceOut(ApiModel):
    """The consortium's governance and the governor this service acts for."""

    governor: str
    is_governor: bool
    governors: list[str]
    threshold: int
    governor_set_version: int
    proposal_count: int


PROPOSAL_BODY = JsonBody(ProposalIn)


def _governance(context: ProvinceContext) -> Governance:
    if context.registry is None or context.governor_account is None:
        raise Problem(ProblemCode.UNAVAILABLE, "this service holds no governor key")
    return Governance(context.db, context.registry, context.governor_account)


def _proposal_out(view: ProposalView) -> ProposalOut:
    return ProposalOut.model_validate(proposal_json(view))


def _params(body: ProposalIn) -> tuple[GovernanceAction, bytes]:
    wanted = _FIELDS[body.action]
    for name, pointer in _POINTERS.items():
        given = getattr(body, name) is not None
        if name in wanted and not given:
            raise Problem.validation(pointer, f"required for {body.action}")
        if name not in wanted and given:
            raise Problem.validation(pointer, f"not accepted for {body.action}")
    action = _ACTIONS[body.action]
    if action is GovernanceAction.ADMIT_ISSUER:
        name = str(body.name)
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            raise Problem.validation("/name", "at most 128 bytes of UTF-8")
        return action, encode_admit_issuer(
            body.issuer_id, int(body.division_code or 0), name, str(body.admin)
        )
    if action is GovernanceAction.REPLACE_ISSUER_ADMIN:
        return action, encode_replace_admin(body.issuer_id, str(body.new_admin))
    return action, encode_issuer_id(body.issuer_id)


@router.get(
    "",
    response_model=GovernanceOut,
    summary="Governors, threshold, and the governor this service acts for",
    responses=_READ_PROBLEMS,
)
def read_governance(principal: GovernorDep, context: ContextDep) -> GovernanceOut:
    """The current governor set and threshold M."""
    governance = _governance(context)
    registry = governance.registry
    return GovernanceOut(
        governor=governance.governor,
        is_governor=registry.is_governor(governance.governor),
        governors=registry.governors(),
        threshold=registry.threshold(),
        governor_set_version=registry.governor_set_version(),
        proposal_count=registry.proposal_count(),
    )


@router.get(
    "/proposals",
    response_model=ProposalList,
    summary="The newest proposals",
    responses=_READ_PROBLEMS,
)
def list_proposals(
    principal: GovernorDep,
    context: ContextDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many, newest first.")] = 20,
) -> ProposalList:
    """The newest ``limit`` proposals with their state."""
    governance = _governance(context)
    return ProposalList(proposals=[_proposal_out(v) for v in governance.proposals(limit)])


@router.get(
    "/proposals/{proposal_id}",
    response_model=ProposalOut,
    summary="One proposal",
    responses=_READ_PROBLEMS,
)
def read_proposal(
    principal: GovernorDep, context: ContextDep, proposal_id: ProposalIdPath
) -> ProposalOut:
    """The proposal, its decoded parameters, approvals and state."""
    governance = _governance(context)
    return _proposal_out(governance.view(proposal_id))


@router.post(
    "/proposals",
    status_code=202,
    response_model=OperationOut,
    summary="Propose admitting, suspending or reinstating an issuer, or replacing its admin",
    responses=_PROPOSE_PROBLEMS,
    openapi_extra=PROPOSAL_BODY.openapi,
)
def propose(
    principal: GovernorDep,
    body: Annotated[ProposalIn, PROPOSAL_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """The proposal counts this governor's approval; its id is in the operation once final."""
    governance = _governance(context)
    action, params = _params(body)
    with audited(
        context.audit_log, principal.caller, "governance.propose", PROPOSAL_RESOURCE, request_id
    ):
        operation_id = governance.propose(action, params, expires_in=body.expires_in_seconds)
    return accepted(enqueued(context.db, operation_id), operation_id)


@router.post(
    "/proposals/{proposal_id}/approvals",
    status_code=202,
    response_model=OperationOut,
    summary="Approve a proposal (the approval reaching the threshold executes it)",
    responses=_APPROVE_PROBLEMS,
)
def approve(
    principal: GovernorDep,
    context: ContextDep,
    request_id: RequestIdDep,
    proposal_id: ProposalIdPath,
) -> JSONResponse:
    """Refused at once if the proposal expired, is stale, executed, or approved by us."""
    governance = _governance(context)
    with audited(
        context.audit_log, principal.caller, "governance.approve", PROPOSAL_RESOURCE, request_id
    ):
        operation_id = governance.approve(proposal_id)
    return accepted(enqueued(context.db, operation_id), operation_id)
