"""Calls to a served province's credential routes, and checks of their answers."""

from __future__ import annotations

from typing import Any

from api.errors import ProblemCode
from api.province.clients import Role
from ledger.audit.events import AccessEvent
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE, DEGREE_CLAIMS
from tests.helpers.provinces import PERSONAL, ServedProvince
from tests.helpers.server import Reply

DEGREE = "degree-certificate"


def issue_body(holder: str, template: str = DEGREE, **overrides: Any) -> dict[str, Any]:
    """A valid ``POST /credentials/issue`` body."""
    body: dict[str, Any] = {
        "template": template,
        "holder": holder,
        "claims": dict(CLAIMS_BY_TEMPLATE.get(template, DEGREE_CLAIMS)),
    }
    body.update(overrides)
    return body


def issue(province: ServedProvince, holder: str, **overrides: Any) -> dict[str, Any]:
    """Issue one credential over HTTP; the answer's JSON."""
    reply = province.request(
        "POST",
        "/credentials/issue",
        Role.ISSUER,
        json_body=issue_body(holder, **overrides),
        headers=PERSONAL,
    )
    assert reply.status == 201, reply.text
    document: dict[str, Any] = reply.json()
    return document


def verify_at(province: ServedProvince, credential: dict[str, Any]) -> dict[str, Any]:
    """``POST /credentials/verify`` at ``province``; the result's JSON."""
    reply = province.request(
        "POST",
        "/credentials/verify",
        Role.VERIFIER,
        json_body={"verifiableCredential": credential},
        headers=PERSONAL,
    )
    assert reply.status == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


def problem(reply: Reply, status: int, code: ProblemCode) -> dict[str, Any]:
    """The problem body of ``reply``, checked for its status and code."""
    assert reply.status == status, reply.text
    assert reply.header("Content-Type") == "application/problem+json"
    body: dict[str, Any] = reply.json()
    assert body["code"] == code.value
    return body


def events(province: ServedProvince) -> list[AccessEvent]:
    """Every event of the province's own log."""
    return [r.event for r in province.parts.audit_log.iterate()]
