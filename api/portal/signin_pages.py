"""The sign-in's pages in the portal's layout: a refused sign-in, and signed out.

``GET /signed-out``: where sign-out lands (directly, or back from the identity
provider's RP-Initiated Logout as its ``post_logout_redirect_uri``); public,
it names nobody. A refused sign-in (``api.http.signin.SigninRefused``) asked
for by a browser is answered by ``refusal_page``, registered with the sign-in
package when this module is imported: the title, what happened and what to do
for its ``RefusalKind``, the status kept (403, or 503 when the provider is
unreachable). ``GET /signin/refused?reason=<kind>`` is the same page, for the
language switch (the callback itself cannot be reloaded). Neither page shows a
name, a subject or anything the provider sent.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.errors import ProblemCode
from api.http.problems import Problem, request_id_of
from api.http.signin.refusal import RefusalKind, render_refusals_with
from api.portal.labels import pick_language
from api.portal.pages import SECURITY_HEADERS, PortalRoute, division_of, page_policy, render_page
from api.portal.signin_text import SIGNIN_TEXT

__all__ = ["REFUSED_PATH", "SIGNED_OUT_PATH", "refusal_page", "router"]

SIGNED_OUT_PATH = "/signed-out"
REFUSED_PATH = "/signin/refused"
_PAGE_CACHE = {"Cache-Control": "no-store"}

router = APIRouter(route_class=PortalRoute)


def _language(request: Request) -> str:
    return pick_language(request.query_params.get("lang"), request.cookies.get("lang"))


def _page(request: Request, status: int, switch_href: str, **values: object) -> HTMLResponse:
    lang = _language(request)
    other = "en" if lang == "zh" else "zh"
    html = render_page(
        "signin_status.html",
        lang,
        None,  # never the staff member's name: this page is about not being signed in
        division_of(request),
        s=SIGNIN_TEXT[lang],
        switch_href=f"{switch_href}{'&' if '?' in switch_href else '?'}lang={other}",
        **values,
    )
    headers = {**SECURITY_HEADERS, **_PAGE_CACHE, "Content-Security-Policy": page_policy(request)}
    return HTMLResponse(html, status_code=status, headers=headers)


def refusal_page(request: Request, kind: RefusalKind, status: int) -> HTMLResponse:
    """The page of a refused sign-in of ``kind``, with HTTP ``status``."""
    return _page(
        request,
        status,
        f"{REFUSED_PATH}?{urlencode({'reason': kind.value})}",
        kind=kind.value,
        key=kind.value,
        request_id=request_id_of(request),
        other_account=kind is RefusalKind.NO_ROLE,
    )


@router.get(REFUSED_PATH, include_in_schema=False)
def refused(request: Request) -> HTMLResponse:
    """The refusal page of ``reason`` (for the language switch): 403, or 503 if unavailable."""
    try:
        kind = RefusalKind(request.query_params.get("reason", ""))
    except ValueError:
        raise Problem(ProblemCode.NOT_FOUND, "no such sign-in refusal") from None
    return refusal_page(request, kind, 503 if kind is RefusalKind.UNAVAILABLE else 403)


@router.get(SIGNED_OUT_PATH, include_in_schema=False)
def signed_out(request: Request) -> HTMLResponse:
    """Signed out: the session has ended on the server; sign in again."""
    return _page(
        request,
        200,
        SIGNED_OUT_PATH,
        kind=None,
        key="signed_out",
        request_id=None,
        other_account=False,
    )


render_refusals_with(refusal_page)
