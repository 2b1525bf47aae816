"""The portal's routes: ``GET /`` and ``POST /`` (the verifier page), ``GET /static/{name}``.

Server-rendered (Jinja2, autoescaped) pages that work as plain forms; the ES module
under ``static/`` only adds drag-and-drop and the camera. Every page and file goes
out with ``SECURITY_HEADERS`` (strict CSP: nothing inline, no eval, nothing from
elsewhere). A page's data comes in a POST body and its result is the POST's own
answer: nothing personal in a URL; pages are ``no-store``. Static files are named
by their content's SM3 digest (``portal.<hash>.css``) and cached for a year.
On the portal's routes (``PortalRoute``) a 403 or 404 problem asked for by a
browser (``Accept: text/html``) is answered by ``error_page``, status kept.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.errors import ProblemCode
from api.http.auth import check_declaration
from api.http.deps import context_of, request_id_for
from api.http.problems import Problem
from api.http.signin import StaffSession
from api.http.signin.session import staff_session
from api.http.uploads import FormParts, read_form
from api.portal.labels import CHECK_TITLES, claim_label, pick_language, text
from api.portal.reasons_i18n import reason_words
from api.portal.staff import VERIFIER_STAFF, check_form_csrf, staff_caller
from api.portal.verify_form import (
    PageInputError,
    Submitted,
    Verified,
    run_verification,
    verdict_key,
)
from api.province.access import AccessNotRecordedError
from api.webwallet import AUDITPROOF_MODULE
from credentials.file_binding import MAX_FILE_BYTES
from credentials.purposes import CATEGORIES, PURPOSES, label
from credentials.reasons import Check
from credentials.verify.vcapi import Malformed
from credentials.zhengzhao.division import province_name
from ledger.crypto.sm3 import sm3_hex

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "SECURITY_HEADERS",
    "STATIC_FILES",
    "PortalRoute",
    "error_page",
    "page_policy",
    "render_page",
    "result_values",
    "router",
]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
"""Nothing inline, no eval, nothing from another origin; no framing.

