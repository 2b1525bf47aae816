"""``/citizen``: a citizen asks who accessed their data, proving it is them with their key.

No bearer token and no ``holder`` role: the holder's SM2 signature over a
fresh, single-use challenge bound to their DID *is* the authentication
(``ledger.audit.citizen``). The signed message is
``SignedPayload("tongban/citizen-view/v1", JCS({"challenge", "holder", "logId"}))``.
Both routes are rate limited per holder DID and, since anyone can make new
DIDs, by one bucket shared by all citizens. The answer about the holder's
access history is itself an access event (``audit.citizen_view``), recorded by
``ledger.audit.citizen.CitizenView.answer`` before it returns the report. Each
record carries its purpose in Chinese and English (``purposeLabel``, from the
catalogue ``credentials.purposes``), beside the signed event, not inside it; and,
when the event's ``actorOrg`` names an issuing agency of this province's registry
(``uscc:…``, ``credentials.zhengzhao.agencies.event_org``), that agency by name
(``agency``), likewise outside it: a citizen has no token to ask ``GET /agencies``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field

from api.errors import ProblemCode
from api.http.auth import enforce_rate
from api.http.context import ProvinceContext
from api.http.deps import ContextDep, JsonBody, RequestIdDep
from api.http.problems import Problem, problem_responses
from api.http.schemas.common import (
    ApiModel,
    AppendedEvent,
    CheckpointOut,
    InputModel,
    checkpoint_out,
)
from credentials.purposes import label
from credentials.zhengzhao.agencies import agency_of_event_org, get_agency
from ledger.audit.citizen import (
    CHALLENGE_TTL_MS,
    CitizenAccessError,
    CitizenView,
    holder_key,
)
from ledger.audit.citizen_request import CITIZEN_DOMAIN
from ledger.audit.events import format_time

router = APIRouter(prefix="/citizen", tags=["citizen"])

DID_PATTERN = r"^did:key:z[1-9A-HJ-NP-Za-km-z]{1,64}$"
_PROBLEMS = problem_responses(400, 403, 413, 415, 422, 429, 503)


class ChallengeIn(InputModel):
    """Ask for a challenge for a holder DID."""

    holder: str = Field(pattern=DID_PATTERN, description="The holder's `did:key` (an SM2 key).")


class ChallengeOut(ApiModel):
    """A challenge to sign, with what to sign it into."""

    challenge: str
    holder: str
    log_id: int
    domain: str = Field(description="The SignedPayload domain of the request to sign.")
    expires_in_seconds: int


class AccessHistoryIn(InputModel):
    """The signed request for the holder's access history."""

    holder: str = Field(pattern=DID_PATTERN)
    challenge: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    signature: str = Field(
        pattern=r"^[0-9a-f]{128}$", description="SM2 r || s (hex) over the SignedPayload."
    )


class InclusionOut(ApiModel):
    """The event's inclusion proof in the latest anchored checkpoint."""

    tree_size: int
    root: str
    proof: list[str]


class PurposeLabelOut(ApiModel):
    """The event's purpose code as the catalogue names it (用证事由, docs/purposes.md)."""

    code: str
    zh: str = Field(description="In Chinese; for an unlisted code, that it is unlisted.")
    en: str = Field(description="In English; for an unlisted code, that it is unlisted.")
    category: str | None = Field(description="The national category; null when unlisted.")
    listed: bool = Field(description="False for a code the catalogue does not list.")


class AgencyLabelOut(ApiModel):
    """The issuing agency an event's ``actorOrg`` names, as this province registered it."""

    code: str = Field(description="Its 统一社会信用代码 (the one ``actorOrg`` names).")
    name: str


class AccessRecordOut(AppendedEvent):
    """One access to the holder's data, with its receipt and proof."""

    inclusion: InclusionOut | None = Field(
        description="Null when no anchored checkpoint covers the event yet."
    )
    purpose_label: PurposeLabelOut = Field(
        description="The event's purpose in Chinese and English (outside the signed event)."
    )
    agency: AgencyLabelOut | None = Field(
        default=None,
        description="The issuing agency the event's actorOrg names, by name (outside the "
        "signed event); null when actorOrg names none this province registered.",
    )


