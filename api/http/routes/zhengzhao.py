"""``POST /zhengzhao/lookup``: a certificate of this province by its 证照标识, no oracle.

The identifier travels in the body, never in a URL (URLs end up in proxy and
access logs). Verifier and issuer systems may look up; a client with the
verifier role sees every certificate this province issued, a client with only
the issuer role those of the agencies it may issue for (``ApiClient.agencies``).
The answer (``ZhengzhaoLookupOut``) is what the national platform knows a
certificate by: type, agency, issuer, validity, status, anchoring; never a claim
and never the holder DID (a citizen's stable identifier across all their
certificates).

An identifier that names no certificate of this province and one the caller may
not see get the same 404: same status, same headers, the same body but for its
request id, after the same work (``api.province.lookup``). A malformed identifier
is a 422 naming the part that is wrong (``/identifier`` and the field), never the
value: anyone can compute a check character, so this tells nothing.

Claims come only with the holder's authorization: ``verifiablePresentation``,
verified in full by the province's verifier (its challenge used up in the access
event's commit, as ``POST /presentations/verify`` does); the answer then carries
the claims the holder disclosed of that very certificate. Without one, or with one
that fails or does not carry it, ``authorization`` says why and no claim is given.
A presentation is verified whatever the identifier names, so it costs the same.

Every attempt that passes authentication, its own rate limit and the declaration
headers is one ``zhengzhao.lookup`` access event, recorded before any answer
(``api.province.lookup.lookup_event``). The route has a bucket per client of its
own (``RateLimits.lookups``, settings ``zhengzhao_lookup_rate``/``_burst``),
taken after the client's general bucket: 429 with ``Retry-After``, not recorded
(a flood must not flood the log).
"""

from __future__ import annotations

import weakref
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.errors import ProblemCode
from api.http.auth import Principal, enforce_rate
from api.http.context import ProvinceContext
from api.http.deps import ContextDep, DeclarationDep, JsonBody, RequestIdDep, require
from api.http.problems import FieldIssue, Problem, problem_responses, unavailable
from api.http.schemas.zhengzhao import ZhengzhaoLookupIn, ZhengzhaoLookupOut
from api.province.access import Declaration, record_access, record_presentation
from api.province.clients import ApiClient, Role
from api.province.lookup import (
    CertificateFacts,
    CertificateLibrary,
    Lookup,
    LookupOutcome,
    disclosed_claims,
    lookup_event,
)
from credentials.issuance import CredentialIssuer
from credentials.verify import Verifier
from credentials.zhengzhao.errors import IdentifierError
from credentials.zhengzhao.identifier import parse_zhengzhao_id
from ledger.audit.events import EventInput

__all__ = ["NOT_FOUND_DETAIL", "router"]

router = APIRouter(prefix="/zhengzhao", tags=["zhengzhao"])

# A presentation may be 1 MiB by itself: the batch cap, as /presentations/verify.
LOOKUP_BODY = JsonBody(ZhengzhaoLookupIn, batch=True)

NOT_FOUND_DETAIL = "no certificate of this province that this client may see has this identifier"
"""The one detail of an unknown or not-visible identifier."""

_PROBLEMS = problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 503)
_PROBLEMS[404]["description"] = (
    "No certificate of this province that this client may see has this identifier "
    "(`not-found`): an unknown identifier and one of an agency the client may not see "
    "get this same answer."
)
_LIBRARIES: weakref.WeakKeyDictionary[CredentialIssuer, CertificateLibrary] = (
    weakref.WeakKeyDictionary()
)


async def _lookup_caller(
    principal: Annotated[Principal, require(Role.VERIFIER, Role.ISSUER)], context: ContextDep
) -> Principal:
    enforce_rate(
        context, context.rate_limits.lookups, principal.client.client_id, "zhengzhao_lookup"
    )
    return principal


LookupCallerDep = Annotated[Principal, Depends(_lookup_caller)]
"""A verifier or issuer client, within its lookup bucket."""


def _library(context: ProvinceContext) -> tuple[CertificateLibrary, Verifier]:
    if context.issuer is None:
        raise unavailable("credential issuing")
    if context.verifier is None:
        raise unavailable("verification")
    library = _LIBRARIES.get(context.issuer)
    if library is None:
        library = _LIBRARIES[context.issuer] = CertificateLibrary(context.issuer)
    return library, context.verifier


