"""Authentication, authorization and the declared purpose of an access.

A request authenticates with ``Authorization: Bearer tb_...``. The caller's
identity for the audit log (actor = client id, actorOrg = organisation) comes
from here only, never from a body or a header the caller fills in.

- No token, an unknown one or a revoked one: 401 with ``WWW-Authenticate``.
- A valid token without any of the route's roles: 403.

Both refusals are access events in the province's log (action ``api.denied``,
resource ``record:api_route``, outcome ``denied``, purpose ``access-control``,
legal basis ``tongban.policy``; actor = the client id, or ``anonymous``).
Rate limits apply first: the client's own bucket, or one bucket shared by all
requests without a valid token, so a flood of bad tokens is refused with 429
and cannot flood the log.

Routes that touch personal data also need ``X-Purpose`` and ``X-Legal-Basis``:
codes that follow the audit log's rules for ``purpose`` and ``legalBasis``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from api.errors import ProblemCode
from api.http.context import ProvinceContext
from api.http.problems import Problem
from api.http.ratelimit import RateLimiter, retry_after
from api.province.clients import ApiClient, Role
from ledger.audit.errors import EventRejectedError
from ledger.audit.events import Caller, EventInput, Outcome

__all__ = [
    "ANONYMOUS",
    "Declaration",
    "Principal",
    "authorize",
    "check_declaration",
    "enforce_rate",
    "log_denied",
]

log = logging.getLogger(__name__)

ANONYMOUS = Caller("anonymous", "anonymous")
"""The actor of events about requests without a valid token."""

DENIED_ACTION = "api.denied"
DENIED_RESOURCE = "record:api_route"
ACCESS_CONTROL_PURPOSE = "access-control"
POLICY_BASIS = "tongban.policy"

_CHALLENGE = 'Bearer realm="tongban"'
_INVALID_TOKEN = 'Bearer realm="tongban", error="invalid_token"'  # noqa: S105 - not a secret
_INSUFFICIENT = 'Bearer realm="tongban", error="insufficient_scope"'


@dataclass(frozen=True)
class Principal:
    """An authenticated, active client that holds a role the route accepts."""

    client: ApiClient

    @property
    def caller(self) -> Caller:
        """Actor and organisation for the audit log."""
        return self.client.caller


@dataclass(frozen=True)
class Declaration:
    """Why the caller accesses personal data: a purpose code and a legal basis code."""

    purpose: str
    legal_basis: str


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
    """Append the ``api.denied`` access event for a refused request."""
    context.audit_log.append(
        caller,
        EventInput(
            action=DENIED_ACTION,
            resource=DENIED_RESOURCE,
            purpose=ACCESS_CONTROL_PURPOSE,
            legal_basis=POLICY_BASIS,
            outcome=Outcome.DENIED,
            request_id=request_id,
        ),
    )


def authorize(
    context: ProvinceContext, token: str | None, roles: Sequence[Role], request_id: str
) -> Principal:
    """The principal behind ``token`` if it is active and holds one of ``roles``.

    ``roles`` empty means any authenticated client. Raises the 401, 403 or 429
    problem otherwise, after logging 401 and 403 as ``api.denied`` events.
    """
    client = context.clients.find_by_token(token) if token else None
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
            "a valid bearer token is required" if token else "a bearer token is required",
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


def check_declaration(purpose: str | None, legal_basis: str | None) -> Declaration:
    """``X-Purpose`` and ``X-Legal-Basis`` checked against the audit log's rules (422 if not)."""
    if purpose is None:
        raise Problem.validation("X-Purpose", "required on routes that touch personal data")
    if legal_basis is None:
        raise Problem.validation("X-Legal-Basis", "required on routes that touch personal data")
    probe = EventInput(
        action="audit.read",
        resource="record:probe",
        purpose=purpose,
        legal_basis=legal_basis,
        outcome=Outcome.SUCCESS,
        request_id="probe",
    )
    try:
        probe.validate()
    except EventRejectedError as exc:
        header = {"purpose": "X-Purpose", "legalBasis": "X-Legal-Basis"}.get(exc.field, exc.field)
        raise Problem.validation(header, exc.rule) from None
    return Declaration(purpose, legal_basis)
