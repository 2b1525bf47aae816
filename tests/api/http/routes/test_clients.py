"""Client management over HTTP (operator only): create, list, revoke.

The registry is in a store on SQLite, then on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.errors import ProblemCode
from api.province.clients import Role, hash_token
from tests.helpers.server import Province, running_province
from tests.helpers.stores import StoreTarget


@pytest.fixture
def province(tmp_path: Path, store_target: StoreTarget) -> Iterator[Province]:
    """A served province without a chain, its store on each engine in turn."""
    with running_province(tmp_path, store=store_target) as served:
        yield served


def test_a_created_client_gets_its_token_once_and_can_use_it(province: Province) -> None:
    reply = province.request(
        "POST",
        "/clients",
        Role.OPERATOR,
        json_body={
            "name": "广东省 verifier",
            "organisation": "440000",
            "roles": ["verifier", "auditor"],
        },
    )
    assert reply.status == 201, reply.text
    assert reply.header("Cache-Control") == "no-store"
    created = reply.json()
    token = created["token"]
    assert re.fullmatch(r"tb_[A-Za-z0-9_-]{43}", token)
    assert created["roles"] == ["auditor", "verifier"]
    assert created["active"] is True
    assert created["revokedAt"] is None
    assert reply.header("Location") == f"/clients/{created['clientId']}"

    used = province.server.request("GET", "/audit/proofs/consistency?from=1&to=1", token=token)
    assert used.status == 200  # the log holds the client_create event
    listing = province.request("GET", "/clients", Role.OPERATOR)
    assert listing.status == 200
    text = listing.text
    for secret in [token, *province.tokens.values()]:
        assert secret not in text
        assert hash_token(secret).hex() not in text
    ids = [c["clientId"] for c in listing.json()["clients"]]
    assert created["clientId"] in ids
    assert all("token" not in c for c in listing.json()["clients"])
    created_events = [e for e in province.events() if e.action == "api.client_create"]
    assert [(e.actor, e.resource) for e in created_events] == [
        ("operator-app", "record:api_client")
    ]


def test_a_revoked_client_is_locked_out_at_once(province: Province) -> None:
    assert (
        province.request("GET", "/audit/proofs/inclusion?index=0&size=1", Role.AUDITOR).status
        == 422
    )
    reply = province.request("POST", "/clients/auditor-app/revoke", Role.OPERATOR)
    assert reply.status == 200
    assert reply.json()["active"] is False
    assert reply.json()["revokedAt"]
    assert (
        province.request("GET", "/audit/proofs/inclusion?index=0&size=1", Role.AUDITOR).status
        == 401
    )
    assert province.request("POST", "/clients/nobody/revoke", Role.OPERATOR).status == 404
    actions = [e.action for e in province.events()]
    assert actions == ["api.client_revoke", "api.denied"]


def test_the_last_operator_cannot_be_revoked(province: Province) -> None:
    reply = province.request("POST", "/clients/operator-app/revoke", Role.OPERATOR)
    assert reply.status == 409
    assert reply.json()["code"] == ProblemCode.CONFLICT
    assert province.request("GET", "/clients", Role.OPERATOR).status == 200


def test_client_attributes_are_checked_without_echo(province: Province) -> None:
    secret = "110101199003071234"
    cases = [
        ({"name": "x", "organisation": secret, "roles": ["auditor"]}, "organisation"),
        (
            {"name": "x", "organisation": "330000", "roles": ["auditor"], "clientId": secret},
            "clientId",
        ),
        ({"name": "x", "organisation": "330000", "roles": ["root"]}, "/roles/0"),
        ({"name": "x", "organisation": "330000", "roles": []}, "/roles"),
    ]
    for body, field in cases:
        reply = province.request("POST", "/clients", Role.OPERATOR, json_body=body)
        assert reply.status == 422, body
        assert reply.json()["errors"][0]["field"] == field
        assert secret not in reply.text
    duplicate = {
        "name": "x",
        "organisation": "330000",
        "roles": ["auditor"],
        "clientId": "auditor-app",
    }
    reply = province.request("POST", "/clients", Role.OPERATOR, json_body=duplicate)
    assert reply.status == 409