class AccessHistoryOut(ApiModel):
    """Every access event about the holder in this province's log."""

    holder: str
    log_id: int
    generated_at: str
    records: list[AccessRecordOut]
    anchored: CheckpointOut | None


def _agency_label(
    context: ProvinceContext, org: str, known: dict[str, AgencyLabelOut | None]
) -> AgencyLabelOut | None:
    code = agency_of_event_org(org)
    if code is None:
        return None
    if code not in known:
        # Retired agencies stay in the registry: their old events keep their name.
        found = get_agency(context.db, code)
        known[code] = None if found is None else AgencyLabelOut(code=code, name=found.name)
    return known[code]


CHALLENGE_BODY = JsonBody(ChallengeIn)
HISTORY_BODY = JsonBody(AccessHistoryIn)


def _view(context: ProvinceContext) -> CitizenView:
    if context.citizen is None:
        raise Problem(ProblemCode.UNAVAILABLE, "this process does not serve the citizen view")
    return context.citizen


async def _citizen_gate(context: ContextDep) -> None:
    # The shared bucket is taken before the body is read: no token stands in front of it.
    enforce_rate(context, context.rate_limits.citizens, "citizens", "citizens")


CitizenGateDep = Annotated[None, Depends(_citizen_gate)]


def _admit(context: ProvinceContext, holder: str) -> None:
    try:
        holder_key(holder)
    except CitizenAccessError as exc:
        # Kept here, not in the problem table (where this class is a 403 refusal):
        # a holder that is no SM2 did:key breaks a rule of the body's /holder.
        raise Problem.validation("/holder", str(exc)) from None
    enforce_rate(context, context.rate_limits.holders, holder, "holder")


@router.post(
    "/challenge",
    response_model=ChallengeOut,
    summary="A single-use challenge for a holder DID (five minutes)",
    responses=_PROBLEMS,
    openapi_extra=CHALLENGE_BODY.openapi,
)
def challenge(
    gate: CitizenGateDep,
    body: Annotated[ChallengeIn, CHALLENGE_BODY.depends],
    context: ContextDep,
) -> ChallengeOut:
    """Issue a challenge bound to ``holder``."""
    view = _view(context)
    _admit(context, body.holder)
    return ChallengeOut(
        challenge=view.challenge(body.holder),
        holder=body.holder,
        log_id=context.issuer_id,
        domain=CITIZEN_DOMAIN,
        expires_in_seconds=CHALLENGE_TTL_MS // 1000,
    )


@router.post(
    "/access-history",
    response_model=AccessHistoryOut,
    summary="Who accessed my data: events, receipts and inclusion proofs",
    responses=_PROBLEMS,
    openapi_extra=HISTORY_BODY.openapi,
)
def access_history(
    gate: CitizenGateDep,
    body: Annotated[AccessHistoryIn, HISTORY_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> AccessHistoryOut:
    """Check the holder's signed request and answer with their access history (logged)."""
    view = _view(context)
    _admit(context, body.holder)
    report = view.answer(body.holder, body.challenge, bytes.fromhex(body.signature), request_id)
    records = []
    agencies: dict[str, AgencyLabelOut | None] = {}
    for record in report.records:
        result = record.result
        inclusion = None
        if record.checkpoint is not None and record.inclusion_proof is not None:
            inclusion = InclusionOut(
                tree_size=record.checkpoint.tree_size,
                root=record.checkpoint.root.hex(),
                proof=[node.hex() for node in record.inclusion_proof],
            )
        records.append(
            AccessRecordOut.model_validate(
                {
                    "index": result.index,
                    "event": result.event.to_json(),
                    "receipt": result.receipt.to_json(),
                    "inclusion": inclusion,
                    "purpose_label": label(result.event.purpose).to_json(),
                    "agency": _agency_label(context, result.event.actor_org, agencies),
                }
            )
        )
    return AccessHistoryOut(
        holder=report.holder,
        log_id=context.issuer_id,
        generated_at=format_time(context.clock()),
        records=records,
        anchored=None if report.anchored is None else checkpoint_out(report.anchored),
    )
