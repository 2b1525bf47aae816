"""``GET /credentials/{digest}/certificate.pdf``: the printed certificate (issuer systems).

A one-page A4 PDF of a credential issued here (``api.paper.render``): the
照面信息 its template chooses for print, the agency, issuer, 证照标识, validity
and trust grade, and a QR code carrying the credential with exactly the print
disclosures (TB1, docs/paper-certificate.md). It holds personal data: the caller
declares ``X-Purpose`` and ``X-Legal-Basis``, and the access is one
``credential.print`` event (resource ``credential:<digest>``, subject the holder)
recorded before the answer, ``not_found`` before a 404. A credential whose batch
is not final yet has no anchor proof to print: 409 ``anchor-pending``, as for
the anchor proof, with a ``success`` event (it was read).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.errors import ProblemCode
from api.http.deps import ContextDep, DeclarationDep, IssuerDep, RequestIdDep
from api.http.problems import Problem, problem_responses, unavailable
from api.http.schemas.credentials import DIGEST_PATTERN
from api.paper.render import FONT_PACKAGE, FontMissingError, render_certificate
from api.province.access import access_event, record_access
from credentials.credential import holder_of
from credentials.errors import UnknownCredentialError
from credentials.paper.printing import printed_credential
from ledger.audit.events import Outcome

__all__ = ["PDF_MEDIA_TYPE", "router"]

PDF_MEDIA_TYPE = "application/pdf"
"""The answer's media type."""

router = APIRouter(tags=["credentials"])

_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 429, 503)
_PROBLEMS[409]["description"] = (
    "The credential's batch is not final on chain yet (`anchor-pending`): nothing to print."
)


@router.get(
    "/credentials/{digest}/certificate.pdf",
    summary="The printed certificate: one A4 page with its QR code (logged as credential.print)",
    response_class=Response,
    responses={
        200: {
            "content": {PDF_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            "description": "The PDF (one A4 page).",
        },
        **_PROBLEMS,
    },
)
async def certificate_pdf(
    principal: IssuerDep,
    declared: DeclarationDep,
    context: ContextDep,
    request_id: RequestIdDep,
    digest: Annotated[
        str, Path(pattern=DIGEST_PATTERN, description="The credential digest (64 lowercase hex).")
    ],
) -> Response:
    """The PDF of a credential issued here, with exactly its template's print disclosures."""
    issuer = context.issuer
    if issuer is None:
        raise unavailable("credential issuing")
    raw = bytes.fromhex(digest)
    try:
        stored = await run_in_threadpool(issuer.credential, raw, require_anchor=False)
    except UnknownCredentialError:
        stored = None
    event = access_event(
        declared,
        request_id,
        "credential.print",
        f"credential:{digest}",
        outcome=Outcome.SUCCESS if stored is not None else Outcome.NOT_FOUND,
        subject_id=None if stored is None else holder_of(stored),
    )
    await run_in_threadpool(record_access, context.audit_log, principal.caller, [event])
    if stored is None:
        raise Problem(ProblemCode.NOT_FOUND, "no credential with that digest was issued here")
    # With the anchor proof now: AnchorPendingError is the problem table's 409.
    anchored = await run_in_threadpool(issuer.credential, raw)
    try:
        rendered = await run_in_threadpool(render_certificate, printed_credential(anchored))
    except FontMissingError:
        raise unavailable(f"certificate printing: install Debian's {FONT_PACKAGE}") from None
    return Response(
        rendered.pdf,
        media_type=PDF_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'inline; filename="certificate-{digest[:16]}.pdf"',
            "Cache-Control": "no-store",
        },
    )
