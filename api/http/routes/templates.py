"""``/templates``: the certificate catalogue, so an issuing system can fill a request.

Each template with its national metadata (GB/T 36903: type code and name,
defining authority, trust grade, holder-ID type, the claims always shown,
disclosable and printed), its claims (type, format, enumeration, limits,
required, disclosable) and a complete example request of fictitious data, from
``credentials.catalogue``: the same description ``tongban templates`` prints.
Any API client may read it; it holds no personal data.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.errors import ProblemCode
from api.http.deps import CallerDep
from api.http.problems import Problem, problem_responses
from api.http.schemas.templates import TemplateOut, TemplatesOut
from credentials.catalogue import describe, describe_all
from credentials.templates import TEMPLATES

router = APIRouter(prefix="/templates", tags=["templates"])

_PROBLEMS = problem_responses(401, 403, 429)


@router.get(
    "",
    response_model=TemplatesOut,
    response_model_exclude_none=True,
    summary="The certificate templates this province issues, claim by claim",
    responses=_PROBLEMS,
)
def list_templates(principal: CallerDep) -> TemplatesOut:
    """Every template, by name."""
    return TemplatesOut.model_validate({"templates": describe_all()})


@router.get(
    "/{name}",
    response_model=TemplateOut,
    response_model_exclude_none=True,
    summary="One certificate template",
    responses=problem_responses(401, 403, 404, 429),
)
def get_template(
    principal: CallerDep,
    name: Annotated[str, Path(max_length=64, pattern="^[a-z0-9-]+$")],
) -> TemplateOut:
    """The template called ``name``."""
    template = TEMPLATES.get(name)
    if template is None:
        raise Problem(ProblemCode.NOT_FOUND, "no certificate template has that name")
    return TemplateOut.model_validate(describe(template))
