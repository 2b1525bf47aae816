"""``/purposes``: the 用证事由 catalogue, the purpose codes with their Chinese and English labels.

What a client may declare in ``X-Purpose`` and a holder may bind a presentation
to (``termsOfUse``), each code with the national category it maps onto, from
``credentials.purposes`` (docs/purposes.md). Any API client may read it; it holds
no personal data. A code that is not listed is still accepted where the format
allows it, and shown as unlisted in a citizen's access history.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from api.http.deps import CallerDep
from api.http.problems import problem_responses
from api.http.schemas.common import ApiModel
from credentials.purposes import catalogue_json

router = APIRouter(prefix="/purposes", tags=["purposes"])

_PROBLEMS = problem_responses(401, 403, 429)


class PurposeCategoryOut(ApiModel):
    """A national category of use: the kind of 政务服务事项 an access serves."""

    code: str
    zh: str
    en: str


class PurposeOut(ApiModel):
    """One purpose code with its labels and category."""

    code: str = Field(description="The code sent in `X-Purpose` and recorded in access events.")
    zh: str
    en: str
    category: str = Field(description="The code of its category (`categories`).")
    issued_by_tongban: bool = Field(
        description="Recorded by Tongban itself (administration, the citizen's own view); "
        "no client sends it."
    )


class PurposesOut(ApiModel):
    """The catalogue: categories and purposes, in catalogue order."""

    categories: list[PurposeCategoryOut]
    purposes: list[PurposeOut]


@router.get(
    "",
    response_model=PurposesOut,
    summary="The purpose codes (用证事由) in Chinese and English, with their categories",
    responses=_PROBLEMS,
)
def list_purposes(principal: CallerDep) -> PurposesOut:
    """Every purpose of the catalogue and every category."""
    return PurposesOut.model_validate(catalogue_json())
