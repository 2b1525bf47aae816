"""The API's one error model: ``ApiError`` and the problem codes it carries.

``ApiError`` is the root of every refusal ``api.province`` and ``api.http``
raise (and of ``SettingsError``): each subclass names its ``ProblemCode``
(``api.http.problems`` turns it into RFC 9457 problem details, with the domain
errors of ``credentials`` and ``ledger``, in one table). Its ``detail`` is
safe to show: it names rules, fields and states, never a value sent.

Problem codes are the ``code`` member of every problem details body.

NEVER CHANGE A VALUE. API clients store and compare these strings, and each one
is also the last segment of the problem's ``type`` URI
(``https://tongban.example/problems/<code>``). Add new codes; do not rename,
reuse or remove old ones (a code that is no longer produced stays listed here,
marked obsolete). ``docs/api.md`` lists every code with its status and meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "PROBLEM_TYPE_BASE",
    "ApiError",
    "FieldRule",
    "ProblemCode",
    "SettingsError",
    "status_of",
    "title_of",
    "type_uri",
]

PROBLEM_TYPE_BASE = "https://tongban.example/problems/"
"""Prefix of every problem ``type`` URI; the code follows it."""


class ProblemCode(StrEnum):
    """Stable machine-readable problem codes."""

    # 400: the body is not acceptable JSON (I-JSON, RFC 7493)
    INVALID_JSON = "invalid-json"
    INVALID_UTF8 = "invalid-utf8"
    INVALID_STRING = "invalid-string"
    DUPLICATE_KEY = "duplicate-key"
    NUMBER_OUT_OF_RANGE = "number-out-of-range"
    TOO_DEEP = "too-deep"
    ARRAY_TOO_LONG = "array-too-long"
    # 401 / 403 / 404 / 405
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    CITIZEN_ACCESS_REFUSED = "citizen-access-refused"
    CHALLENGE_FAILED = "challenge-failed"
    NOT_FOUND = "not-found"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    # 409 / 413 / 415 / 422 / 429
    CONFLICT = "conflict"
    BODY_TOO_LARGE = "body-too-large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
    VALIDATION_FAILED = "validation-failed"
    RATE_LIMITED = "rate-limited"
    # 400 for any other client error the framework reports
    BAD_REQUEST = "bad-request"
    # credentials (409 / 503)
    ANCHOR_PENDING = "anchor-pending"
    STATUS_TRANSITION_REFUSED = "status-transition-refused"
    NO_SIGNING_KEY = "no-signing-key"
    ACCESS_LOG_UNAVAILABLE = "access-log-unavailable"
    IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"
    # issuing agencies (403 / 422)
    AGENCY_NOT_ALLOWED = "agency-not-allowed"
    AGENCY_REFUSED = "agency-refused"
    # governance and issuer administration (add codes here)
    CHAIN_REFUSED = "chain-refused"
    KEY_ID_TAKEN = "key-id-taken"
    KEY_NOT_COMPROMISED = "key-not-compromised"
    KEY_STILL_ACTIVE = "key-still-active"
    # 5xx
    INTERNAL_ERROR = "internal-error"
    LOG_CORRUPTED = "log-corrupted"
    STORE_UNAVAILABLE = "store-unavailable"
    CHAIN_UNAVAILABLE = "chain-unavailable"
    UNAVAILABLE = "unavailable"


_STATUS: dict[ProblemCode, int] = {
    ProblemCode.INVALID_JSON: 400,
    ProblemCode.INVALID_UTF8: 400,
    ProblemCode.INVALID_STRING: 400,
    ProblemCode.DUPLICATE_KEY: 400,
    ProblemCode.NUMBER_OUT_OF_RANGE: 400,
    ProblemCode.TOO_DEEP: 400,
    ProblemCode.ARRAY_TOO_LONG: 400,
    ProblemCode.BAD_REQUEST: 400,
    ProblemCode.UNAUTHENTICATED: 401,
    ProblemCode.FORBIDDEN: 403,
    ProblemCode.CITIZEN_ACCESS_REFUSED: 403,
    ProblemCode.CHALLENGE_FAILED: 403,
    ProblemCode.NOT_FOUND: 404,
    ProblemCode.METHOD_NOT_ALLOWED: 405,
    ProblemCode.CONFLICT: 409,
    ProblemCode.BODY_TOO_LARGE: 413,
    ProblemCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ProblemCode.VALIDATION_FAILED: 422,
    ProblemCode.RATE_LIMITED: 429,
    ProblemCode.ANCHOR_PENDING: 409,
    ProblemCode.STATUS_TRANSITION_REFUSED: 409,
    ProblemCode.NO_SIGNING_KEY: 503,
    ProblemCode.ACCESS_LOG_UNAVAILABLE: 503,
    ProblemCode.IDEMPOTENCY_KEY_REUSED: 409,
    ProblemCode.AGENCY_NOT_ALLOWED: 403,
    ProblemCode.AGENCY_REFUSED: 422,
    ProblemCode.CHAIN_REFUSED: 409,
    ProblemCode.KEY_ID_TAKEN: 409,
    ProblemCode.KEY_NOT_COMPROMISED: 409,
    ProblemCode.KEY_STILL_ACTIVE: 409,
    ProblemCode.INTERNAL_ERROR: 500,
    ProblemCode.LOG_CORRUPTED: 500,
    ProblemCode.STORE_UNAVAILABLE: 503,
    ProblemCode.CHAIN_UNAVAILABLE: 503,
    ProblemCode.UNAVAILABLE: 503,
}

_TITLE: dict[ProblemCode, str] = {
    ProblemCode.INVALID_JSON: "The body is not JSON",
    ProblemCode.INVALID_UTF8: "The body is not UTF-8",
    ProblemCode.INVALID_STRING: "A string holds a lone surrogate",
    ProblemCode.DUPLICATE_KEY: "An object has a duplicate key",
    ProblemCode.NUMBER_OUT_OF_RANGE: "A number is outside the I-JSON range",
    ProblemCode.TOO_DEEP: "The body nests too deeply",
    ProblemCode.ARRAY_TOO_LONG: "An array is too long",
    ProblemCode.BAD_REQUEST: "Bad request",
    ProblemCode.UNAUTHENTICATED: "Authentication required",
    ProblemCode.FORBIDDEN: "Not allowed for this client",
    ProblemCode.CITIZEN_ACCESS_REFUSED: "The citizen's request was refused",
    ProblemCode.CHALLENGE_FAILED: "The challenge cannot be used",
    ProblemCode.NOT_FOUND: "Not found",
    ProblemCode.METHOD_NOT_ALLOWED: "Method not allowed",
    ProblemCode.CONFLICT: "Conflict with the current state",
    ProblemCode.BODY_TOO_LARGE: "The body is too large",
    ProblemCode.UNSUPPORTED_MEDIA_TYPE: "The body must be application/json",
    ProblemCode.VALIDATION_FAILED: "The request breaks a field rule",
    ProblemCode.RATE_LIMITED: "Too many requests",
    ProblemCode.ANCHOR_PENDING: "The credential is not anchored on chain yet",
    ProblemCode.STATUS_TRANSITION_REFUSED: "The status change is not allowed",
    ProblemCode.NO_SIGNING_KEY: "No signing key is registered and valid",
    ProblemCode.ACCESS_LOG_UNAVAILABLE: "The access event could not be recorded",
    ProblemCode.IDEMPOTENCY_KEY_REUSED: "The idempotency key was used for another request",
    ProblemCode.AGENCY_NOT_ALLOWED: "This client may not issue for that agency",
    ProblemCode.AGENCY_REFUSED: "The agency cannot issue this certificate",
    ProblemCode.CHAIN_REFUSED: "The contract refuses this operation now",
    ProblemCode.KEY_ID_TAKEN: "The key id is already in use",
    ProblemCode.KEY_NOT_COMPROMISED: "The key is not marked compromised on chain",
    ProblemCode.KEY_STILL_ACTIVE: "The key is still the active signing key",
    ProblemCode.INTERNAL_ERROR: "Internal error",
    ProblemCode.LOG_CORRUPTED: "The audit log is inconsistent",
    ProblemCode.STORE_UNAVAILABLE: "The store is unavailable",
    ProblemCode.CHAIN_UNAVAILABLE: "The chain is unavailable",
    ProblemCode.UNAVAILABLE: "Not available in this process",
}


def status_of(code: ProblemCode) -> int:
    """The HTTP status that goes with ``code``."""
    return _STATUS[code]


def title_of(code: ProblemCode) -> str:
    """The short human-readable title of ``code`` (stable, never carries request data)."""
    return _TITLE[code]


def type_uri(code: ProblemCode) -> str:
    """The problem ``type`` URI of ``code``."""
    return PROBLEM_TYPE_BASE + code.value


class FieldRule(NamedTuple):
    """One broken rule: where (a JSON pointer into the body, or a parameter name) and which."""

    field: str
    """A JSON pointer into the body (``/events/3/action``), or a parameter or header name."""
    rule: str
    """The rule, never the value sent."""


class ApiError(Exception):
    """Root of the API's refusals: a ``ProblemCode`` and a detail that never echoes input.

    ``code`` is the class's (subclasses set it), or the one given to this
    instance. ``detail`` is also the exception's message unless a subclass
    keeps a more specific message for the command line. ``fields`` names the
    broken rules of a ``validation-failed`` refusal.
    """

    code: ProblemCode = ProblemCode.INTERNAL_ERROR

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: ProblemCode | None = None,
        fields: Sequence[FieldRule] = (),
    ) -> None:
        """A refusal: ``detail`` defaults to the code's title, ``code`` to the class's."""
        if code is not None:
            self.code = code
        self.detail = detail or title_of(self.code)
        self.fields = tuple(fields)
        super().__init__(self.detail)

    @property
    def status(self) -> int:
        """The HTTP status of the refusal's code."""
        return status_of(self.code)


class SettingsError(ApiError):
    """A setting is unknown or invalid; the message names it and the fix, never a secret.

    Raised at start-up and by the command line. Should one reach a request, it is
    the server's fault: a bare 500 whose message is not shown.
    """

    code = ProblemCode.INTERNAL_ERROR
