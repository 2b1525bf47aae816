"""``GET /status-lists/{list_number}/{purpose}``: the province's signed Bitstring Status Lists.

Public by design: no token, no declared purpose, no access event. A list holds
only bits at random indexes (``credentials.issuance.status_slots``) and says
nothing about who asks for it; the W3C Recommendation (section 3.1) asks issuers
to publish lists so they can be cached and fetched without being tracked, which
a token or an access event would defeat. The access log names the route
template only.

The body is the stored list credential, byte for byte as the writer signed it
(``api.province.status_lists``), as ``application/vc``: VC Data Model 2.0
section 6.3 registers ``application/vc`` for a verifiable credential secured
with an embedded proof (the earlier ``application/vc+ld+json`` did not make it
into the Recommendation), and Bitstring Status List section 4 names it for lists
secured with Data Integrity. ``Cache-Control: public, max-age`` is the
regeneration period (the list's ``ttl``, section 2.2 asks to align them); the
``ETag`` is strong, and ``If-None-Match`` with it answers 304. An unknown list
number or purpose is a 404 problem.

Its answers (200 and 304) carry ``Access-Control-Allow-Origin: *``, so a browser wallet on
any origin reads a list (docs/wallet.md "Live status"): the list is a public signed document
with nothing personal in it, fetched by a simple GET without cookies or custom headers (no
preflight), and naming one origin would make wallets elsewhere (another province's, a
holder's own) unable to check a credential's status; ``*`` is also what keeps the answer the
same for every asker, hence cacheable. Errors send no CORS header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path
from fastapi.responses import Response

from api.errors import ProblemCode
from api.http.deps import ContextDep
from api.http.problems import Problem, problem_responses
from api.province.status_lists import MEDIA_TYPE, read_list
from credentials.status_list import PURPOSES

router = APIRouter(prefix="/status-lists", tags=["status-lists"])

_PURPOSES = {p.value for p in PURPOSES}


@router.get(
    "/{list_number}/{purpose}",
    summary="A signed Bitstring Status List credential (public, cacheable)",
    response_class=Response,
    responses={
        200: {
            "description": "The BitstringStatusListCredential, with one sm2-jcs-2026 proof.",
            "content": {MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        304: {"description": "Not modified (If-None-Match named the current ETag)."},
        **problem_responses(404, 422),
    },
)
def status_list(
    context: ContextDep,
    list_number: Annotated[int, Path(ge=1, le=2**31 - 1, description="List number, from 1.")],
    purpose: Annotated[str, Path(max_length=32, description="`revocation` or `suspension`.")],
    if_none_match: Annotated[str | None, Header(max_length=256)] = None,
) -> Response:
    """The list credential as the writer last signed it."""
    found = read_list(context.db, list_number, purpose) if purpose in _PURPOSES else None
    if found is None:
        raise Problem(ProblemCode.NOT_FOUND, "no such status list")
    headers = {
        "Cache-Control": f"public, max-age={found.max_age_s}",
        "ETag": found.etag,
        # Public, signed, cookie-free: any wallet origin may read it (docs/wallet.md).
        "Access-Control-Allow-Origin": "*",
    }
    if if_none_match is not None and found.etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(found.document, media_type=MEDIA_TYPE, headers=headers)
