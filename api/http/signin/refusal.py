"""A refused sign-in as a typed error: the problem for API clients, a page for a browser.

The sign-in routes raise ``SigninRefused``: a ``Problem`` (so every API
client keeps the RFC 9457 JSON) that also names the ``RefusalKind``, the one
thing a page needs to say what happened and what to do. This package renders
no HTML (the portal's layout lives above it, ``api.portal``): the portal hands
its page to ``render_refusals_with`` when it is imported, and the handler
``install_signin`` registers answers a browser's request (``Accept:
text/html``) with that page, status kept. Without a page, the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from fastapi import Request
from fastapi.responses import Response

from api.errors import ProblemCode
from api.http.problems import Problem, problem_response, request_id_of

__all__ = ["RefusalKind", "RefusalPage", "SigninRefused", "render_refusals_with"]


class RefusalKind(StrEnum):
    """Why a sign-in ended without a session, in the words a page can act on."""

    NO_ROLE = "no-role"
    """The provider signed the person in; their groups map to no Tongban role."""
    NOT_STARTED = "not-started"
    """No sign-in in progress in this browser (expired, used up, or started elsewhere)."""
    PROVIDER_REFUSED = "provider-refused"
    """The identity provider answered with an error (cancelled, unknown account...)."""
    UNTRUSTED = "untrusted"
    """The answer failed a check (state, issuer, nonce, token, replay, code exchange)."""
    UNAVAILABLE = "unavailable"
    """The identity provider could not be reached."""


class SigninRefused(Problem):
    """A refused sign-in: a ``forbidden`` (or ``unavailable``) problem and its ``kind``."""

    def __init__(
        self, kind: RefusalKind, detail: str, code: ProblemCode = ProblemCode.FORBIDDEN
    ) -> None:
        """Refuse with ``detail`` (names no person and echoes nothing sent)."""
        super().__init__(code, detail)
        self.kind = kind


RefusalPage = Callable[[Request, RefusalKind, int], Response]
"""Renders the page of a refusal of ``kind`` with HTTP status ``status``."""

_pages: list[RefusalPage] = []


def render_refusals_with(page: RefusalPage) -> None:
    """Answer browsers' refused sign-ins with ``page`` (the portal calls this once)."""
    _pages[:] = [page]


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def answer_refusal(request: Request, exc: Exception) -> Response:
    """The exception handler of ``SigninRefused``: the page for a browser, else the problem."""
    assert isinstance(exc, SigninRefused)  # noqa: S101 - registered for this class only
    if _pages and _wants_page(request):
        return _pages[0](request, exc.kind, exc.status)
    headers = {"Retry-After": "30"} if exc.status == 503 else {}
    return problem_response(
        request_id_of(request), exc.code, exc.detail, status=exc.status, headers=headers
    )
