"""Request headers: one problem names every header that is missing or breaks its rule.

Authentication comes first: a caller without a valid token (or the role) gets
its 401 (or 403) and learns nothing of the route's headers. Then the headers,
all at once; then the body.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from api.http.auth import MISSING_HEADER_RULE
from api.province.clients import Role
from tests.helpers.routes import problem
from tests.helpers.server import Province, Reply, running_province

ID_NUMBER = "110101199003071234"
ISSUE = {"template": "degree-certificate", "holder": "did:key:z" + "1" * 45, "claims": {}}
DECLARED = {"X-Purpose": "audit.review", "X-Legal-Basis": "prc.pipl.art13"}


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Province]:
    with running_province(tmp_path) as served:
        yield served


def _fields(reply: Reply) -> list[str]:
    document: dict[str, Any] = problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    return [issue["field"] for issue in document["errors"]]


def test_every_missing_header_is_named_in_one_problem(province: Province) -> None:
    reply = province.request("GET", "/audit/events/0", Role.AUDITOR)
    assert _fields(reply) == ["X-Purpose", "X-Legal-Basis"]
    assert {e["rule"] for e in reply.json()["errors"]} == {MISSING_HEADER_RULE}
    reply = province.request("GET", "/audit/export", Role.AUDITOR)
    assert _fields(reply) == ["X-Purpose", "X-Legal-Basis"]
    reply = province.request(
        "POST", "/credentials/verify", Role.VERIFIER, json_body={"verifiableCredential": {}}
    )
    assert _fields(reply) == ["X-Purpose", "X-Legal-Basis"]


def test_a_missing_and_a_malformed_header_are_named_together(province: Province) -> None:
    reply = province.request(
        "GET", "/audit/events/0", Role.AUDITOR, headers={"X-Purpose": f"Review {ID_NUMBER}"}
    )
    assert _fields(reply) == ["X-Purpose", "X-Legal-Basis"]
    rules = [e["rule"] for e in reply.json()["errors"]]
    assert rules[0].startswith("must match")
    assert rules[1] == MISSING_HEADER_RULE
    assert ID_NUMBER not in reply.text
    # Over the documented 64 characters: the same rule, in the same problem.
    reply = province.request(
        "GET", "/audit/events/0", Role.AUDITOR, headers={"X-Legal-Basis": "a" * 65}
    )
    assert _fields(reply) == ["X-Purpose", "X-Legal-Basis"]


def test_the_issuing_routes_check_their_idempotency_key_with_the_declaration(
    province: Province,
) -> None:
    for path, body in (("/credentials/issue", ISSUE), ("/credentials/issue/batch", {})):
        reply = province.request(
            "POST",
            path,
            Role.ISSUER,
            json_body=body,
            headers={"Idempotency-Key": f"-{ID_NUMBER}"},
        )
        assert _fields(reply) == ["X-Purpose", "X-Legal-Basis", "Idempotency-Key"], path
        assert ID_NUMBER not in reply.text
        too_long = province.request(
            "POST",
            path,
            Role.ISSUER,
            json_body=body,
            headers={**DECLARED, "Idempotency-Key": "k" * 129},
        )
        assert _fields(too_long) == ["Idempotency-Key"], path


def test_headers_are_checked_before_the_body(province: Province) -> None:
    reply = province.request(
        "POST",
        "/credentials/issue",
        Role.ISSUER,
        body=b'{"template": ',
        headers={"Content-Type": "application/json", "Idempotency-Key": "has space"},
    )
    assert _fields(reply) == ["X-Purpose", "X-Legal-Basis", "Idempotency-Key"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/audit/events/0", None),
        ("POST", "/credentials/issue", ISSUE),
        ("POST", "/credentials/verify", {"verifiableCredential": {}}),
    ],
)
def test_authentication_comes_before_the_headers(
    province: Province, method: str, path: str, body: dict[str, Any] | None
) -> None:
    anonymous = province.request(method, path, json_body=body, headers={"X-Purpose": "Bad"})
    problem(anonymous, 401, ProblemCode.UNAUTHENTICATED)
    assert "X-Purpose" not in anonymous.text
    assert "X-Legal-Basis" not in anonymous.text
    forbidden = province.request(method, path, Role.HOLDER, json_body=body)
    problem(forbidden, 403, ProblemCode.FORBIDDEN)
    assert "X-Purpose" not in forbidden.text
