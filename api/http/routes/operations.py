"""``/operations``: how far a governance or issuer-administration transaction got.

Roles operator and governor. Only ``registry_admin`` and ``governance``
operations are answered (other outbox items, e.g. credential batches, are
404 here). Once final, the registry events of the transaction are decoded:
``ProposalCreated`` gives a new proposal's id, ``ProposalExecuted`` tells
that an approval reached the threshold.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.errors import ProblemCode
from api.http.auth import Principal
from api.http.deps import ContextDep, require
from api.http.problems import Problem, problem_responses
from api.http.routes.admin_common import OperationOut, operation_out
from api.province.clients import Role
from api.province.operations import operation_status

router = APIRouter(prefix="/operations", tags=["operations"])

AdministratorDep = Annotated[Principal, require(Role.OPERATOR, Role.GOVERNOR)]
"""The province's operator, or a governor."""


@router.get(
    "/{operation_id}",
    response_model=OperationOut,
    summary="The state of a governance or issuer-administration operation",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
def read_operation(
    principal: AdministratorDep,
    context: ContextDep,
    operation_id: Annotated[int, Path(ge=1, le=2**53 - 1)],
) -> OperationOut:
    """Queued, submitted, confirmed, final (with its events) or failed (with the error name)."""
    status = operation_status(context.db, operation_id, context.registry)
    if status is None:
        raise Problem(
            ProblemCode.NOT_FOUND, "no governance or administration operation has that id"
        )
    return operation_out(status)
