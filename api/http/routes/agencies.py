"""``/agencies``: the operator registers, lists and retires the province's issuing agencies.

The HTTP form of ``tongban agencies`` (docs/agencies.md). Agencies are
organisations, not people: their codes and names are not personal data.
Adding an agency, changing its templates and retiring it are administrative
changes and are logged (``api.agency_add``, ``api.agency_templates``,
``api.agency_retire``; resource ``record:issuing_agency``). Which agencies a
client may issue for is set on the client (``POST /clients/{id}/agencies``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, NoReturn, TypeVar

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import Field

from api.errors import ProblemCode
from api.http.context import ProvinceContext
from api.http.deps import ContextDep, JsonBody, OperatorDep, RequestIdDep
from api.http.problems import FieldIssue, Problem, problem_responses
from api.http.schemas.common import ApiModel, InputModel
from api.province.audited import record_administrative
from credentials.zhengzhao.agencies import (
    NAME_MAX,
    AgencyError,
    AgencyInputError,
    RegisteredAgency,
    add_agency,
    list_agencies,
    retire_agency,
    set_templates,
)
from ledger.audit.events import Caller, format_time

router = APIRouter(prefix="/agencies", tags=["agencies"])

T = TypeVar("T")

_ADD_PROBLEMS = problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 503)
_LIST_PROBLEMS = problem_responses(401, 403, 429, 503)
_CHANGE_PROBLEMS = problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 503)
_RESOURCE = "record:issuing_agency"

CodePath = Annotated[
    str, Path(max_length=32, description="The agency's 统一社会信用代码 (18 characters, GB 32100).")
]


class AgencyIn(InputModel):
    """An agency to register."""

    code: str = Field(
        max_length=32, description="统一社会信用代码 (GB 32100), check character verified."
    )
    name: str = Field(min_length=1, max_length=NAME_MAX, description="e.g. 浙江省教育厅.")
    templates: list[str] = Field(
        min_length=1, max_length=100, description="Templates it may issue (`GET /templates`)."
    )


class AgencyTemplatesIn(InputModel):
    """The templates an agency may issue, replacing the ones it had."""

    templates: list[str] = Field(min_length=1, max_length=100)


class AgencyOut(ApiModel):
    """A registered agency."""

    code: str
    name: str
    templates: list[str]
    created_at: str
    retired_at: str | None
    active: bool


class AgencyList(ApiModel):
    """Every agency, in code order, retired ones included."""

    agencies: list[AgencyOut]


AGENCY_BODY = JsonBody(AgencyIn)
TEMPLATES_BODY = JsonBody(AgencyTemplatesIn)


def _out(agency: RegisteredAgency) -> AgencyOut:
    retired = agency.retired_at_ms
    return AgencyOut(
        code=agency.code,
        name=agency.name,
        templates=sorted(agency.templates),
        created_at=format_time(agency.created_at_ms),
        retired_at=None if retired is None else format_time(retired),
        active=agency.active,
    )


def _refuse(exc: AgencyError | AgencyInputError) -> NoReturn:
    if isinstance(exc, AgencyInputError):
        raise Problem(
            ProblemCode.VALIDATION_FAILED,
            "the agency breaks a field rule",
            errors=[FieldIssue(field=f"/{exc.field}", rule=exc.rule)],
        ) from None
    if exc.reason == "exists":
        raise Problem(ProblemCode.CONFLICT, "an agency with that code is registered already")
    raise Problem(ProblemCode.NOT_FOUND, "no agency of this province has that code")


def _changed(
    context: ProvinceContext, caller: Caller, action: str, request_id: str, change: Callable[[], T]
) -> T:
    try:
        result = change()
    except (AgencyError, AgencyInputError) as exc:
        _refuse(exc)
    record_administrative(context.audit_log, caller, action, _RESOURCE, request_id)
    return result


@router.post(
    "",
    status_code=201,
    response_model=AgencyOut,
    summary="Register an issuing agency",
    responses=_ADD_PROBLEMS,
    openapi_extra=AGENCY_BODY.openapi,
)
def add(
    principal: OperatorDep,
    body: Annotated[AgencyIn, AGENCY_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """Register an active agency that may issue ``templates``; 409 if the code is registered."""
    agency = _changed(
        context,
        principal.caller,
        "api.agency_add",
        request_id,
        lambda: add_agency(context.db, body.code, body.name, body.templates),
    )
    return JSONResponse(
        _out(agency).model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/agencies/{agency.code}"},
    )


@router.get("", response_model=AgencyList, summary="List agencies", responses=_LIST_PROBLEMS)
def list_all(principal: OperatorDep, context: ContextDep) -> AgencyList:
    """Every agency, retired ones included."""
    return AgencyList(agencies=[_out(a) for a in list_agencies(context.db)])


@router.put(
    "/{code}/templates",
    response_model=AgencyOut,
    summary="Replace the templates an agency may issue",
    responses=_CHANGE_PROBLEMS,
    openapi_extra=TEMPLATES_BODY.openapi,
)
def change_templates(
    principal: OperatorDep,
    body: Annotated[AgencyTemplatesIn, TEMPLATES_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
    code: CodePath,
) -> AgencyOut:
    """Takes effect at once for every worker."""
    agency = _changed(
        context,
        principal.caller,
        "api.agency_templates",
        request_id,
        lambda: set_templates(context.db, code, body.templates),
    )
    return _out(agency)


@router.post(
    "/{code}/retire",
    response_model=AgencyOut,
    summary="Retire an agency: nothing more is issued for it",
    responses=_CHANGE_PROBLEMS,
)
def retire(
    principal: OperatorDep, context: ContextDep, request_id: RequestIdDep, code: CodePath
) -> AgencyOut:
    """What it issued stays valid; retiring twice keeps the first time."""
    agency = _changed(
        context,
        principal.caller,
        "api.agency_retire",
        request_id,
        lambda: retire_agency(context.db, code),
    )
    return _out(agency)
