"""Authentication, authorization and the declared purpose of an access.

A request authenticates with ``Authorization: Bearer tb_...``. The caller's
identity for the audit log (actor = client id, actorOrg = organisation) comes
from here only, never from a body or a header the caller fills in.

- No token, an unknown one or a revoked one: 401 with ``WWW-Authenticate``.
- A valid token without any of the route's roles: 403.

Both refusals are access-control events in the province's log (administrative,
not accesses to personal data: ``api.province.audited``; action ``api.denied``,
resource ``record:api_route``, outcome ``denied``, purpose ``access-control``,
legal basis ``tongban.policy``; actor = the client id, or ``anonymous``).
Rate limits apply first: the client's own bucket, or one bucket shared by all
requests without a valid token, so a flood of bad tokens is refused with 429
and cannot flood the log.

A bearer token shaped like a JWT is an OAuth 2.0 client-credentials access
token (RFC 9068) when the app checks them (``AccessTokenCheck``, installed by
``api.http.signin``; docs/signin.md): it authenticates as a client named
``oauth:<client_id>`` with roles mapped from its scope, refused like any
invalid token otherwise. Opaque ``tb_...`` tokens work as before.

A machine client may instead present a TLS client certificate (docs/tls.md):
the worker puts the SHA-256 of its SubjectPublicKeyInfo into the scope
(``CLIENT_CERTIFICATE``), and a certificate bound to a client authenticates as
that client. With both, they must name the same client, else 401; a
certificate bound to no client counts as absent (a bearer token still works).

Routes that touch personal data also need ``X-Purpose`` and ``X-Legal-Basis``:
codes that follow the audit log's rules for ``purpose`` and ``legalBasis``
(and an ``Idempotency-Key``, where a route takes one, its rule for
``idempotencyKey``). They are checked together, after authentication: one 422
names every header that is missing or malformed, while a caller without a valid
token (or the role) gets its 401 (or 403) first and learns nothing of the
route's headers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from api.errors import ProblemCode
from api.http.context import ProvinceContext
from api.http.problems import FieldIssue, Problem
from api.http.ratelimit import RateLimiter, retry_after
from api.province.access import Declaration, access_event
from api.province.audited import ACCESS_CONTROL_PURPOSE, record_administrative
from api.province.clients import ApiClient, Role
from ledger.audit.errors import EventRejectedError
from ledger.audit.events import Caller, Outcome

__all__ = [
    "ANONYMOUS",
    "CLIENT_CERTIFICATE",
    "DENIED_ACTION",
    "MISSING_HEADER_RULE",
    "Principal",
    "authorize",
    "check_declaration",
    "client_certificate",
    "enforce_rate",
    "log_denied",
]

log = logging.getLogger(__name__)

ANONYMOUS = Caller("anonymous", "anonymous")
"""The actor of events about requests without a valid token."""

DENIED_ACTION = "api.denied"
"""The administrative event of a refused request (401 or 403)."""
DENIED_RESOURCE = "record:api_route"

_CHALLENGE = 'Bearer realm="tongban"'
_INVALID_TOKEN = 'Bearer realm="tongban", error="invalid_token"'  # noqa: S105 - not a secret
_INSUFFICIENT = 'Bearer realm="tongban", error="insufficient_scope"'

CLIENT_CERTIFICATE = "tongban.client_certificate"
"""ASGI scope extension a TLS worker sets: ``{"spki_sha256": <32 bytes>}`` of the client's cert."""

MISSING_HEADER_RULE = "missing: required on routes that touch personal data"
"""The rule of an absent ``X-Purpose`` or ``X-Legal-Basis``."""

# Each header is checked by the rule of the access-event field it goes into: a
# well-formed event with that one field replaced.
_PROBE = access_event(Declaration("probe", "probe"), "probe", "audit.read", "record:probe")
# Declarations the rule accepted (a pure function of the header values), per worker:
# the few purpose/legal-basis pairs a client sends skip the event probe.
_ACCEPTED: dict[tuple[str, str, str | None], Declaration] = {}
_ACCEPTED_ENTRIES = 256
_HEADERS = (
    ("X-Purpose", "purpose", True),
    ("X-Legal-Basis", "legal_basis", True),
    ("Idempotency-Key", "idempotency_key", False),
)


class AccessTokenCheck(Protocol):
    """Checks a JWT access token: the client it stands for, or None if refused."""

    def client(self, token: str) -> ApiClient | None:
        """The client behind ``token`` (None: refused)."""
        ...


def _is_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith("tb_")


@dataclass(frozen=True)
class Principal:
    """An authenticated, active client that holds a role the route accepts."""

    client: ApiClient

    @property
    def caller(self) -> Caller:
        """Actor and organisation for the audit log."""
        return self.client.caller


def enforce_rate(context: ProvinceContext, limiter: RateLimiter, key: str, bucket: str) -> None:
    """Take a token from ``key``'s bucket or raise the 429 problem with ``Retry-After``."""
    wait = limiter.take(key)
    if wait > 0:
        context.metrics.rate_limited.inc(bucket)
        raise Problem(
            ProblemCode.RATE_LIMITED,
            "too many requests; retry after the time in Retry-After",
            headers={"Retry-After": retry_after(wait)},
        )


