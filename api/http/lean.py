"""Lean routes: a hot route served by one plain ``request -> response`` function.

FastAPI solves a route's dependencies per request (signature introspection,
sub-dependencies, header models): on ``POST /credentials/verify`` that cost
about as much as the route's own work. A ``LeanRoute`` keeps the endpoint
declared as usual, with its ``Depends`` parameters, so the OpenAPI document,
the roles published as ``x-roles`` and every route test see the same route;
but requests go to the handler registered for the endpoint with ``lean``,
which makes the same checks as plain calls, in the same order (the caller's
token and role, the declaration headers, the body) and returns the response.
The handler runs inside the app's middleware and problem handlers, like any
route, so request ids, metrics and problem details are unchanged.

An endpoint without a registered handler is served by FastAPI as usual.

``json_response`` serializes an answer once, straight to bytes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["LeanHandler", "LeanRoute", "json_response", "lean"]

LeanHandler = Callable[[Request], Awaitable[Response]]
"""Serves one request of a lean route: every check of the endpoint's dependencies included."""

E = TypeVar("E", bound=Callable[..., Any])

_HANDLERS: dict[Callable[..., Any], LeanHandler] = {}

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def lean(handler: LeanHandler) -> Callable[[E], E]:
    """Decorate an endpoint (under its route decorator) to serve it with ``handler``."""

    def register(endpoint: E) -> E:
        _HANDLERS[endpoint] = handler
        return endpoint

    return register


class LeanRoute(APIRoute):
    """An ``APIRoute`` whose requests go to its endpoint's ``lean`` handler, if it has one."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The lean handler, or FastAPI's own (dependencies solved per request)."""
        handler = _HANDLERS.get(self.endpoint)
        if handler is None:
            return super().get_route_handler()

        async def serve(request: Request) -> Response:
            return await handler(request)

        return serve


def json_response(document: Any, status_code: int = 200) -> Response:
    """``document`` as ``application/json``, encoded once (what ``JSONResponse`` sends)."""
    return Response(
        _ENCODER.encode(document).encode("utf-8"),
        status_code=status_code,
        media_type="application/json",
    )
