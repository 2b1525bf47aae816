"""RFC 9457 problem details: every error the API returns, as ``application/problem+json``.

A problem body has ``type`` (``https://tongban.example/problems/<code>``),
``title``, ``status``, ``detail``, ``code`` (a frozen string from
``api.errors``), ``instance`` (``urn:tongban:request:<request id>``),
``requestId`` and, for validation errors, ``errors``: a list of
``{"field", "rule"}`` that names where and which rule, never the value sent.

Domain errors are mapped here, in one place: ``EventRejectedError`` (422),
``CitizenAccessError`` (403), ``ChallengeError`` (403), ``LogCorruptedError``
(500), ``StoreError`` (503), ``ChainError`` (503), the credentials package's
``InputRejectedError`` (400/413), FastAPI's ``RequestValidationError`` (422,
with pydantic's echoed ``input`` stripped) and ``HTTPException``. Anything
else becomes a bare 500 (``internal_error_response``) whose log line names the
exception type and code locations only: exception messages may carry data.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import ProblemCode, status_of, title_of, type_uri
from api.province.clients import (
    ClientConflictError,
    ClientError,
    InvalidClientError,
    UnknownClientError,
)
from credentials.errors import InputRejectedError
from credentials.reasons import Reason
from ledger.audit.citizen import CitizenAccessError
from ledger.audit.errors import AuditError, EventRejectedError, LogCorruptedError
from ledger.chain.errors import ChainError
from ledger.store.challenges import ChallengeError
from ledger.store.database import StoreError

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "FieldIssue",
    "Problem",
    "ProblemDetails",
    "field_issues",
    "input_problem",
    "install_problem_handlers",
    "internal_error_response",
    "problem_response",
    "problem_responses",
    "request_id_of",
    "validation_problem",
]

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
"""The media type of every error body (RFC 9457)."""

_RETRY_AFTER_UNAVAILABLE = "5"


class FieldIssue(BaseModel):
    """One broken rule: where (a JSON pointer into the body, or a parameter name) and which."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(
        description="JSON pointer into the body (`/events/3/action`) or a "
        "parameter or header name (`size`, `X-Purpose`)."
    )
    rule: str = Field(description="The rule that was broken. Never contains the value sent.")


class ProblemDetails(BaseModel):
    """An RFC 9457 problem details body (the schema of every error response)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: str = Field(description="`https://tongban.example/problems/<code>`.")
    title: str = Field(description="Short summary of the problem type (stable).")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong in this request; never echoes input.")
    code: ProblemCode = Field(description="Stable machine-readable code (never changes).")
    instance: str | None = Field(
        default=None, description="`urn:tongban:request:<request id>` of this request."
    )
    request_id: str | None = Field(default=None, alias="requestId")
    errors: list[FieldIssue] | None = Field(
        default=None, description="For `validation-failed`: each broken field rule."
    )


class Problem(StarletteHTTPException):
    """An error to answer with a problem details body.

    A subclass of ``HTTPException`` so that FastAPI passes it through body
    parsing untouched. ``detail`` must never contain request data.
    """

    def __init__(
        self,
        code: ProblemCode,
        detail: str | None = None,
        *,
        errors: Sequence[FieldIssue] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A problem of kind ``code``; ``detail`` defaults to the code's title."""
        self.code = code
        self.errors = list(errors) if errors is not None else None
        super().__init__(status_of(code), detail or title_of(code), dict(headers or {}))

    @classmethod
    def validation(cls, field: str, rule: str, detail: str | None = None) -> Problem:
        """A ``validation-failed`` problem for one field."""
        return cls(
            ProblemCode.VALIDATION_FAILED,
            detail or "the request breaks a field rule",
            errors=[FieldIssue(field=field, rule=rule)],
        )


def request_id_of(request: Request) -> str | None:
    """The server-assigned request id (set by ``api.http.middleware``), if any."""
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def _body(
    code: ProblemCode,
    detail: str,
    request_id: str | None,
    errors: Sequence[FieldIssue] | None = None,
    status: int | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "type": type_uri(code),
        "title": title_of(code),
        "status": status if status is not None else status_of(code),
        "detail": detail,
        "code": code.value,
    }
    if request_id is not None:
        document["instance"] = f"urn:tongban:request:{request_id}"
        document["requestId"] = request_id
    if errors is not None:
        document["errors"] = [issue.model_dump() for issue in errors]
    return document


