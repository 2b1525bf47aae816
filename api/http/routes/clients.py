"""``/clients``: the operator creates, lists and revokes API clients, and sets their agencies.

A token is returned once, in the answer to its creation; listings carry no
tokens and no token hashes. Creating and revoking clients are access-control
changes and are logged (``api.client_create``, ``api.client_revoke``). So is
setting the issuing agencies a client may issue for (``api.client_agencies``;
docs/agencies.md): ``null`` is every agency of the province.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import Field

from api.http.context import ProvinceContext
from api.http.deps import ContextDep, JsonBody, OperatorDep, RequestIdDep
from api.http.problems import problem_responses
from api.http.schemas.common import ApiModel, InputModel
from api.province.audited import ACCESS_CONTROL_PURPOSE, record_administrative
from api.province.clients import ApiClient, Role
from ledger.audit.events import Caller, format_time

router = APIRouter(prefix="/clients", tags=["clients"])

_CREATE_PROBLEMS = problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 503)
_LIST_PROBLEMS = problem_responses(401, 403, 429, 503)
_REVOKE_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 429, 503)
_AGENCIES_PROBLEMS = problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 503)


class ClientIn(InputModel):
    """A client to create."""

    name: str = Field(min_length=1, max_length=100, description="For people; never logged.")
    organisation: str = Field(
        max_length=128, description="Province or organisation code (the events' actorOrg)."
    )
    roles: list[Role] = Field(min_length=1, max_length=6)
    client_id: str | None = Field(
        default=None,
        max_length=128,
        description="Optional id (`[a-z0-9][a-z0-9_.:-]{0,127}`, no run of nine digits); "
        "generated when absent.",
    )
    agencies: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="统一社会信用代码 of the registered, active agencies an issuer client may "
        "issue for; none when absent (docs/agencies.md).",
    )


class ClientAgenciesIn(InputModel):
    """The agencies a client may issue for, replacing the ones it had."""

    agencies: list[str] | None = Field(
        max_length=1000,
        description="Codes of registered, active agencies; `null`: every agency of the province.",
    )


class ClientOut(ApiModel):
    """A registered client (no token, no token hash)."""

    client_id: str
    name: str
    organisation: str
    roles: list[Role]
    created_at: str
    revoked_at: str | None
    active: bool
    agencies: list[str] | None = Field(
        description="The agencies it may issue for; `null`: every agency of the province."
    )


class ClientCreated(ClientOut):
    """A new client and its token: store the token now, it is never shown again."""

    token: str = Field(description="`tb_` + 43 base64url characters; send as a bearer token.")


class ClientList(ApiModel):
    """Every client, oldest first, revoked ones included."""

    clients: list[ClientOut]


CLIENT_BODY = JsonBody(ClientIn)
AGENCIES_BODY = JsonBody(ClientAgenciesIn)


def _out(client: ApiClient) -> ClientOut:
    return ClientOut(
        client_id=client.client_id,
        name=client.name,
        organisation=client.organisation,
        roles=sorted(client.roles),
        created_at=format_time(client.created_at_ms),
        revoked_at=None if client.revoked_at_ms is None else format_time(client.revoked_at_ms),
        active=client.active,
        agencies=None if client.agencies is None else sorted(client.agencies),
    )


def _log_change(context: ProvinceContext, caller: Caller, action: str, request_id: str) -> None:
    record_administrative(
        context.audit_log,
        caller,
        action,
        "record:api_client",
        request_id,
        purpose=ACCESS_CONTROL_PURPOSE,
    )


@router.post(
    "",
    status_code=201,
    response_model=ClientCreated,
    summary="Create a client; its token is in this answer only",
    responses=_CREATE_PROBLEMS,
    openapi_extra=CLIENT_BODY.openapi,
)
def create_client(
    principal: OperatorDep,
    body: Annotated[ClientIn, CLIENT_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """Register a client with ``roles`` for ``organisation``."""
    issued = context.clients.create(
        body.name,
        body.organisation,
        body.roles,
        client_id=body.client_id,
        agencies=body.agencies,
    )
    _log_change(context, principal.caller, "api.client_create", request_id)
    created = ClientCreated(**_out(issued.client).model_dump(by_alias=False), token=issued.token)
    return JSONResponse(
        created.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/clients/{issued.client.client_id}"},
    )


@router.get("", response_model=ClientList, summary="List clients", responses=_LIST_PROBLEMS)
def list_clients(principal: OperatorDep, context: ContextDep) -> ClientList:
    """Every client, revoked ones included; never a token or its hash."""
    return ClientList(clients=[_out(c) for c in context.clients.list()])


@router.post(
    "/{client_id}/revoke",
    response_model=ClientOut,
    summary="Revoke a client at once (records are kept)",
    responses=_REVOKE_PROBLEMS,
)
def revoke_client(
    principal: OperatorDep,
    context: ContextDep,
    request_id: RequestIdDep,
    client_id: Annotated[str, Path(max_length=128)],
) -> ClientOut:
    """Revoke ``client_id``; its token stops working for every worker at once."""
    revoked = context.clients.revoke(client_id)
    _log_change(context, principal.caller, "api.client_revoke", request_id)
    return _out(revoked)


@router.post(
    "/{client_id}/agencies",
    response_model=ClientOut,
    summary="Set the issuing agencies a client may issue for",
    responses=_AGENCIES_PROBLEMS,
    openapi_extra=AGENCIES_BODY.openapi,
)
def set_client_agencies(
    principal: OperatorDep,
    body: Annotated[ClientAgenciesIn, AGENCIES_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
    client_id: Annotated[str, Path(max_length=128)],
) -> ClientOut:
    """Replace ``client_id``'s agencies; takes effect at once for every worker."""
    changed = context.clients.set_agencies(client_id, body.agencies)
    _log_change(context, principal.caller, "api.client_agencies", request_id)
    return _out(changed)
