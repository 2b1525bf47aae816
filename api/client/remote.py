"""A small HTTP client for a province's API, used by the command line (``tongban issue`` ...).

``RemoteApi(url, token)`` sends JSON (or bytes the caller encoded, with their
``Content-Type``) with the bearer token and returns the decoded answer; a problem
details answer raises ``RemoteApiError`` carrying its status, ``code`` and
``detail`` (which never quote personal data, so the message is safe to print).
Only the standard library's ``http.client``: the command line needs no extra
dependency.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["RemoteApi", "RemoteApiError", "RemoteReply"]

_TIMEOUT = 30.0


class RemoteApiError(Exception):
    """The API refused the request (a problem details answer) or could not be reached."""

    def __init__(
        self, status: int, code: str, detail: str, errors: tuple[tuple[str, str], ...] = ()
    ) -> None:
        """A refusal with HTTP ``status`` (0: not reached), problem ``code`` and ``detail``.

        ``errors`` are the problem's ``(field, rule)`` pairs (validation problems): the
        server never echoes a value in them, so the message may name them.
        """
        message = f"{detail} ({status} {code})" if status else detail
        if errors:
            message += ": " + "; ".join(f"{field}: {rule}" for field, rule in errors)
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors


@dataclass(frozen=True)
class RemoteReply:
    """A successful answer: status, headers and the decoded JSON body (None if empty)."""

    status: int
    headers: Mapping[str, str]
    body: Any


class RemoteApi:
    """One province API at ``url`` (``http://`` or ``https://``), as one client."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = _TIMEOUT) -> None:
        """Talk to ``url`` with bearer ``token`` (None: unauthenticated routes only)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteApiError(0, "bad-url", "the API URL must be http(s)://host[:port]")
        self.url = url.rstrip("/")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._base = parts.path.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _connection(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _headers(self, headers: Mapping[str, str] | None, has_body: bool) -> dict[str, str]:
        sent = {"Accept": "application/json, application/problem+json"}
        if has_body:
            sent["Content-Type"] = "application/json"
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        sent.update(headers or {})
        return sent

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        headers: Mapping[str, str] | None,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        # Bytes are a body the caller encoded (a multipart upload): its headers say what.
        if isinstance(body, bytes) or body is None:
            data = body
        else:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        connection = self._connection()
        try:
            connection.request(
                method,
                self._base + path,
                body=data,
                headers=self._headers(headers, data is not None),
            )
            return connection, connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise self._no_answer(exc) from None

    def _no_answer(self, exc: Exception, *, cut_off: bool = False) -> RemoteApiError:
        # Status 0: the request may or may not have been carried out, so a caller
        # retries it with the same idempotency key, exactly as for a refused connection.
        if isinstance(exc, socket.timeout):
            reason = "timed out"
        elif cut_off:
            reason = "gone: the connection closed before the whole answer arrived"
        else:
            reason = "unreachable"
        return RemoteApiError(0, "unreachable", f"the API at {self.url} is {reason}")

    @staticmethod
    def _refusal(status: int, raw: bytes) -> RemoteApiError:
        errors: tuple[tuple[str, str], ...] = ()
        try:
            problem = json.loads(raw)
            code, detail = str(problem.get("code", "")), str(problem.get("detail", ""))
            listed = problem.get("errors")
            if isinstance(listed, list):
                errors = tuple(
                    (str(e.get("field", "")), str(e.get("rule", "")))
                    for e in listed[:20]
                    if isinstance(e, dict)
                )
        except (ValueError, AttributeError):
            code, detail = "", ""
        return RemoteApiError(status, code or "error", detail or f"HTTP {status}", errors)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> RemoteReply:
        """Send one request; ``RemoteApiError`` unless the status is 2xx.

        ``body`` is JSON to encode, or bytes sent as they are (with ``headers``'
        ``Content-Type``).
        """
        connection, response = self._send(method, path, body, headers)
        try:
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._no_answer(exc, cut_off=True) from None
        finally:
            connection.close()
        if not 200 <= response.status < 300:
            raise self._refusal(response.status, raw)
        try:
            decoded = json.loads(raw) if raw else None
        except ValueError:
            detail = f"the API at {self.url} answered with a body that is not JSON"
            raise RemoteApiError(response.status, "not-json", detail) from None
        return RemoteReply(response.status, dict(response.getheaders()), decoded)

    def get(self, path: str, *, headers: Mapping[str, str] | None = None) -> Any:
        """GET ``path``; the decoded body."""
        return self.request("GET", path, headers=headers).body

    def post(self, path: str, body: Any = None, *, headers: Mapping[str, str] | None = None) -> Any:
        """POST ``body`` as JSON to ``path``; the decoded body."""
        return self.request("POST", path, body, headers=headers).body

    def stream_lines(
        self, path: str, *, headers: Mapping[str, str] | None = None
    ) -> Iterator[bytes]:
        """GET ``path`` and yield its body line by line (exports), without holding it all."""
        connection, response = self._send("GET", path, None, headers)
        try:
            if not 200 <= response.status < 300:
                raise self._refusal(response.status, response.read())
            while line := response.readline():
                yield line
            if response.length:
                # http.client's readline ends quietly at an early EOF: a stream shorter
                # than its Content-Length is a cut-off answer, not a complete export.
                cut = http.client.IncompleteRead(b"", response.length)
                raise self._no_answer(cut, cut_off=True)
        except (OSError, http.client.HTTPException) as exc:
            raise self._no_answer(exc, cut_off=True) from None
        finally:
            connection.close()
