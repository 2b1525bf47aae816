"""RFC 9457 problem details: every error the API returns, as ``application/problem+json``.

A problem body has ``type`` (``https://tongban.example/problems/<code>``),
``title``, ``status``, ``detail``, ``code`` (a frozen string from
``api.errors``), ``instance`` (``urn:tongban:request:<request id>``),
``requestId`` and, for validation errors, ``errors``: a list of
``{"field", "rule"}`` that names where and which rule, never the value sent.

Errors become problems here, in one table (``PROBLEM_TABLE``): ``ApiError``
(the root of every refusal of ``api.province`` and ``api.http``, ``Problem``
included) answers with its own code; the domain errors of ``credentials`` and
``ledger`` (``InputRejectedError``, ``EventRejectedError``,
``CitizenAccessError``, ``ChallengeError``, the credential store's refusals,
``LogCorruptedError``, ``AuditError``, ``StoreError``, ``ChainError``) and the
framework's (``RequestValidationError`` with pydantic's echoed ``input``
stripped, ``HTTPException``) each get a code. The most specific class of the
table wins. Anything else becomes a bare 500 (``internal_error_response``)
whose log line names the exception type and code locations only: exception
messages may carry data. Routes translate nothing themselves, except where a
JSON pointer must be rewritten so that no input is echoed (issuing, event and
header rules): those raise a ``Problem`` naming the request's own field.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import ApiError, FieldRule, ProblemCode, status_of, title_of, type_uri
from credentials.disclosure import escape_token
from credentials.errors import (
    AccessLogUnavailableError,
    AnchorPendingError,
    CredentialIdTakenError,
    InputRejectedError,
    StatusTransitionError,
    UnknownCredentialError,
    nameable,
)
from credentials.reasons import Reason
from ledger.audit.citizen import CitizenAccessError
from ledger.audit.errors import AuditError, EventRejectedError, LogCorruptedError
from ledger.chain.errors import ChainError
from ledger.store.challenges import ChallengeError
from ledger.store.database import StoreError

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TABLE",
    "FieldIssue",
    "Problem",
    "ProblemDetails",
    "Translation",
    "as_api_error",
    "field_issues",
    "input_problem",
    "install_problem_handlers",
    "internal_error_response",
    "pointer_token",
    "problem_response",
    "problem_responses",
    "request_id_of",
    "unavailable",
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


class Problem(ApiError):  # noqa: N818 - RFC 9457's word, used by every route
    """A refusal decided in the HTTP layer, with its code and, if need be, headers.

    ``detail`` must never contain request data; ``errors`` names broken field
    rules; ``status`` overrides the code's status (the framework's own errors).
    """

    def __init__(
        self,
        code: ProblemCode,
        detail: str | None = None,
        *,
        errors: Sequence[FieldIssue] | None = None,
        headers: Mapping[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        """A problem of kind ``code``; ``detail`` defaults to the code's title."""
        issues = [FieldRule(issue.field, issue.rule) for issue in errors or ()]
        super().__init__(detail, code=code, fields=issues)
        self.headers = dict(headers or {})
        self.status_override = status

    @property
    def status(self) -> int:
        """The HTTP status: the code's, unless the framework said otherwise."""
        return self.status_override if self.status_override is not None else status_of(self.code)

    @classmethod
    def validation(cls, field: str, rule: str, detail: str | None = None) -> Problem:
        """A ``validation-failed`` problem for one field."""
        return cls(
            ProblemCode.VALIDATION_FAILED,
            detail or "the request breaks a field rule",
            errors=[FieldIssue(field=field, rule=rule)],
        )


