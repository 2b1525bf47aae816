"""Per-request plumbing: the request id, access log, metrics, safe headers, the last-resort 500.

Every request gets a server-made id (``X-Request-Id`` on the response, the
``requestId`` of the access events it causes); a caller cannot choose it.

The access log line (logger ``tongban.access``) carries the method, the
*route template* (``/audit/events/{index}``, never the raw path), status,
duration, request id and authenticated client id. Query strings and bodies
are never logged: personal data must not reach logs through URLs either.

An exception no handler took is answered with a bare 500 problem here, and
not re-raised: re-raising would let the server log its message and stack.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.deps import new_request_id
from api.http.metrics import Metrics
from api.http.problems import internal_error_response

__all__ = ["UNMATCHED_ROUTE", "RequestContextMiddleware", "route_template"]

access_log = logging.getLogger("tongban.access")
log = logging.getLogger(__name__)

UNMATCHED_ROUTE = "unmatched"
"""Route label of requests no route matched (keeps the metric's labels bounded)."""

_SAFE_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
)


def route_template(scope: Scope) -> str:
    """The matched route's path template, or ``unmatched``."""
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
