"""``/dids``: DID documents of issuers (from the chain index) and of holders (did:key).

``did:tongban:<chainId>:<issuerId>`` resolves from this province's chain index
(the registry's key history, every key with its validity window); a DID of
another chain, or of an issuer the registry never admitted, is not found. A
``did:key`` resolves from the DID itself. The access log names the route
template only, never the DID in the path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from api.errors import ProblemCode
from api.http.deps import CallerDep, ContextDep
from api.http.problems import Problem, problem_responses, unavailable
from api.http.schemas.credentials import DidDocumentOut
from credentials.did import did_key_document, issuer_document, parse_issuer_did

router = APIRouter(prefix="/dids", tags=["dids"])

_DID_RULE = "must be did:tongban:<chainId>:<issuerId> or an SM2 did:key"
_PROBLEMS = problem_responses(401, 403, 404, 422, 429, 503)


@router.get(
    "/{did}",
    response_model=DidDocumentOut,
    summary="Resolve an issuer's or a holder's DID to its DID document",
    responses=_PROBLEMS,
)
def resolve(
    principal: CallerDep,
    context: ContextDep,
    did: Annotated[str, Path(max_length=256, description="`did:tongban:...` or `did:key:z...`.")],
) -> JSONResponse:
    """The DID document; issuers' from the chain index as of its height."""
    if did.startswith("did:key:"):
        try:
            return JSONResponse(did_key_document(did))
        except ValueError:
            raise Problem.validation("did", _DID_RULE) from None
    try:
        chain_id, issuer_id = parse_issuer_did(did)
    except ValueError:
        raise Problem.validation("did", _DID_RULE) from None
    if chain_id != context.chain_id:
        raise Problem(ProblemCode.NOT_FOUND, "the DID names another chain than this province's")
    if context.index is None:
        raise unavailable("chain index")
    with context.index.view() as view:
        known = view.issuer(issuer_id) is not None
        keys = view.keys(issuer_id) if known else []
    if not known:
        raise Problem(ProblemCode.NOT_FOUND, "the registry has no such issuer")
    return JSONResponse(issuer_document(chain_id, issuer_id, keys))