def problem_response(
    request_id: str | None,
    code: ProblemCode,
    detail: str | None = None,
    *,
    errors: Sequence[FieldIssue] | None = None,
    headers: Mapping[str, str] | None = None,
    status: int | None = None,
) -> JSONResponse:
    """A ``application/problem+json`` response for ``code``."""
    status_code = status if status is not None else status_of(code)
    return JSONResponse(
        _body(code, detail or title_of(code), request_id, errors, status_code),
        status_code=status_code,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _where(exc: BaseException) -> list[str]:
    # Code locations only (file, line, function): never the message or local values.
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    return [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}:{frame.name}" for frame in frames]


def internal_error_response(request_id: str | None, exc: BaseException) -> JSONResponse:
    """The bare 500 for an unexpected exception; logs its type and code locations only."""
    log.error(
        "unhandled error",
        extra={"error": type(exc).__name__, "where": _where(exc), "request_id": request_id},
    )
    return problem_response(
        request_id, ProblemCode.INTERNAL_ERROR, "the request failed; see the server log"
    )


# -- pydantic errors without the input ----------------------------------------------------

_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", re.ASCII)
_LONG_DIGITS = re.compile(r"[0-9]{9,}")
_PARAMETER_PLACES = ("query", "path", "header", "cookie")


def _segment(part: Any) -> str:
    if isinstance(part, int) and not isinstance(part, bool):
        return str(part)
    text = str(part)
    # Field names come from our models; anything else (a dict key) is input: hide it.
    return text if _SAFE_NAME.fullmatch(text) and not _LONG_DIGITS.search(text) else "*"


def _field_name(location: Sequence[Any]) -> str:
    parts = list(location)
    if parts and parts[0] in _PARAMETER_PLACES:
        name = _segment(parts[1]) if len(parts) > 1 else "*"
        rest = parts[2:]
        return name + "".join("/" + _segment(p) for p in rest)
    if parts and parts[0] == "body":
        parts = parts[1:]
    return "".join("/" + _segment(p) for p in parts) or "/"


def _rule(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", "invalid"))
    message = str(error.get("msg", ""))
    value = error.get("input")
    # Belt and braces: pydantic does not quote inputs in messages, but a custom
    # validator might. If the value shows up, keep only the error type.
    if isinstance(value, str) and len(value) >= 3 and value in message:
        return kind
    if _LONG_DIGITS.search(message):
        return kind
    return f"{kind}: {message}" if message else kind


def field_issues(errors: Iterable[Mapping[str, Any]]) -> list[FieldIssue]:
    """``{"field", "rule"}`` for each pydantic error, dropping ``input`` and unknown keys.

    For ``extra_forbidden`` the offending key is itself input, so the issue
    names the object that holds it instead.
    """
    issues = []
    for error in errors:
        location = list(error.get("loc", ()))
        if error.get("type") == "extra_forbidden" and location:
            location = location[:-1]
            issues.append(
                FieldIssue(
                    field=_field_name(location),
                    rule="extra_forbidden: unknown members are not permitted",
                )
            )
            continue
        issues.append(FieldIssue(field=_field_name(location), rule=_rule(error)))
    return issues


def validation_problem(exc: ValidationError, detail: str | None = None) -> Problem:
    """A ``validation-failed`` problem from a pydantic ``ValidationError`` (no input echoed)."""
    return Problem(
        ProblemCode.VALIDATION_FAILED,
        detail or "the request breaks a field rule",
        errors=field_issues(exc.errors(include_input=True, include_url=False)),
    )


# -- the handlers ------------------------------------------------------------------------

_INPUT_REASONS: dict[str, ProblemCode] = {
    Reason.INPUT_TOO_LARGE.value: ProblemCode.BODY_TOO_LARGE,
    Reason.INPUT_NOT_UTF8.value: ProblemCode.INVALID_UTF8,
    Reason.INPUT_NOT_JSON.value: ProblemCode.INVALID_JSON,
    Reason.INPUT_DUPLICATE_KEY.value: ProblemCode.DUPLICATE_KEY,
    Reason.INPUT_NUMBER_OUT_OF_RANGE.value: ProblemCode.NUMBER_OUT_OF_RANGE,
    Reason.INPUT_TOO_DEEP.value: ProblemCode.TOO_DEEP,
    Reason.INPUT_ARRAY_TOO_LONG.value: ProblemCode.ARRAY_TOO_LONG,
    Reason.INPUT_INVALID_STRING.value: ProblemCode.INVALID_STRING,
    Reason.INPUT_INVALID_TYPE.value: ProblemCode.INVALID_JSON,
}


def input_problem(exc: InputRejectedError) -> Problem:
    """The problem for a body the I-JSON parser refused (its message never quotes input)."""
    return Problem(_INPUT_REASONS.get(exc.reason, ProblemCode.INVALID_JSON), str(exc))


_HTTP_CODES: dict[int, ProblemCode] = {
    400: ProblemCode.BAD_REQUEST,
    401: ProblemCode.UNAUTHENTICATED,
    403: ProblemCode.FORBIDDEN,
    404: ProblemCode.NOT_FOUND,
    405: ProblemCode.METHOD_NOT_ALLOWED,
    409: ProblemCode.CONFLICT,
    413: ProblemCode.BODY_TOO_LARGE,
    415: ProblemCode.UNSUPPORTED_MEDIA_TYPE,
    422: ProblemCode.VALIDATION_FAILED,
    429: ProblemCode.RATE_LIMITED,
    503: ProblemCode.UNAVAILABLE,
}


def _server_side(request: Request, exc: BaseException, code: ProblemCode, detail: str) -> Any:
    rid = request_id_of(request)
    log.error(
        "request failed", extra={"error": type(exc).__name__, "code": code.value, "request_id": rid}
    )
    headers = {"Retry-After": _RETRY_AFTER_UNAVAILABLE} if status_of(code) == 503 else None
    return problem_response(request_id_of(request), code, detail, headers=headers)


async def _on_problem(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, Problem)  # noqa: S101 - registered for Problem only
    return problem_response(
        request_id_of(request), exc.code, str(exc.detail), errors=exc.errors, headers=exc.headers
    )


async def _on_http(request: Request, exc: Exception) -> Any:
    if not isinstance(exc, StarletteHTTPException):
        return internal_error_response(request_id_of(request), exc)
    code = _HTTP_CODES.get(exc.status_code)
    if code is None:
        code = ProblemCode.BAD_REQUEST if exc.status_code < 500 else ProblemCode.INTERNAL_ERROR
    # The framework's own details ("Not Found", "Method Not Allowed") are fixed strings.
    detail = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else None
    return problem_response(
        request_id_of(request), code, detail, headers=exc.headers, status=exc.status_code
    )


async def _on_request_validation(request: Request, exc: Exception) -> Any:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return problem_response(
        request_id_of(request),
        ProblemCode.VALIDATION_FAILED,
        "the request breaks a field rule",
        errors=field_issues(errors),
    )


async def _on_event_rejected(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, EventRejectedError)  # noqa: S101
    return problem_response(
        request_id_of(request),
        ProblemCode.VALIDATION_FAILED,
        f"the event's field {exc.field} breaks a rule",
        errors=[FieldIssue(field=exc.field, rule=exc.rule)],
    )


async def _on_citizen(request: Request, exc: Exception) -> Any:
    # CitizenAccessError messages are fixed phrases ("the request's signature does not verify").
    return problem_response(request_id_of(request), ProblemCode.CITIZEN_ACCESS_REFUSED, str(exc))


async def _on_challenge(request: Request, exc: Exception) -> Any:
    reason = exc.reason if isinstance(exc, ChallengeError) else "refused"
    return problem_response(
        request_id_of(request), ProblemCode.CHALLENGE_FAILED, f"the challenge is {reason}"
    )


async def _on_input(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, InputRejectedError)  # noqa: S101
    problem = input_problem(exc)
    return problem_response(request_id_of(request), problem.code, str(problem.detail))


async def _on_client_error(request: Request, exc: Exception) -> Any:
    rid = request_id_of(request)
    if isinstance(exc, UnknownClientError):
        return problem_response(rid, ProblemCode.NOT_FOUND, "no API client has that id")
    if isinstance(exc, InvalidClientError):
        return problem_response(
            rid,
            ProblemCode.VALIDATION_FAILED,
            f"the client's {exc.field} breaks a rule",
            errors=[FieldIssue(field=exc.field, rule=exc.rule)],
        )
    if isinstance(exc, ClientConflictError):
        return problem_response(rid, ProblemCode.CONFLICT, str(exc))
    return internal_error_response(rid, exc)


async def _on_log_corrupted(request: Request, exc: Exception) -> Any:
    return _server_side(
        request, exc, ProblemCode.LOG_CORRUPTED, "the audit log is inconsistent; operators notified"
    )


async def _on_audit(request: Request, exc: Exception) -> Any:
    return _server_side(request, exc, ProblemCode.INTERNAL_ERROR, "the audit log failed")


async def _on_store(request: Request, exc: Exception) -> Any:
    return _server_side(
        request, exc, ProblemCode.STORE_UNAVAILABLE, "the store is unavailable; retry later"
    )


async def _on_chain(request: Request, exc: Exception) -> Any:
    return _server_side(
        request, exc, ProblemCode.CHAIN_UNAVAILABLE, "the chain is unavailable; retry later"
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Register every problem mapping on ``app`` (the most specific class wins)."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(EventRejectedError, _on_event_rejected)
    app.add_exception_handler(CitizenAccessError, _on_citizen)
    app.add_exception_handler(LogCorruptedError, _on_log_corrupted)
    app.add_exception_handler(AuditError, _on_audit)
    app.add_exception_handler(ChallengeError, _on_challenge)
    app.add_exception_handler(StoreError, _on_store)
    app.add_exception_handler(ChainError, _on_chain)
    app.add_exception_handler(InputRejectedError, _on_input)
    app.add_exception_handler(ClientError, _on_client_error)


_DESCRIPTIONS: dict[int, str] = {
    400: "The body is not I-JSON (`invalid-json`, `duplicate-key`, `number-out-of-range`, ...).",
    401: "No, an unknown or a revoked bearer token (`unauthenticated`).",
    403: "The client lacks the role (`forbidden`), or a citizen's request was refused.",
    404: "Not found (`not-found`).",
    409: "Conflicts with the current state (`conflict`).",
    413: "The body is larger than the route's cap (`body-too-large`).",
    415: "The body is not `application/json` (`unsupported-media-type`).",
    422: "A field breaks a rule (`validation-failed`); `errors` names each field and rule.",
    429: "Rate limited (`rate-limited`); see `Retry-After`.",
    503: "The store or chain is unavailable, or the feature is not served by this process.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem details for ``statuses``."""
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, "Problem details"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}},
        }
        for status in statuses
    }
