"""Ask the citizen to present (issue #17, docs/oid4vp.md): the clerk's pages and OpenID4VP's routes.

Clerk (signed in, verifier role): ``GET /ask`` (the form: claims, purpose, legal
basis), ``POST /ask`` (CSRF-checked; creates the request, 303 to its page),
``GET /ask/{request_id}`` (the QR code and link until answered, then the result as
the verify page shows it, ``result.html``), ``GET /ask/{request_id}/qr.svg``,
``GET /oid4vp/requests/{request_id}/result`` (``{"answered": bool}`` for a page's
script to poll). Each reads only a request of the clerk's own session.

Wallet (public, no personal data asked for): ``GET /oid4vp/requests/{request_id}``
(the request object, by reference) and ``POST /oid4vp/responses/{request_id}``
(``direct_post``: form-encoded ``vp_token`` and ``state``), verified by
``api.province.presentation_requests.answer``; errors as OpenID4VP's JSON
``{"error", "error_description"}``, never naming what was sent. Both are
rate-limited per client address (``wallet_limiter``: ``WALLET_RATE``, the
project's token buckets, per worker process): over it, 429 with ``Retry-After``
and ``{"error": "temporarily_unavailable", ...}``, before any store access.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from api.errors import ProblemCode
from api.http.auth import check_declaration
from api.http.deps import context_of, request_id_for
from api.http.problems import Problem
from api.http.ratelimit import RateLimiter, RatePolicy, app_limiter, retry_after
from api.http.signin import StaffSession
from api.portal.ask_text import ASK_TEXT
from api.portal.labels import CHECK_TITLES, claim_label, pick_language
from api.portal.pages import (
    SECURITY_HEADERS,
    PortalRoute,
    division_of,
    page_policy,
    render_page,
)
from api.portal.reasons_i18n import reason_words
from api.portal.staff import VERIFIER_STAFF, check_form_csrf, staff_caller
from api.province.access import AccessNotRecordedError
from api.province.presentation_requests import (
    AskedRequest,
    Outcome,
    RequestRefusedError,
    answer,
    ask,
    request_object,
    requests_of,
    result_for,
)
from credentials.purposes import label
from credentials.reasons import Check

__all__ = ["WALLET_RATE", "router", "wallet_limiter", "wallet_link"]


BEIJING = timezone(timedelta(hours=8), "UTC+8")
_PAGE_CACHE = {"Cache-Control": "no-store"}
_FORM_CAP = 4 * 1024
_RESPONSE_CAP = 1024 * 1024
_VERDICT_KEYS = {
    "VALID": "verdict_valid",
    "INVALID": "verdict_invalid",
    "ERROR": "verdict_error",
    "UNDECIDED": "verdict_error",
}

WALLET_RATE = RatePolicy(rate=5.0, burst=30)
"""Per client address on the two public OpenID4VP routes: a wallet needs two requests
per answer; a burst of 30 leaves room for citizens behind one carrier's NAT."""

router = APIRouter(route_class=PortalRoute)
StaffDep = Annotated[StaffSession, Depends(VERIFIER_STAFF)]


def _language(request: Request) -> str:
    return pick_language(request.query_params.get("lang"), request.cookies.get("lang"))


def _page(
    request: Request, template: str, lang: str, staff: StaffSession, status: int = 200, **v: Any
) -> HTMLResponse:
    html = render_page(template, lang, staff, division_of(request), a=ASK_TEXT[lang], **v)
    headers = {**SECURITY_HEADERS, **_PAGE_CACHE, "Content-Security-Policy": page_policy(request)}
    return HTMLResponse(html, status_code=status, headers=headers)


async def _capped_body(request: Request, cap: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > cap:
            raise Problem(ProblemCode.BODY_TOO_LARGE, "the form is too large")
    return bytes(body)


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[0] for name, values in fields.items() if len(values) == 1}


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def wallet_link(request: Request, asked: AskedRequest) -> str:
    """The ``openid4vp://`` link of ``asked`` (the request object by reference)."""
    origin = _origin(request)
    client_id = f"redirect_uri:{origin}/oid4vp/responses/{asked.request_id}"
    request_uri = f"{origin}/oid4vp/requests/{asked.request_id}"
    query = f"client_id={quote(client_id, safe='')}&request_uri={quote(request_uri, safe='')}"
    return f"openid4vp://?{query}"