def unavailable(what: str) -> Problem:
    """503 ``unavailable``: this process was built without ``what``."""
    return Problem(
        ProblemCode.UNAVAILABLE,
        f"this process serves no {what}",
        headers={"Retry-After": _RETRY_AFTER_UNAVAILABLE},
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

_LONG_DIGITS = re.compile(r"[0-9]{9,}")
_PARAMETER_PLACES = ("query", "path", "header", "cookie")


def pointer_token(name: str) -> str:
    """The JSON pointer token (RFC 6901) naming member ``name`` in an error, or ``*``.

    A member's name is shown only when it looks like one (``credentials.errors.nameable``):
    a key that is itself personal data (an ID number, a name) is never echoed.
    """
    return escape_token(name) if nameable(name) else "*"


def _segment(part: Any) -> str:
    if isinstance(part, int) and not isinstance(part, bool):
        return str(part)
    # Field names come from our models; anything else (a dict key) is input.
    return pointer_token(str(part))


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
    """``{"field", "rule"}`` for each pydantic error, dropping ``input``.

    Keys the caller chose (an unknown member's name, a map key) are named only
    when they look like member names (``pointer_token``), else shown as ``*``.
    """
    issues = []
    for error in errors:
        location = list(error.get("loc", ()))
        if error.get("type") == "extra_forbidden":
            rule = "extra_forbidden: unknown members are not permitted"
        else:
            rule = _rule(error)
        issues.append(FieldIssue(field=_field_name(location), rule=rule))
    return issues


def validation_problem(exc: ValidationError, detail: str | None = None) -> Problem:
    """A ``validation-failed`` problem from a pydantic ``ValidationError`` (no input echoed)."""
    return Problem(
        ProblemCode.VALIDATION_FAILED,
        detail or "the request breaks a field rule",
        errors=field_issues(exc.errors(include_input=True, include_url=False)),
    )


# -- the one table ------------------------------------------------------------------------

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

Translation = Callable[[Any], ApiError]
"""How an exception of one class becomes an ``ApiError`` (its code, detail and fields)."""


def _itself(exc: ApiError) -> ApiError:
    return exc


def _fixed(code: ProblemCode, detail: str) -> Translation:
    # For errors whose messages may name places (paths, URLs) or values.
    def translate(exc: Exception) -> ApiError:
        return ApiError(detail, code=code)

    return translate


def _message(code: ProblemCode) -> Translation:
    # For errors whose messages are fixed phrases of ours (states, rules), never data.
    def translate(exc: Exception) -> ApiError:
        return ApiError(str(exc), code=code)

    return translate


def _framework(exc: StarletteHTTPException) -> ApiError:
    code = _HTTP_CODES.get(exc.status_code)
    if code is None:
        code = ProblemCode.BAD_REQUEST if exc.status_code < 500 else ProblemCode.INTERNAL_ERROR
    # The framework's own details ("Not Found", "Method Not Allowed") are fixed strings.
    detail = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else None
    return Problem(code, detail, headers=exc.headers, status=exc.status_code)


def _request_validation(exc: RequestValidationError) -> ApiError:
    return Problem(
        ProblemCode.VALIDATION_FAILED,
        "the request breaks a field rule",
        errors=field_issues(exc.errors()),
    )


def _event_rejected(exc: EventRejectedError) -> ApiError:
    return Problem.validation(exc.field, exc.rule, f"the event's field {exc.field} breaks a rule")


def _challenge(exc: ChallengeError) -> ApiError:
    return ApiError(f"the challenge is {exc.reason}", code=ProblemCode.CHALLENGE_FAILED)


PROBLEM_TABLE: dict[type[Exception], Translation] = {
    # Ours: every refusal of api.province and api.http names its code.
    ApiError: _itself,
    # The framework's.
    StarletteHTTPException: _framework,
    RequestValidationError: _request_validation,
    # credentials: the I-JSON reader's messages name the cap, never the value.
    InputRejectedError: input_problem,
    CredentialIdTakenError: _fixed(
        ProblemCode.CONFLICT, "a credential with this id (or credentialId) was issued already"
    ),
    UnknownCredentialError: _fixed(
        ProblemCode.NOT_FOUND, "no credential with that digest was issued here"
    ),
    AnchorPendingError: _fixed(
        ProblemCode.ANCHOR_PENDING, "the credential's batch is not final on chain yet"
    ),
    # Its messages name statuses ("from revoked to none"), never a digest.
    StatusTransitionError: _message(ProblemCode.STATUS_TRANSITION_REFUSED),
    AccessLogUnavailableError: _message(ProblemCode.ACCESS_LOG_UNAVAILABLE),
    # ledger: the audit log, the citizen view, challenges, the store and the chain.
    EventRejectedError: _event_rejected,
    # Fixed phrases ("the request's signature does not verify").
    CitizenAccessError: _message(ProblemCode.CITIZEN_ACCESS_REFUSED),
    ChallengeError: _challenge,
    LogCorruptedError: _fixed(
        ProblemCode.LOG_CORRUPTED, "the audit log is inconsistent; operators notified"
    ),
    AuditError: _fixed(ProblemCode.INTERNAL_ERROR, "the audit log failed"),
    StoreError: _fixed(ProblemCode.STORE_UNAVAILABLE, "the store is unavailable; retry later"),
    ChainError: _fixed(ProblemCode.CHAIN_UNAVAILABLE, "the chain is unavailable; retry later"),
}
"""Exception class -> its problem. The most specific class of an exception's MRO wins."""


def as_api_error(exc: BaseException) -> ApiError | None:
    """The ``ApiError`` ``exc`` answers as, or None when the table does not know it."""
    for kind in type(exc).__mro__:
        translate = PROBLEM_TABLE.get(kind)
        if translate is not None:
            return translate(exc)
    return None


def _respond(request_id: str | None, exc: Exception, error: ApiError) -> JSONResponse:
    status = error.status
    headers = dict(error.headers) if isinstance(error, Problem) else {}
    if not isinstance(exc, Problem) and status >= 500:
        # Server-side failures of ours and of the domain: logged by type and code only.
        log.error(
            "request failed",
            extra={"error": type(exc).__name__, "code": error.code.value, "request_id": request_id},
        )
        if status == 503:
            headers.setdefault("Retry-After", _RETRY_AFTER_UNAVAILABLE)
    fields = error.fields
    errors = (
        [FieldIssue(field=f.field, rule=f.rule) for f in fields]
        if fields or error.code is ProblemCode.VALIDATION_FAILED
        else None
    )
    return problem_response(
        request_id, error.code, error.detail, errors=errors, headers=headers, status=status
    )


async def _on_error(request: Request, exc: Exception) -> Any:
    request_id = request_id_of(request)
    error = as_api_error(exc)
    # An ApiError of ours that is a 500 (SettingsError...) is a bug or a misconfiguration:
    # its message names server-side things, so it answers like any unexpected error.
    if error is None or (error is exc and error.code is ProblemCode.INTERNAL_ERROR):
        return internal_error_response(request_id, exc)
    return _respond(request_id, exc, error)


def install_problem_handlers(app: FastAPI) -> None:
    """Register ``PROBLEM_TABLE`` on ``app``: one handler for every class of the table."""
    for kind in PROBLEM_TABLE:
        app.add_exception_handler(kind, _on_error)


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
