"""Per-request plumbing: the request id, access log, metrics, safe headers, the last-resort 500.

Every request gets a server-made id (``X-Request-Id`` on the response, the
``requestId`` of the access events it causes); a caller cannot choose it.

The access log line (logger ``tongban.access``) carries the method, the
*route template* (``/audit/events/{index}``, never the raw path), status,
duration, request id and authenticated client id. Query strings and bodies
are never logged: personal data must not reach logs through URLs either.

An exception no handler took is answered with a bare 500 problem here, and
not re-raised: re-raising would let the server log its message and stack.

Two answers are decided here rather than by a route:

- ``MethodGuard``: a path that is a route's literal path (``/credentials/issue``)
  asked with a method none of that path's routes takes is 405
  ``method-not-allowed`` with ``Allow`` listing every method of that path.
  Without it the router would hand ``GET /credentials/issue`` to the template
  ``GET /credentials/{digest}`` (a 401 or 422 about a digest nobody sent);
  OpenAPI matches concrete paths before templated ones, and so does this.
- a request whose framing the HTTP server could not parse (a malformed
  ``Content-Length``, a bad request line): the server's protocol
  (``api.runtime.worker``) calls the app with a scope carrying the extension
  ``FRAMING_ERROR`` and writes what the app answers, a 400 ``bad-request``
  problem with the usual headers, counted and logged like any request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ProblemCode
from api.http.deps import new_request_id
from api.http.metrics import Metrics
from api.http.problems import internal_error_response, problem_response

__all__ = [
    "FRAMING_ERROR",
    "MALFORMED_ROUTE",
    "UNMATCHED_ROUTE",
    "MethodGuard",
    "RequestContextMiddleware",
    "route_template",
]

access_log = logging.getLogger("tongban.access")
log = logging.getLogger(__name__)

UNMATCHED_ROUTE = "unmatched"
"""Route label of requests no route matched (keeps the metric's labels bounded)."""

MALFORMED_ROUTE = "malformed"
"""Route label of requests the HTTP server could not parse (``FRAMING_ERROR``)."""

FRAMING_ERROR = "tongban.framing_error"
"""Scope extension: the server could not parse the request; answer 400 ``bad-request``."""

_FRAMING_DETAIL = (
    "the request is malformed HTTP (request line, a header such as Content-Length, "
    "or the chunked body)"
)

_CLOSE = {"Connection": "close"}

_SAFE_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
)


def route_template(scope: Scope) -> str:
    """The matched route's path template, or ``unmatched`` (``malformed``: see the module)."""
    if FRAMING_ERROR in scope.get("extensions", {}):
        return MALFORMED_ROUTE
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class RequestContextMiddleware:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        """Wrap ``app``, counting requests in ``metrics``."""
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request (other scope types pass through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started_at = time.perf_counter()
        status = 500
        started = False
        recorded = False

        def record() -> None:
            # Called before the last body chunk goes out, so the request is counted
            # and logged by the time the client has its whole answer.
            nonlocal recorded
            if recorded:
                return
            recorded = True
            seconds = time.perf_counter() - started_at
            route = route_template(scope)
            self.metrics.observe_request(route, status, seconds)
            access_log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "request_id": request_id,
                    "client_id": scope.get("state", {}).get("client_id"),
                },
            )

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
                for name, value in _SAFE_HEADERS:
                    if name not in headers:
                        headers[name] = value
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                record()
            await send(message)

        try:
            if FRAMING_ERROR in scope.get("extensions", {}):
                malformed = problem_response(
                    request_id, ProblemCode.BAD_REQUEST, _FRAMING_DETAIL, headers=_CLOSE
                )
                await malformed(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # noqa: BLE001 - the last resort, see the module docstring
            if started:
                log.error(
                    "response failed after it started",
                    extra={"error": type(exc).__name__, "request_id": request_id},
                )
            else:
                response = internal_error_response(request_id, exc)
                await response(scope, receive, send_with_headers)
        finally:
            record()


class _Path:
    """A literal path's methods, and a route object whose ``path`` labels its metrics."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.methods: set[str] = set()


class MethodGuard:
    """Pure ASGI middleware: 405 for a literal route path asked with another method.

    ``routes`` is the app's live route list (routes added later are seen).
    """

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        """Guard ``app``, whose routes are ``routes``."""
        self.app = app
        self.routes = routes
        self._seen = -1
        self._literal: dict[str, _Path] = {}

    def _paths(self) -> dict[str, _Path]:
        if self._seen != len(self.routes):
            literal: dict[str, _Path] = {}
            for route in iter_route_contexts(self.routes):
                path = route.path_format
                if path is None or "{" in path:
                    continue
                literal.setdefault(path, _Path(path)).methods.update(route.methods or ())
            self._literal = literal
            self._seen = len(self.routes)
        return self._literal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 405 here, or pass the request on."""
        if scope["type"] == "http":
            known = self._paths().get(scope["path"])
            if known is not None and known.methods and scope["method"] not in known.methods:
                scope["route"] = known
                request_id = scope.get("state", {}).get("request_id")
                allow = ", ".join(sorted(known.methods))
                response = problem_response(
                    request_id,
                    ProblemCode.METHOD_NOT_ALLOWED,
                    "this path does not take that method; see Allow",
                    headers={"Allow": allow},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
