"""Authorization matrix: every route of this package x every role x no token."""

from __future__ import annotations

from typing import Any

from api.clients import Role
from ledger.audit.events import Caller
from tests.api.server import ORG, PURPOSE, Province, event_body
from tests.ledger.audit.conftest import access

APPENDERS = {Role.ISSUER, Role.VERIFIER, Role.OPERATOR}
AUDITORS = {Role.AUDITOR}
OPERATORS = {Role.OPERATOR}

# (method, path, request keyword arguments, roles allowed; None = no token needed)
ROUTES: list[tuple[str, str, dict[str, Any], set[Role] | None]] = [
    ("POST", "/audit/events", {"json_body": event_body()}, APPENDERS),
    ("POST", "/audit/events/batch", {"json_body": {"events": [event_body(1)]}}, APPENDERS),
    ("GET", "/audit/events/0", {"headers": PURPOSE}, AUDITORS),
    ("GET", "/audit/checkpoints", {}, AUDITORS),
    ("GET", "/audit/proofs/inclusion?index=0&size=1", {}, AUDITORS),
    ("GET", "/audit/proofs/consistency?from=1&to=1", {}, AUDITORS),
    ("GET", "/audit/export", {"headers": PURPOSE}, AUDITORS),
    ("GET", "/clients", {}, OPERATORS),
    (
        "POST",
        "/clients",
        {"json_body": {"name": "new", "organisation": ORG, "roles": ["auditor"]}},
        OPERATORS,
    ),
    ("POST", "/clients/spare/revoke", {}, OPERATORS),
    ("GET", "/healthz", {}, None),
    ("GET", "/metrics", {}, None),
    ("GET", "/openapi.json", {}, None),
]


def _expected(allowed: set[Role] | None, role: Role | None) -> str:
    if allowed is None:
        return "ok"
    if role is None:
        return "401"
    return "ok" if role in allowed else "403"


def _outcome(status: int) -> str:
    if status in (401, 403):
        return str(status)
    assert status < 400, status
    return "ok"


def test_every_route_admits_exactly_its_roles(anchored_province: Province) -> None:
    province = anchored_province
    province.log.append(Caller("seed", ORG), access(0))
    province.context.clients.create("spare", ORG, [Role.AUDITOR], client_id="spare")
    wrong: list[str] = []
    for method, path, kwargs, allowed in ROUTES:
        for role in [None, *Role]:
            reply = province.request(method, path, role, **kwargs)
            got, expected = _outcome(reply.status), _expected(allowed, role)
            if got != expected:
                wrong.append(f"{method} {path} as {role}: {reply.status}, expected {expected}")
    assert not wrong, "\n".join(wrong)
    # Every refusal left an access event naming the client (or "anonymous").
    refused = [
        "anonymous" if role is None else f"{role.value}-app"
        for _, _, _, allowed in ROUTES
        if allowed is not None
        for role in [None, *Role]
        if role is None or role not in allowed
    ]
    denied = [e.actor for e in province.events() if e.action == "api.denied"]
    assert sorted(denied) == sorted(refused)
