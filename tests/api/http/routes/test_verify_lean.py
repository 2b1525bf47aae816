"""The lean verify routes (``api.http.lean``): same refusals as the model, no answer unlogged."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from api.http.deps import JsonBody
from api.http.lean import LeanRoute
from api.http.problems import FieldIssue, Problem
from api.http.routes import verification
from api.http.schemas.credentials import VerifyCredentialIn, VerifyPresentationIn
from api.province.clients import Role
from ledger.store.database import StoreError
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.contracts import World
from tests.helpers.provinces import PERSONAL, served_province
from tests.helpers.routes import problem
from tests.helpers.server import Province

CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "credentialSubject": {"id": "urn:example:subject"},
}

JSON_PERSONAL = {**PERSONAL, "Content-Type": "application/json"}

# Bodies that are not the route's shape, each answered by the model's own 422.
WRONG_SHAPES: list[Any] = [
    [],
    "verifiableCredential",
    None,
    {},
    {"options": {}},
    {"verifiableCredential": CREDENTIAL, "extra": 1},
    {"verifiableCredential": CREDENTIAL, "options": None, "extra": 1},
    {"verifiable_credential": CREDENTIAL},
    {"verifiableCredential": CREDENTIAL, "verifiable_credential": CREDENTIAL},
]


def _model_issues(body: JsonBody[Any], raw: bytes) -> list[FieldIssue]:
    with pytest.raises(Problem) as refused:
        body.validate(raw)
    return [FieldIssue(field=f.field, rule=f.rule) for f in refused.value.fields]


def test_the_verify_routes_are_lean_and_the_challenge_route_is_not() -> None:
    assert all(isinstance(route, LeanRoute) for route in verification.router.routes)
    from api.http.lean import _HANDLERS

    assert verification.verify_credential in _HANDLERS
    assert verification.verify_presentation in _HANDLERS
    assert verification.issue_challenge not in _HANDLERS


@pytest.mark.parametrize("document", WRONG_SHAPES)
def test_a_wrong_shape_is_the_models_own_422(province: Province, document: Any) -> None:
    raw = json.dumps(document).encode()
    expected = _model_issues(verification.CREDENTIAL_BODY, raw)
    reply = province.request(
        "POST", "/credentials/verify", Role.VERIFIER, body=raw, headers=JSON_PERSONAL
    )
    body = problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    assert [FieldIssue(**issue) for issue in body["errors"]] == expected
    assert reply.header("X-Request-Id") == body["requestId"]


def test_the_envelope_is_read_as_the_model_reads_it() -> None:
    options = {"returnResults": True}
    for member, body, model in (
        ("verifiableCredential", verification.CREDENTIAL_BODY, VerifyCredentialIn),
        ("verifiablePresentation", verification.PRESENTATION_BODY, VerifyPresentationIn),
    ):
        for document in ({member: CREDENTIAL}, {member: CREDENTIAL, "options": options}):
            raw = json.dumps(document).encode()
            validated = model.model_validate_json(raw, strict=True).model_dump(by_alias=True)
            found = verification._envelope(raw, document, member, body)
            assert found == (validated[member], validated["options"])


def test_the_order_of_refusals_is_the_dependencies_order(province: Province) -> None:
    # Without a token: 401 before the missing headers and the broken body.
    reply = province.request("POST", "/credentials/verify", body=b"{", headers={})
    problem(reply, 401, ProblemCode.UNAUTHENTICATED)
    # A client without the role: 403 before the headers.
    reply = province.request("POST", "/credentials/verify", Role.ISSUER, body=b"{")
    problem(reply, 403, ProblemCode.FORBIDDEN)
    # The role, no declaration: 422 naming the headers before the body is read.
    reply = province.request("POST", "/presentations/verify", Role.VERIFIER, body=b"{")
    fields = [e["field"] for e in problem(reply, 422, ProblemCode.VALIDATION_FAILED)["errors"]]
    assert fields == ["X-Purpose", "X-Legal-Basis"]
    # Declared: now the body, not JSON.
    reply = province.request(
        "POST",
        "/credentials/verify",
        Role.VERIFIER,
        body=b"{",
        headers=JSON_PERSONAL,
    )
    problem(reply, 400, ProblemCode.INVALID_JSON)


def _break_writes(db: SqliteDatabase, broken: bool) -> None:
    # The store's own connections refuse every write, as a read-only or failing file would.
    for connection in list(db._all):
        connection.execute(f"PRAGMA query_only = {1 if broken else 0}")


def test_no_credential_verdict_when_the_store_cannot_write_its_access_event(
    world: World, tmp_path: Path
) -> None:
    body = {"verifiableCredential": CREDENTIAL}
    with served_province(world, tmp_path) as province:
        audit_log = province.parts.audit_log
        db = audit_log.db
        assert isinstance(db, SqliteDatabase)
        # One verification first: the log's committing thread has its connection.
        reply = province.request(
            "POST", "/credentials/verify", Role.VERIFIER, json_body=body, headers=PERSONAL
        )
        assert reply.status == 200, reply.text
        before = audit_log.size()
        _break_writes(db, True)
        try:
            reply = province.request(
                "POST", "/credentials/verify", Role.VERIFIER, json_body=body, headers=PERSONAL
            )
        finally:
            _break_writes(db, False)
        problem(reply, 503, ProblemCode.ACCESS_LOG_UNAVAILABLE)
        assert reply.header("Retry-After") is not None
        assert "verified" not in reply.text
        assert "verdict" not in reply.text
        assert audit_log.size() == before
        # The store writes again: so does the route.
        reply = province.request(
            "POST", "/credentials/verify", Role.VERIFIER, json_body=body, headers=PERSONAL
        )
        assert reply.status == 200, reply.text
        assert audit_log.size() == before + 1


def test_query_only_is_what_breaks_the_write(tmp_path: Path) -> None:
    # The breakage above is SQLite's own refusal, not a stand-in of the test's.
    db = SqliteDatabase(tmp_path / "s.db")
    with db.write() as tx:
        tx.execute("CREATE TABLE t (x INTEGER)")
    _break_writes(db, True)
    with pytest.raises((sqlite3.OperationalError, StoreError), match="readonly"), db.write() as tx:
        tx.execute("INSERT INTO t VALUES (1)")
    db.close()
