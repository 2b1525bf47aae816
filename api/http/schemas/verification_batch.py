"""Body and answer of ``POST /credentials/verify/batch``, and the JSON of one answered item.

The request is ``POST /credentials/verify``'s with a list: ``verifiableCredentials``
(1 to 1,000 free JSON values, each checked by the verifier itself) and the same
``options``, applied to every item. The answer lists one item per credential, in
request order: the VC API verification result (``VerificationOut``, exactly what the
single route answers) or, for an item the verifier did not run on or could not decide,
``{"index", "problem"}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from api.errors import ProblemCode, title_of, type_uri
from api.http.problems import FieldIssue
from api.http.schemas.common import ApiModel, InputModel
from api.http.schemas.credentials import VerificationOut, VerifyCredentialIn
from credentials.verify.batch import MAX_BATCH
from credentials.verify.vcapi import Malformed

__all__ = [
    "BatchItemProblemOut",
    "BatchProblemOut",
    "VerificationBatchOut",
    "VerifyCredentialsBatchIn",
    "item_problem_json",
    "malformed_item_json",
]

# The single route's published schemas, so both say the same of a credential and options.
_SINGLE = VerifyCredentialIn.model_json_schema(by_alias=True)["properties"]
_OPTIONS = {k: v for k, v in _SINGLE["options"].items() if k != "default"}
_ITEM_DESCRIPTION = (
    "A credential, as `verifiableCredential` of `POST /credentials/verify` (any JSON "
    "value is accepted here: what is not a credential is answered item by item)."
)


class VerifyCredentialsBatchIn(InputModel):
    """Up to 1,000 credentials verified one by one with the same VC API options."""

    # Any JSON value: an item that is not a credential is answered by its own problem
    # (200), so the request schema must not call such a body invalid.
    verifiable_credentials: list[
        Annotated[Any, WithJsonSchema({"description": _ITEM_DESCRIPTION})]
    ] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="1 to 1,000 credentials, each as `verifiableCredential` of "
        "`POST /credentials/verify`. An item that is not a credential at all is answered "
        "by its own problem, not by a 400 for the whole request.",
    )
    options: Annotated[Any, WithJsonSchema(_OPTIONS)] = None


class BatchProblemOut(BaseModel):
    """Why one item has no verification result (RFC 9457 members, never a value)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(description="`https://tongban.example/problems/<code>`.")
    title: str
    detail: str
    code: ProblemCode = Field(
        description="`bad-request`: not a credential at all (no access event); "
        "`store-unavailable` (retry it) or `internal-error`: the verifier could not decide "
        "(its access event has outcome `error`)."
    )
    errors: list[FieldIssue] | None = Field(
        default=None,
        description="For `bad-request`: each member at fault, a JSON pointer into the body "
        "(`/verifiableCredentials/3/@context`) with the rule and the problem type.",
    )


class BatchItemProblemOut(ApiModel):
    """An item without a verification result: its position and its problem."""

    index: int = Field(description="The item's position in `verifiableCredentials` (from 0).")
    problem: BatchProblemOut


class VerificationBatchOut(ApiModel):
    """One item per credential sent, in request order."""

    results: list[VerificationOut | BatchItemProblemOut]


def malformed_item_json(index: int, malformed: Malformed) -> dict[str, Any]:
    """The answer item of a credential that is not one at all (as the single route's 400)."""
    errors = [{"field": p.pointer, "rule": f"{p.rule} ({p.type})"} for p in malformed.problems]
    return item_problem_json(index, ProblemCode.BAD_REQUEST, malformed.detail(), errors)


def item_problem_json(
    index: int, code: ProblemCode, detail: str, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """``{"index", "problem"}`` for an item: ``detail`` must never quote the request."""
    problem: dict[str, Any] = {
        "type": type_uri(code),
        "title": title_of(code),
        "detail": detail,
        "code": code.value,
    }
    if errors is not None:
        problem["errors"] = errors
    return {"index": index, "problem": problem}
