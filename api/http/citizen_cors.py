"""CORS for the citizen's routes only, and the consortium directory at a well-known URL.

A citizen's browser wallet (its own origin, docs/wallet.md) asks every province of the
consortium who accessed its holder's data (docs/citizen-timeline.md). Browsers let that page
read another origin's answers only when the answer names the page's origin, so:

- ``POST /citizen/challenge`` and ``POST /citizen/access-history`` answer preflights and name
  the caller's ``Origin`` in ``Access-Control-Allow-Origin`` when it is one of the wallet
  origins the service allows: its own wallet (``app.state.wallet_origins``) and those the
  runtime names in ``app.state.citizen_origins`` (a setting, and every ``walletOrigin`` of the
  consortium directory). Never ``*``: the answer is the holder's access history, and an origin
  list keeps it to wallets the consortium vouches for even if a page elsewhere gets a
  holder's key to sign with; it also keeps other sites from spending the shared citizens' rate
  bucket from visitors' browsers. No ``Access-Control-Allow-Credentials``: the holder's
  signature is the authentication, never a cookie.
- ``GET /.well-known/tongban-directory.json`` answers ``*``: the directory is public, signed
  and personal-data free, and any wallet must be able to fetch it.
- Every other route sends no CORS header, preflight or not (a preflight there gets what it
  would get without this module: the method guard's 405 or the route's own answer).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ProblemCode
from api.http.problems import Problem, problem_responses

__all__ = [
    "CITIZEN_PATHS",
    "DIRECTORY_MEDIA_TYPE",
    "DIRECTORY_PATH",
    "CitizenCors",
    "allowed_origins",
    "directory_router",
]

CITIZEN_PATHS = frozenset({"/citizen/challenge", "/citizen/access-history"})
"""The routes a wallet on another origin may call."""

DIRECTORY_PATH = "/.well-known/tongban-directory.json"
"""Where the consortium directory is served, to any origin."""

DIRECTORY_MEDIA_TYPE = "application/json"
"""The directory's media type (a JSON document)."""

_ALLOWED_HEADERS = frozenset({"content-type", "accept", "accept-language"})
_PREFLIGHT_MAX_AGE = "600"


def allowed_origins(app: Any) -> frozenset[str]:
    """The origins allowed on the citizen routes, as the runtime set them on ``app.state``."""
    state = getattr(app, "state", None)
    own = getattr(state, "wallet_origins", ())
    others = getattr(state, "citizen_origins", ())
    return frozenset(origin for origin in (*own, *others) if isinstance(origin, str))


def _preflight_headers(origin: str, requested: str) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-methods", b"POST"),
        (b"access-control-max-age", _PREFLIGHT_MAX_AGE.encode()),
        (b"vary", b"Origin"),
    ]
    if requested:
        headers.append((b"access-control-allow-headers", b"Content-Type"))
    return headers


class CitizenCors:
    """Pure ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a citizen route's preflight here; add the CORS headers to their answers."""
        path = scope.get("path") if scope["type"] == "http" else None
        if path not in CITIZEN_PATHS and path != DIRECTORY_PATH:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if path == DIRECTORY_PATH:
            allow = "*" if origin is not None else None
        else:
            allow = origin if origin in allowed_origins(scope.get("app")) else None
        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in headers
        if preflight and path in CITIZEN_PATHS:
            await self._preflight(send, allow, headers)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if path in CITIZEN_PATHS:
                    out.append("Vary", "Origin")
                if allow is not None:
                    out["Access-Control-Allow-Origin"] = allow
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    async def _preflight(send: Send, allow: str | None, headers: Headers) -> None:
        method = headers.get("access-control-request-method", "")
        requested = {
            name.strip().lower()
            for name in headers.get("access-control-request-headers", "").split(",")
            if name.strip()
        }
        if allow is None or method != "POST" or not requested <= _ALLOWED_HEADERS:
            # Answered, but naming no origin: the browser refuses the real request.
            out = [(b"vary", b"Origin"), (b"content-length", b"0")]
        else:
            out = [
                *_preflight_headers(allow, ",".join(sorted(requested))),
                (b"content-length", b"0"),
            ]
        await send({"type": "http.response.start", "status": 204, "headers": out})
        await send({"type": "http.response.body", "body": b""})


directory_router = APIRouter(tags=["citizen"])
"""``GET /.well-known/tongban-directory.json``: the consortium directory, as configured."""


@directory_router.get(
    DIRECTORY_PATH,
    summary="The signed consortium directory: every province's URLs (public, any origin)",
    # Like the OpenID well-known documents: described in docs/citizen-timeline.md, not among
    # the API's operations (no roles, no problem table of its own).
    include_in_schema=False,
    response_class=Response,
    responses={
        200: {
            "description": "The directory as signed (TongbanConsortiumDirectory/v1)",
            "content": {DIRECTORY_MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        **problem_responses(404),
    },
)
def consortium_directory(request: Request) -> Response:
    """The directory file the runtime loaded, byte for byte (its signatures cover it)."""
    document = getattr(request.app.state, "consortium_directory", None)
    if not isinstance(document, bytes):
        raise Problem(ProblemCode.NOT_FOUND, "this province publishes no consortium directory")
    return Response(
        document,
        media_type=DIRECTORY_MEDIA_TYPE,
        headers={"Cache-Control": "public, max-age=300"},
    )