def log_denied(context: ProvinceContext, caller: Caller, request_id: str) -> None:
    """Append the ``api.denied`` event for a refused request (access control, no subject)."""
    record_administrative(
        context.audit_log,
        caller,
        DENIED_ACTION,
        DENIED_RESOURCE,
        request_id,
        purpose=ACCESS_CONTROL_PURPOSE,
        outcome=Outcome.DENIED,
    )


def client_certificate(scope: Mapping[str, Any]) -> bytes | None:
    """The SPKI fingerprint of the request's TLS client certificate, if it presented one."""
    extensions = scope.get("extensions")
    if not extensions:
        return None  # plain HTTP: uvicorn sets no extensions, so this is one lookup
    found = extensions.get(CLIENT_CERTIFICATE)
    return None if found is None else bytes(found["spki_sha256"])


def authorize(
    context: ProvinceContext,
    token: str | None,
    roles: Sequence[Role],
    request_id: str,
    certificate: bytes | None = None,
    access_tokens: AccessTokenCheck | None = None,
) -> Principal:
    """The principal behind ``token`` or ``certificate`` if active and holding one of ``roles``.

    ``certificate`` is the SPKI fingerprint of a verified TLS client
    certificate; one bound to a client authenticates as it, and with a token
    both must name the same client. ``roles`` empty means any authenticated
    client; ``access_tokens`` checks bearer JWTs (RFC 9068). Raises the 401,
    403 or 429 problem otherwise, after logging 401 and 403 as ``api.denied``
    events.
    """
    if token and access_tokens is not None and _is_jwt(token):
        client = access_tokens.client(token)
    else:
        client = context.clients.find_by_token(token) if token else None
    if certificate is not None and (client is not None or not token):
        bound = context.clients.find_by_certificate(certificate)
        if bound is not None:
            if client is None:
                client = bound
            elif bound.client_id != client.client_id:
                enforce_rate(context, context.rate_limits.anonymous, "anonymous", "anonymous")
                log_denied(context, ANONYMOUS, request_id)
                context.metrics.denied.inc("unauthenticated")
                raise Problem(
                    ProblemCode.UNAUTHENTICATED,
                    "the bearer token and the client certificate name different clients",
                    headers={"WWW-Authenticate": _INVALID_TOKEN},
                )
    if client is None or not client.active:
        if client is None:
            enforce_rate(context, context.rate_limits.anonymous, "anonymous", "anonymous")
            caller = ANONYMOUS
        else:
            enforce_rate(context, context.rate_limits.clients, client.client_id, "client")
            caller = client.caller
        log_denied(context, caller, request_id)
        context.metrics.denied.inc("unauthenticated")
        raise Problem(
            ProblemCode.UNAUTHENTICATED,
            _unauthenticated_detail(token, certificate),
            headers={"WWW-Authenticate": _INVALID_TOKEN if token else _CHALLENGE},
        )
    enforce_rate(context, context.rate_limits.clients, client.client_id, "client")
    if roles and not client.has_any(roles):
        log_denied(context, client.caller, request_id)
        context.metrics.denied.inc("forbidden")
        raise Problem(
            ProblemCode.FORBIDDEN,
            "this route needs one of the roles: " + ", ".join(r.value for r in roles),
            headers={"WWW-Authenticate": _INSUFFICIENT},
        )
    return Principal(client)


def _unauthenticated_detail(token: str | None, certificate: bytes | None) -> str:
    if token:
        return "a valid bearer token is required"
    if certificate is not None:
        return "the client certificate is not bound to an active API client"
    return "a bearer token is required"


def check_declaration(
    purpose: str | None, legal_basis: str | None, idempotency_key: str | None = None
) -> Declaration:
    """``X-Purpose`` and ``X-Legal-Basis`` (and an optional ``Idempotency-Key``), checked.

    Each against the audit log's rule for its event field; every header that is
    missing or breaks its rule is named in one 422, in that order.
    """
    if purpose is not None and legal_basis is not None:
        key = (purpose, legal_basis, idempotency_key)
        known = _ACCEPTED.get(key)
        if known is not None:
            return known
        try:
            replace(
                _PROBE, purpose=purpose, legal_basis=legal_basis, idempotency_key=idempotency_key
            ).validate()
        except EventRejectedError:
            pass  # each header on its own below, to name every bad one
        else:
            declared = Declaration(purpose, legal_basis)
            # Idempotency keys are one per request: only key-less declarations repeat.
            if idempotency_key is None:
                if len(_ACCEPTED) >= _ACCEPTED_ENTRIES:
                    _ACCEPTED.clear()
                _ACCEPTED[key] = declared
            return declared
    given = {"purpose": purpose, "legal_basis": legal_basis, "idempotency_key": idempotency_key}
    issues: list[FieldIssue] = []
    for header, field, required in _HEADERS:
        value = given[field]
        if value is None:
            if required:
                issues.append(FieldIssue(field=header, rule=MISSING_HEADER_RULE))
            continue
        try:
            replace(_PROBE, **{field: value}).validate()
        except EventRejectedError as exc:
            # Kept here, not in the problem table: the event's field becomes the header's name.
            issues.append(FieldIssue(field=header, rule=exc.rule))
    raise Problem(
        ProblemCode.VALIDATION_FAILED, "the request's headers break a rule", errors=issues
    )
