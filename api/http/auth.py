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
from api.province.access import Declaration, access_event
from api.province.audited import ACCESS_CONTROL_PURPOSE, record_administrative
from api.province.clients import ApiClient, Role
from ledger.audit.errors import EventRejectedError
from ledger.audit.events import Caller, Outcome

__all__ = [
    "ANONYMOUS",
    "DENIED_ACTION",
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
"""The administrative event of a refused request (401 or 403)."""
DENIED_RESOURCE = "record:api_route"

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
    declared = Declaration(purpose, legal_basis)
    # Checked by the rules of the access events it will go into (api.province.access).
    probe = access_event(declared, "probe", "audit.read", "record:probe")
    try:
        probe.validate()
    except EventRejectedError as exc:
        # Kept here, not in the problem table: the event's field becomes the header's name.
        header = {"purpose": "X-Purpose", "legalBasis": "X-Legal-Basis"}.get(exc.field, exc.field)
        raise Problem.validation(header, exc.rule) from None
    return declared