@router.get("/ask", include_in_schema=False)
def ask_page(request: Request, staff: StaffDep) -> HTMLResponse:
    """The form: which claims to ask for, and why."""
    return _page(request, "ask.html", _language(request), staff, error=None)


@router.post("/ask", include_in_schema=False)
async def create_request(request: Request, staff: StaffDep) -> Response:
    """Create a request bound to this session, purpose and a fresh challenge; 303 to its page."""
    form = _form(await _capped_body(request, _FORM_CAP))
    lang = pick_language(form.get("lang"), None)
    try:
        check_form_csrf(staff, form.get("csrf_token") or None)
    except Problem:
        return _page(request, "ask.html", lang, staff, 403, error="error_csrf")
    try:
        declared = check_declaration(form.get("purpose", ""), form.get("legal_basis", "").strip())
    except Problem:
        return _page(request, "ask.html", lang, staff, 422, error="error_purpose")
    claims = [c.strip() for c in form.get("claims", "").split(",") if c.strip()]
    context = context_of(request)
    if context.verifier is None:
        return _page(request, "ask.html", lang, staff, 503, error="error_unavailable")
    verifier = context.verifier
    try:
        asked = await run_in_threadpool(
            ask, context.db, verifier, staff.session_id, staff_caller(staff), declared, claims
        )
    except RequestRefusedError:
        return _page(request, "ask.html", lang, staff, 422, error="error_claims")
    return RedirectResponse(f"/ask/{asked.request_id}?lang={lang}", status_code=303)


def _own(request: Request, request_id: str, staff: StaffSession) -> AskedRequest:
    try:
        return result_for(context_of(request).db, request_id, staff.session_id)
    except RequestRefusedError:
        raise Problem(ProblemCode.NOT_FOUND, "no such presentation request") from None


def _result_values(outcome: Outcome, asked: AskedRequest, lang: str) -> dict[str, Any]:
    rows = []
    for number, name, status, code in outcome.checks:
        zh, en = CHECK_TITLES.get(Check(number), (name, name))
        rows.append(
            {
                "number": number,
                "title": en if lang == "en" else zh,
                "status": status,
                "code": code,
                "words": reason_words(code, lang),
            }
        )
    verdict = _VERDICT_KEYS.get(outcome.verdict, "verdict_unregistered")
    shown = label(asked.declaration.purpose)
    return {
        "verdict": verdict,
        "verdict_class": verdict.removeprefix("verdict_"),
        "checks": rows,
        "claims": [(claim_label(name, lang), value) for name, value in outcome.claims],
        "certificates": [],
        "issuer": outcome.issuer,
        "anchor_block": None,
        "anchor_time": None,
        "index_height": "-",
        "file": None,
        "file_words": None,
        "paper": False,
        "purpose_words": shown.en if lang == "en" else shown.zh,
        "purpose_code": shown.code,
    }


@router.get("/ask/{request_id}", include_in_schema=False)
def request_page(request: Request, request_id: str, staff: StaffDep) -> HTMLResponse:
    """The QR code and link until the citizen answers; then the result as on the verify page."""
    lang = _language(request)
    asked = _own(request, request_id, staff)
    if asked.result is not None:
        outcome = Outcome.from_json(asked.result)
        return _page(request, "result.html", lang, staff, **_result_values(outcome, asked, lang))
    expires = datetime.fromtimestamp(asked.expires_at_ms / 1000, BEIJING)
    return _page(
        request,
        "ask_wait.html",
        lang,
        staff,
        expired=asked.expires_at_ms <= context_of(request).clock(),
        request_id=asked.request_id,
        link=wallet_link(request, asked),
        claims=asked.claims,
        expires=expires.strftime("%H:%M:%S") + " (UTC+8)",
    )


@router.get("/ask/{request_id}/qr.svg", include_in_schema=False)
def request_qr(request: Request, request_id: str, staff: StaffDep) -> Response:
    """The QR code of the request's ``openid4vp://`` link, as SVG from the page's own origin."""
    import segno

    asked = _own(request, request_id, staff)
    out = io.BytesIO()
    segno.make(wallet_link(request, asked), error="m").save(out, kind="svg", scale=4, border=2)
    return Response(
        out.getvalue(), media_type="image/svg+xml", headers={**SECURITY_HEADERS, **_PAGE_CACHE}
    )