def _may_see(client: ApiClient) -> Any:
    if Role.VERIFIER in client.roles:
        return lambda _code: True
    return client.may_issue_for


def _facts_json(facts: CertificateFacts) -> dict[str, Any]:
    anchoring: dict[str, Any] = {"state": "pending"}
    if facts.anchoring is not None:
        anchoring = {"state": facts.anchoring.state.value}
        if facts.anchoring.block_number is not None:
            anchoring["blockNumber"] = facts.anchoring.block_number
    return {
        "identifier": facts.identifier,
        "typeCode": facts.type_code,
        "typeName": facts.type_name,
        "issuingAgency": {"name": facts.agency_name, "code": facts.agency_code},
        "jurisdiction": facts.jurisdiction,
        "trustGrade": facts.trust_grade,
        "issuer": facts.issuer,
        "validFrom": facts.valid_from,
        "validUntil": facts.valid_until,
        "status": facts.status,
        "anchoring": anchoring,
    }


def _authorization(presented: bool, check_reason: str | None, claims: Any) -> dict[str, Any]:
    if not presented:
        return {"presented": False, "accepted": False, "reason": "not_presented"}
    if check_reason is not None:
        return {
            "presented": True,
            "accepted": False,
            "reason": "presentation_invalid",
            "checkReason": check_reason,
        }
    if claims is None:
        return {"presented": True, "accepted": False, "reason": "credential_not_presented"}
    return {"presented": True, "accepted": True}


def _malformed(
    context: ProvinceContext,
    principal: Principal,
    declared: Declaration,
    request_id: str,
    error: IdentifierError,
) -> Problem:
    event = lookup_event(declared, request_id, Lookup(LookupOutcome.MALFORMED))
    record_access(context.audit_log, principal.caller, [event])
    return Problem(
        ProblemCode.VALIDATION_FAILED,
        "the identifier is not a well-formed 证照标识",
        errors=[FieldIssue(field="/identifier", rule=f"{error.field}: {error.reason}")],
    )


@router.post(
    "/lookup",
    response_model=ZhengzhaoLookupOut,
    summary="A certificate of this province by its 证照标识 (logged as zhengzhao.lookup)",
    responses=_PROBLEMS,
    openapi_extra=LOOKUP_BODY.openapi,
)
def lookup(
    principal: LookupCallerDep,
    declared: DeclarationDep,
    body: Annotated[ZhengzhaoLookupIn, LOOKUP_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """Type, agency, issuer, validity, status and anchoring; claims only with the holder's VP."""
    library, verifier = _library(context)
    try:
        identifier = parse_zhengzhao_id(body.identifier)
    except IdentifierError as error:
        raise _malformed(context, principal, declared, request_id, error) from None
    may_see = _may_see(principal.client)
    presentation = body.verifiable_presentation
    presented = presentation is not None

    def evaluate() -> tuple[tuple[Lookup, str | None, Any], EventInput]:
        found = library.find(identifier, may_see)
        check_reason: str | None = None
        claims: Any = None
        if presented:
            result = verifier.evaluate_presentation(presentation, purpose=declared.purpose)
            failure = result.first_failure()
            if failure is not None or not result.valid:
                check_reason = "presentation_invalid" if failure is None else failure.reason_code
            elif found.digest is not None:
                claims = disclosed_claims(presentation, result, found.digest)
        return (found, check_reason, claims), lookup_event(declared, request_id, found)

    if presented:
        # As /presentations/verify: the challenge is used up in the event's commit.
        found, check_reason, claims = record_presentation(
            context.audit_log, principal.caller, evaluate
        )
    else:
        (found, check_reason, claims), event = evaluate()
        record_access(context.audit_log, principal.caller, [event])
    if found.facts is None:
        raise Problem(ProblemCode.NOT_FOUND, NOT_FOUND_DETAIL)
    answer = _facts_json(found.facts)
    answer["authorization"] = _authorization(presented, check_reason, claims)
    if claims is not None:
        answer["claims"] = claims
    return JSONResponse(answer)