A page's forms may also lead to the identity provider (sign-out ends on the
provider's sign-in, a redirect ``form-action`` governs): ``page_policy``.
"""

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}
"""The headers of every portal page and static file."""

_PAGE_CACHE = {"Cache-Control": "no-store"}
_STATIC_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}
_HERE = Path(__file__).resolve().parent
_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
_DEFAULT_LEGAL_BASIS = "prc.pipl.art13"
_FORM_TEXT_CAP = 64 * 1024


@dataclass(frozen=True)
class StaticFile:
    """One static file: its served name, bytes and media type."""

    name: str
    data: bytes
    media_type: str


def _static_files() -> dict[str, StaticFile]:
    files: dict[str, StaticFile] = {}
    # The audit console's in-browser proof check runs the wallet's committed bundle.
    sources = [*sorted((_HERE / "static").iterdir()), AUDITPROOF_MODULE]
    for path in sources:
        if path.suffix not in _TYPES:
            continue
        data = path.read_bytes()
        served = f"{path.stem}.{sm3_hex(data)[:16]}{path.suffix}"
        files[path.name] = StaticFile(served, data, _TYPES[path.suffix])
    return files


STATIC_FILES = _static_files()
"""The static files by source name (``portal.css``), each with its hashed served name."""
_BY_SERVED = {f.name: f for f in STATIC_FILES.values()}

_ENV = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.globals["asset"] = lambda name: f"/static/{STATIC_FILES[name].name}"

_ERROR_PAGES = {
    403: ("page_forbidden_title", "page_forbidden"),
    404: ("page_not_found_title", "page_not_found"),
}


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int) -> HTMLResponse:
    """The 403 or 404 of a portal page as a page: the portal's layout, headers and CSP.

    The problem's own words are not shown (they are for API clients); the page
    says what the staff member can do, in their language.
    """
    title_key, body_key = _ERROR_PAGES[status]
    page = render_page(
        "error.html",
        _language(request),
        staff_session(request),
        division_of(request),
        title_key=title_key,
        body_key=body_key,
        status=status,
    )
    headers = {**SECURITY_HEADERS, **_PAGE_CACHE, "Content-Security-Policy": page_policy(request)}
    return HTMLResponse(page, status_code=status, headers=headers)


class PortalRoute(APIRoute):
    """A portal route: a 403 or 404 problem (its dependencies' too) is a page for a browser.

    Only when the request accepts HTML; the wallet's and the page script's JSON
    requests, and every API route, keep their JSON problems.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, answering a page request's 403/404 problem with ``error_page``."""
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Problem as refused:
                if refused.status in _ERROR_PAGES and _wants_page(request):
                    return error_page(request, refused.status)
                raise

        return handle


router = APIRouter(route_class=PortalRoute)
StaffDep = Annotated[StaffSession, Depends(VERIFIER_STAFF)]


def _language(request: Request) -> str:
    return pick_language(request.query_params.get("lang"), request.cookies.get("lang"))


def _purposes(lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The purposes a staff member may declare, grouped by category, in catalogue order."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for purpose in PURPOSES.values():
        if purpose.issued_by_tongban:
            continue
        category = CATEGORIES[purpose.category]
        name = category.en if lang == "en" else category.zh
        groups.setdefault(name, []).append(
            (purpose.code, purpose.en if lang == "en" else purpose.zh)
        )
    return list(groups.items())


def page_policy(request: Request) -> str:
    """The page's CSP: ``CONTENT_SECURITY_POLICY`` and, with staff sign-in, the provider.

    The provider's origin is then allowed as a form's destination (sign-out ends there).
    """
    signin = getattr(request.app.state, "signin", None)
    issuer = getattr(getattr(signin, "config", None), "issuer", None)
    if not isinstance(issuer, str):
        return CONTENT_SECURITY_POLICY
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {origin}")


def division_of(request: Request) -> str:
    """The GB/T 2260 code of the province serving ``request`` (its sign-in organisation).

    Without staff sign-in the pages only say so; the issuer id stands in there.
    """
    signin = getattr(request.app.state, "signin", None)
    organisation = getattr(getattr(signin, "config", None), "organisation", None)
    return organisation if isinstance(organisation, str) else str(context_of(request).issuer_id)


def _province_label(division: str, lang: str) -> str:
    name = province_name(division, lang) if division.isdigit() and len(division) == 6 else None
    if name is None:
        return division
    return f"{name} · {division}"


def render_page(
    template: str, lang: str, staff: StaffSession | None, division: str, **values: Any
) -> str:
    """The HTML of page ``template`` in ``lang`` for ``staff`` at the province ``division``."""
    province = _province_label(division, lang)
    return _ENV.get_template(template).render(
        t=text(lang),
        lang=lang,
        other="en" if lang == "zh" else "zh",
        staff=staff,
        province=province,
        purposes=_purposes(lang),
        default_basis=_DEFAULT_LEGAL_BASIS,
        **values,
    )


def result_values(verified: Verified, lang: str, purpose: str) -> dict[str, Any]:
    """What the result page shows of ``verified``, in ``lang``."""
    result = verified.checked.result
    shown = label(purpose)
    return {
        "verdict": verdict_key(verified),
        "verdict_class": verdict_key(verified).removeprefix("verdict_"),
        "checks": _check_rows(verified, lang),
        "claims": [(claim_label(name, lang), value) for name, value in verified.claims],
        "certificates": list(result.certificates),
        "issuer": verified.issuer,
        "anchor_block": verified.anchor_block,
        "anchor_time": verified.anchor_time,
        "index_height": result.index_height,
        "file": verified.file,
        "file_words": None
        if verified.file is None
        else reason_words(verified.file["reason"], lang),
        "paper": verified.on_paper,
        "purpose_words": shown.en if lang == "en" else shown.zh,
        "purpose_code": shown.code,
    }


def _render(
    request: Request,
    template: str,
    lang: str,
    staff: StaffSession,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    page = render_page(template, lang, staff, division_of(request), **values)
    headers = {**SECURITY_HEADERS, **_PAGE_CACHE, "Content-Security-Policy": page_policy(request)}
    response = HTMLResponse(page, status_code=status, headers=headers)
    if request.query_params.get("lang") == lang:
        secure = request.url.scheme == "https"
        response.set_cookie(
            "lang", lang, max_age=31536000, samesite="lax", httponly=True, secure=secure
        )
    return response


@router.get("/", include_in_schema=False)
def verifier_page(request: Request, staff: StaffDep) -> HTMLResponse:
    """The verifier page: paste, drop or upload a credential, choose the purpose, verify."""
    return _render(request, "verify.html", _language(request), staff, error=None, chosen=None)


_PARTS = ("csrf_token", "lang", "purpose", "legal_basis", "text", "upload", "certificate")


def _form_parts(request: Request) -> FormParts:
    caps = {name: 256 for name in _PARTS}
    caps.update(text=_FORM_TEXT_CAP, upload=MAX_FILE_BYTES, certificate=MAX_FILE_BYTES)
    caps["text"] = context_of(request).limits.batch_body_bytes
    return FormParts(caps, sum(caps.values()) + 64 * 1024)


def _string(data: bytearray) -> str:
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise PageInputError("error_not_json") from None


def _check_rows(verified: Verified, lang: str) -> list[dict[str, Any]]:
    rows = []
    for check in verified.checked.result.checks:
        zh, en = CHECK_TITLES.get(Check(check.number), (check.name, check.name))
        rows.append(
            {
                "number": check.number,
                "title": en if lang == "en" else zh,
                "status": check.status.value,
                "code": check.reason_code,
                "words": reason_words(check.reason_code, lang),
            }
        )
    return rows


@router.post("/", include_in_schema=False)
async def verify_on_page(request: Request, staff: StaffDep) -> HTMLResponse:
    """The form's verification: CSRF-checked, audited as the API's, answered in this response."""
    try:
        parts = await read_form(request, _form_parts(request))
    except Problem as refused:
        # Not the page's form (or over its caps): answered as a page, naming no content.
        key = "error_too_large" if refused.status == 413 else "error_bad_form"
        return _render(
            request,
            "verify.html",
            _language(request),
            staff,
            refused.status,
            error=key,
            chosen=None,
        )
    try:
        check_form_csrf(staff, _string(parts["csrf_token"].data) or None)
        lang = pick_language(_string(parts["lang"].data), None)
        purpose = _string(parts["purpose"].data)
        basis = _string(parts["legal_basis"].data).strip()
    except (Problem, PageInputError):
        return _render(
            request, "verify.html", _language(request), staff, 403, error="error_csrf", chosen=None
        )
    context = context_of(request)
    try:
        declared = check_declaration(purpose, basis)
    except Problem:
        return _render(request, "verify.html", lang, staff, 422, error="error_purpose", chosen=None)
    submitted = Submitted(
        text=_string(parts["text"].data),
        upload=bytes(parts["upload"].data),
        certificate=bytes(parts["certificate"].data),
        declaration=declared,
    )
    del parts
    caller = staff_caller(staff)
    try:
        verified = await run_in_threadpool(
            run_verification, context, caller, request_id_for(request), submitted
        )
    except PageInputError as error:
        return _render(request, "verify.html", lang, staff, 422, error=error.key, chosen=purpose)
    except AccessNotRecordedError:
        # A verdict whose access event is not recorded is not given (as the API: 503).
        return _render(request, "verify.html", lang, staff, 503, error="error_unavailable")
    if isinstance(verified, Malformed):
        return _render(
            request,
            "verify.html",
            lang,
            staff,
            422,
            error="error_malformed",
            pointers=[p.pointer for p in verified.problems[:5]],
            chosen=purpose,
        )
    if not verified.checked.decided:
        return _render(request, "verify.html", lang, staff, 503, error="error_unavailable")
    return _render(
        request, "result.html", lang, staff, **result_values(verified, lang, declared.purpose)
    )


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str) -> Response:
    """A static file by its hashed name (404 for anything else: no path is ever joined)."""
    found = _BY_SERVED.get(name)
    if found is None:
        raise Problem(ProblemCode.NOT_FOUND, "no such static file")
    return Response(
        found.data, media_type=found.media_type, headers={**SECURITY_HEADERS, **_STATIC_CACHE}
    )