@router.get("/oid4vp/requests/{request_id}/result", include_in_schema=False)
def request_result(request: Request, request_id: str, staff: StaffDep) -> JSONResponse:
    """Whether the citizen has answered (the clerk's own session only; the page shows the rest)."""
    asked = _own(request, request_id, staff)
    return JSONResponse(
        {"answered": asked.result is not None}, headers={**SECURITY_HEADERS, **_PAGE_CACHE}
    )


def _oid4vp_error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _wallet_cors(request: Request, answer: JSONResponse) -> JSONResponse:
    """Let the province's own wallet origin read ``answer`` (docs/wallet.md), no other origin.

    Both routes take simple requests (a GET; a form-encoded POST without custom
    headers), so no preflight route is needed. The worker names the origin in
    ``app.state.wallet_origins`` when the service serves a wallet.
    """
    allowed = getattr(request.app.state, "wallet_origins", ())
    origin = request.headers.get("origin")
    if origin is not None and origin in allowed:
        answer.headers["Access-Control-Allow-Origin"] = origin
    answer.headers["Vary"] = "Origin"
    return answer


def wallet_limiter(request: Request) -> RateLimiter:
    """The app's token buckets for the public OpenID4VP routes, keyed by client address."""
    return app_limiter(request.app.state, "oid4vp_rate", WALLET_RATE)


def _over_rate(request: Request) -> JSONResponse | None:
    """The 429 answer when the caller's address has used its bucket up, else None."""
    # The peer address as the socket saw it: behind a reverse proxy, the proxy's.
    address = request.client.host if request.client is not None else "unknown"
    wait = wallet_limiter(request).take(address)
    if wait <= 0:
        return None
    context_of(request).metrics.rate_limited.inc("wallet")
    return _oid4vp_error(
        429,
        "temporarily_unavailable",
        "too many requests from this address; retry after the time in Retry-After",
        {"Retry-After": retry_after(wait)},
    )


@router.get("/oid4vp/requests/{request_id}", include_in_schema=False)
def request_by_reference(request: Request, request_id: str) -> JSONResponse:
    """The request object (public: it names no person; unsigned, docs/oid4vp.md)."""
    return _wallet_cors(request, _request_by_reference(request, request_id))


def _request_by_reference(request: Request, request_id: str) -> JSONResponse:
    limited = _over_rate(request)
    if limited is not None:
        return limited
    found = None
    if 0 < len(request_id) <= 64:
        found = requests_of(context_of(request).db).get(request_id)
    if found is None or found.answered_at_ms is not None:
        return _oid4vp_error(404, "invalid_request", "no such open presentation request")
    if found.expires_at_ms <= context_of(request).clock():
        return _oid4vp_error(400, "invalid_request", "the presentation request has expired")
    return JSONResponse(
        request_object(found, _origin(request)), headers={"Cache-Control": "no-store"}
    )


@router.post("/oid4vp/responses/{request_id}", include_in_schema=False)
async def direct_post(request: Request, request_id: str) -> JSONResponse:
    """The wallet's ``direct_post`` answer, verified once and audited as the clerk's."""
    return _wallet_cors(request, await _direct_post(request, request_id))


async def _direct_post(request: Request, request_id: str) -> JSONResponse:
    limited = _over_rate(request)
    if limited is not None:
        return limited
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        return _oid4vp_error(400, "invalid_request", "the answer must be form-encoded")
    try:
        body = await _capped_body(request, _RESPONSE_CAP)
    except Problem:
        return _oid4vp_error(413, "invalid_request", "the answer is too large")
    form = _form(body)
    token, state = form.get("vp_token"), form.get("state")
    if not token or not state or len(request_id) > 64:
        return _oid4vp_error(400, "invalid_request", "vp_token and state are required")
    context = context_of(request)
    if context.verifier is None:
        return _oid4vp_error(503, "temporarily_unavailable", "the verifier is not available")
    try:
        outcome = await run_in_threadpool(
            answer,
            context.db,
            context.audit_log,
            context.verifier,
            request_id,
            token,
            state,
            request_id_for(request),
            now_ms=context.clock(),
        )
    except RequestRefusedError as refused:
        status = 404 if refused.reason == "unknown" else 400
        return _oid4vp_error(status, "invalid_request", f"refused: {refused.reason}")
    except AccessNotRecordedError:
        return _oid4vp_error(503, "temporarily_unavailable", "the answer could not be recorded")
    return JSONResponse({"tongban_verdict": outcome.verdict}, headers={"Cache-Control": "no-store"})
