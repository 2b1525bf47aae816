"""Who may open a console page, and the page's rendering (``api.portal`` layout, CSP, words).

``CONSOLE_STAFF`` asks the sign-in package for any signed-in staff member
(``require_staff()``): unsigned, a page request goes to ``/signin``. The role is
checked here, not by ``require_staff(role)``, so that a refusal is recorded as
the API records one (``api.http.auth.log_denied``: an ``api.denied`` event with
the staff member as actor) before the portal's 403 page is shown.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from api.errors import ProblemCode
from api.http.auth import log_denied
from api.http.deps import context_of, request_id_for
from api.http.problems import Problem
from api.http.signin import StaffSession, require_staff
from api.http.signin.session import signin_of
from api.portal.console.node import AuditorNode, connect_policy
from api.portal.console.words import words
from api.portal.labels import pick_language
from api.portal.pages import SECURITY_HEADERS, division_of, page_policy, render_page
from api.portal.staff import staff_caller
from api.province.clients import Role

__all__ = [
    "AUDITOR",
    "CONSOLE_STAFF",
    "OPERATOR",
    "ConsoleStaffDep",
    "language",
    "render_console",
    "require_role",
]

AUDITOR = str(Role.AUDITOR)
"""The role of the audit console."""
OPERATOR = str(Role.OPERATOR)
"""The role of the operator console."""

_ANY_STAFF = require_staff()


def CONSOLE_STAFF(request: Request) -> StaffSession:  # noqa: N802 - a dependency, named as one
    """Any signed-in staff member (the role is checked by ``require_role``)."""
    if signin_of(request) is None:
        raise Problem(ProblemCode.UNAVAILABLE, "staff sign-in is not configured in this service")
    return _ANY_STAFF(request)


ConsoleStaffDep = Annotated[StaffSession, Depends(CONSOLE_STAFF)]


def require_role(request: Request, staff: StaffSession, role: str) -> None:
    """Refuse ``staff`` without ``role``: an ``api.denied`` event, then the 403 problem."""
    if role in staff.roles:
        return
    context = context_of(request)
    log_denied(context, staff_caller(staff), request_id_for(request))
    context.metrics.denied.inc("forbidden")
    raise Problem(ProblemCode.FORBIDDEN, "your roles do not allow this console")


def language(request: Request, form_value: str | None = None) -> str:
    """The page's language: a form's ``lang``, then ``?lang=``, then the cookie, else zh."""
    if form_value in ("zh", "en"):
        return str(form_value)
    return pick_language(request.query_params.get("lang"), request.cookies.get("lang"))


def render_console(
    request: Request,
    template: str,
    staff: StaffSession,
    lang: str,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A console page in the portal's layout, with its security headers and ``no-store``.

    A page given ``node`` (the auditor's ``AuditorNode`` or None) runs the in-browser
    proof check: its CSP lets the page reach that node's origin, and no other page's does.
    """
    other = "en" if lang == "zh" else "zh"
    path = request.url.path
    if request.method != "GET":
        # A form's answer has no address of its own: the switch leads to its console.
        path = "/console/audit" if path.startswith("/console/audit") else "/console/operator"
    page = render_page(
        template,
        lang,
        staff,
        division_of(request),
        w=words(lang),
        switch_href=f"{path}?lang={other}",
        **values,
    )
    headers = {
        **SECURITY_HEADERS,
        "Cache-Control": "no-store",
        "Content-Security-Policy": page_policy(request),
    }
    node = values.get("node")
    if isinstance(node, AuditorNode):
        headers["Content-Security-Policy"] = connect_policy(page_policy(request), node)
    response = HTMLResponse(page, status_code=status, headers=headers)
    if request.query_params.get("lang") == lang:
        secure = request.url.scheme == "https"
        response.set_cookie(
            "lang", lang, max_age=31536000, samesite="lax", httponly=True, secure=secure
        )
    return response
