"""Problem details over real HTTP: strict JSON bodies, size and type caps, no input echo."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.errors import PROBLEM_TYPE_BASE, ProblemCode
from api.http.context import MIB
from api.province.clients import Role
from ledger.chain.errors import ChainUnavailableError
from ledger.store.database import StoreBusyError
from tests.helpers.server import PURPOSE, Province, Reply, event_body, running_province

ID_NUMBER = "110101199003071234"  # a made-up resident ID number (18 digits)
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Province]:
    with running_province(tmp_path) as served:
        yield served


def _post(province: Province, body: bytes, headers: dict[str, str] | None = None) -> Reply:
    return province.request(
        "POST",
        "/audit/events",
        Role.VERIFIER,
        body=body,
        headers=JSON if headers is None else headers,
    )


def _problem(reply: Reply, status: int, code: ProblemCode) -> dict[str, Any]:
    assert reply.status == status, reply.text
    assert reply.header("Content-Type") == "application/problem+json"
    document: dict[str, Any] = reply.json()
    assert document["code"] == code.value
    assert document["type"] == PROBLEM_TYPE_BASE + code.value
    assert document["status"] == status
    assert document["title"]
    assert document["detail"]
    assert document["requestId"] == reply.header("X-Request-Id")
    assert document["instance"] == f"urn:tongban:request:{document['requestId']}"
    return document


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"action": ', ProblemCode.INVALID_JSON),
        (b"", ProblemCode.INVALID_JSON),
        (b'{"action": NaN}', ProblemCode.INVALID_JSON),
        (b'{"action": "a", "action": "b"}', ProblemCode.DUPLICATE_KEY),
        (b'{"n": {"k": 1, "k": 1}}', ProblemCode.DUPLICATE_KEY),
        (b'{"n": 9007199254740993}', ProblemCode.NUMBER_OUT_OF_RANGE),
        (b'{"n": -9007199254740993}', ProblemCode.NUMBER_OUT_OF_RANGE),
        (b'{"n": 1e400}', ProblemCode.NUMBER_OUT_OF_RANGE),
        (b'{"n": 12345678901234567890123}', ProblemCode.NUMBER_OUT_OF_RANGE),
        (b'{"action": "\xff\xfe"}', ProblemCode.INVALID_UTF8),
        (b'{"action": "\\ud800"}', ProblemCode.INVALID_STRING),
        (b"[" * 33 + b"]" * 33, ProblemCode.TOO_DEEP),
        (b"[" * 5000 + b"]" * 5000, ProblemCode.TOO_DEEP),
        (json.dumps({"a": list(range(1001))}).encode(), ProblemCode.ARRAY_TOO_LONG),
    ],
)
def test_bodies_that_are_not_i_json_are_refused_with_their_own_code(
    province: Province, body: bytes, code: ProblemCode
) -> None:
    _problem(_post(province, body), 400, code)


def test_nesting_up_to_the_cap_is_parsed(province: Province) -> None:
    # 32 levels are fine for the parser; the model then refuses the shape (422, not 400).
    body = b'{"action": ' + b"[" * 31 + b"]" * 31 + b"}"
    _problem(_post(province, body), 422, ProblemCode.VALIDATION_FAILED)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
        "application/jsonx",
    ],
)
def test_bodies_must_be_application_json(province: Province, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    reply = _post(province, json.dumps(event_body()).encode(), headers)
    _problem(reply, 415, ProblemCode.UNSUPPORTED_MEDIA_TYPE)
    assert province.log.size() == 0


def test_charset_utf8_is_accepted(province: Province) -> None:
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    assert _post(province, json.dumps(event_body()).encode(), headers).status == 201


def test_a_declared_oversized_body_is_refused_before_it_is_sent(province: Province) -> None:
    connection = province.server.connection(timeout=10)
    try:
        connection.putrequest("POST", "/audit/events")
        connection.putheader("Authorization", f"Bearer {province.tokens[Role.VERIFIER]}")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(MIB + 1))
        connection.endheaders()  # the body never follows: the answer must not wait for it
        response = connection.getresponse()
        reply = Reply(response.status, response.headers, response.read())
    finally:
        connection.close()
    _problem(reply, 413, ProblemCode.BODY_TOO_LARGE)


def test_a_streamed_body_is_cut_off_at_the_cap(province: Province) -> None:
    # Chunked, without Content-Length: the reader must stop pulling right after the cap.
    pulled = 0
    chunk = b" " * 65536
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    token = province.tokens[Role.VERIFIER]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/audit/events",
        "raw_path": b"/audit/events",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"transfer-encoding", b"chunked"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(province.app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    assert MIB < pulled <= MIB + len(chunk)


def test_the_batch_route_has_a_larger_cap(province: Province) -> None:
    padded = json.dumps({"events": [event_body(i) for i in range(3)]}).encode()
    padded = padded[:-1] + b" " * (MIB + 1000) + b"}"  # whitespace is JSON
    reply = province.request(
        "POST", "/audit/events/batch", Role.VERIFIER, body=padded, headers=JSON
    )
    assert reply.status == 201, reply.text
    single = json.dumps(event_body()).encode()
    single = single[:-1] + b" " * (MIB + 1000) + b"}"
    _problem(_post(province, single), 413, ProblemCode.BODY_TOO_LARGE)


@pytest.mark.parametrize(
    "changes",
    [
        {"outcome": ID_NUMBER},  # not one of the outcomes (pydantic)
        {"purpose": ID_NUMBER},  # breaks the event's code rule (ledger)
        {"action": f"verify-{ID_NUMBER}"},  # a run of nine or more digits (ledger)
        {"action": [ID_NUMBER]},  # wrong type (pydantic)
        {"resource": ID_NUMBER * 20},  # too long (pydantic)
        {ID_NUMBER: ID_NUMBER},  # unknown member, named by the number itself
        {"actor": ID_NUMBER},  # actor comes from authentication, never from the body
        {"subjectId": ""},
    ],
)
def test_validation_errors_name_the_field_and_never_echo_the_input(
    province: Province, changes: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = event_body(subjectId=f"did:key:z{ID_NUMBER}") | changes
    reply = _post(province, json.dumps(body).encode())
    document = _problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    assert document["errors"]
    assert all(set(e) == {"field", "rule"} for e in document["errors"])
    assert ID_NUMBER not in reply.text
    assert ID_NUMBER[:9] not in reply.text
    assert all(
        ID_NUMBER not in r.getMessage() and ID_NUMBER not in str(r.__dict__) for r in caplog.records
    )
    assert province.log.size() == 0


@pytest.mark.parametrize(
    ("member", "field"),
    [
        ("nosuch", "/nosuch"),
        ("note.v2", "/note.v2"),
        (ID_NUMBER, "/*"),  # a key that is an ID number is never echoed
        ("张三", "/*"),  # nor one that is a name
        ("tel13812345678", "/*"),
    ],
)
def test_an_unknown_member_is_named_only_when_its_name_is_not_data(
    province: Province, member: str, field: str
) -> None:
    reply = _post(province, json.dumps({**event_body(), member: 1}).encode())
    document = _problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    assert document["errors"] == [
        {"field": field, "rule": "extra_forbidden: unknown members are not permitted"}
    ]
    if field == "/*":
        assert member not in reply.text
        assert member.encode("unicode_escape").decode() not in reply.text


def test_ledger_rule_errors_point_into_the_body(province: Province) -> None:
    document = _problem(
        _post(province, json.dumps(event_body(purpose="Not A Code")).encode()),
        422,
        ProblemCode.VALIDATION_FAILED,
    )
    assert document["errors"][0]["field"] == "/purpose"
    assert "must match" in document["errors"][0]["rule"]


def test_query_and_path_errors_do_not_echo(province: Province) -> None:
    reply = province.request(
        "GET", f"/audit/proofs/inclusion?index={ID_NUMBER}x&size=1", Role.AUDITOR
    )
    document = _problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    assert [e["field"] for e in document["errors"]] == ["index"]
    assert ID_NUMBER not in reply.text
    reply = province.request(
        "GET",
        f"/audit/events/{ID_NUMBER}abc",
        Role.AUDITOR,
        headers={"X-Purpose": "audit.review", "X-Legal-Basis": "prc.pipl.art13"},
    )
    _problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    assert ID_NUMBER not in reply.text


def test_unknown_routes_and_methods_are_problems(province: Province) -> None:
    reply = province.request("GET", f"/nothing/{ID_NUMBER}")
    _problem(reply, 404, ProblemCode.NOT_FOUND)
    assert ID_NUMBER not in reply.text
    reply = province.request("DELETE", "/audit/events", Role.VERIFIER)
    _problem(reply, 405, ProblemCode.METHOD_NOT_ALLOWED)
    assert reply.header("Allow") == "GET, POST"  # append (POST), search (GET)
    # A templated path asked with another method: the router's own 405, a problem too.
    reply = province.request("DELETE", "/audit/events/3", Role.AUDITOR)
    _problem(reply, 405, ProblemCode.METHOD_NOT_ALLOWED)
    assert reply.header("Allow") == "GET"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        # GET /credentials/{digest} would take these paths: the literal path wins.
        ("GET", "/credentials/issue", "POST"),
        ("GET", "/credentials/issue/batch", "POST"),
        ("GET", "/credentials/status", "POST"),
        ("GET", "/credentials/verify", "POST"),
        ("GET", "/audit/events/batch", "POST"),
        ("PUT", "/credentials/issue", "POST"),
        # Two routes share the path: Allow names the methods of both.
        ("DELETE", "/governance/proposals", "GET, POST"),
        ("PATCH", "/clients", "GET, POST"),
    ],
)
@pytest.mark.parametrize("role", [None, Role.ISSUER])
def test_a_known_path_asked_with_another_method_is_405_before_anything_else(
    province: Province, method: str, path: str, allow: str, role: Role | None
) -> None:
    # Without a token, with one, with or without a body: 405, never 401 or 422.
    reply = province.request(method, path, role, json_body={"n": ID_NUMBER})
    document = _problem(reply, 405, ProblemCode.METHOD_NOT_ALLOWED)
    assert reply.header("Allow") == allow
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert ID_NUMBER not in reply.text
    assert document["detail"]
    assert province.log.size() == 0


def test_the_allowed_methods_still_reach_their_routes(province: Province) -> None:
    # The guard only refuses: GET on a digest path and POST on the literal path go through.
    reply = province.request("GET", "/credentials/" + "ab" * 32, Role.ISSUER, headers=PURPOSE)
    assert reply.status != 405
    reply = province.request("POST", "/credentials/issue", Role.ISSUER, json_body={})
    assert reply.status != 405
    assert province.request("GET", "/governance/proposals").status != 405


def test_an_unexpected_error_is_a_bare_500_and_its_message_is_not_logged(
    province: Province, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> None:
        raise RuntimeError(f"lookup failed for {ID_NUMBER}")

    province.app.add_api_route("/test/boom", boom)
    caplog.set_level(logging.DEBUG)
    reply = province.request("GET", "/test/boom")
    document = _problem(reply, 500, ProblemCode.INTERNAL_ERROR)
    assert ID_NUMBER not in reply.text
    assert "RuntimeError" not in reply.text
    logged = [r for r in caplog.records if getattr(r, "error", None) == "RuntimeError"]
    assert logged, "the exception type is logged"
    assert logged[0].request_id == document["requestId"]  # type: ignore[attr-defined]
    assert all(ID_NUMBER not in str(r.__dict__) for r in caplog.records)
    assert all(r.exc_info is None for r in caplog.records)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            StoreBusyError("the store at /var/lib/tongban/store.sqlite is busy"),
            ProblemCode.STORE_UNAVAILABLE,
        ),
        (
            ChainUnavailableError("chain node at http://10.0.0.7:8545 is unreachable"),
            ProblemCode.CHAIN_UNAVAILABLE,
        ),
    ],
)
def test_store_and_chain_failures_are_503_without_internal_detail(
    province: Province, error: Exception, code: ProblemCode
) -> None:
    def failing() -> None:
        raise error

    province.app.add_api_route("/test/failing", failing)
    reply = province.request("GET", "/test/failing")
    _problem(reply, 503, code)
    assert reply.header("Retry-After") is not None
    assert "/var/lib" not in reply.text
    assert "10.0.0.7" not in reply.text
