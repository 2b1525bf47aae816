"""Authentication and authorization: 401/403 are problems and access events; rate limits."""

from __future__ import annotations

from pathlib import Path

from api.errors import ProblemCode
from api.http.context import RateLimits
from api.http.ratelimit import RateLimiter, RatePolicy
from api.province.clients import Role, new_token
from ledger.audit.events import AccessEvent
from tests.helpers.server import ORG, Province, event_body, running_province


def _denials(province: Province) -> list[AccessEvent]:
    return [e for e in province.events() if e.action == "api.denied"]


def test_no_token_is_401_with_a_challenge_and_an_access_event(province: Province) -> None:
    reply = province.request("POST", "/audit/events", json_body=event_body())
    assert reply.status == 401
    assert reply.json()["code"] == ProblemCode.UNAUTHENTICATED
    assert reply.header("WWW-Authenticate") == 'Bearer realm="tongban"'
    [denied] = _denials(province)
    assert (denied.actor, denied.actor_org) == ("anonymous", "anonymous")
    assert (denied.resource, denied.outcome) == ("record:api_route", "denied")
    assert (denied.purpose, denied.legal_basis) == ("access-control", "tongban.policy")
    assert denied.request_id == reply.header("X-Request-Id")
    assert denied.subject is None
    assert province.log.size() == 1  # the refused event itself was not appended


def test_unknown_malformed_and_non_bearer_tokens_are_401(province: Province) -> None:
    for authorization in (
        f"Bearer {new_token()}",
        "Bearer tb_nope",
        "Basic dXNlcjpwdw==",
        "Bearer",
    ):
        reply = province.server.request("GET", "/clients", headers={"Authorization": authorization})
        assert reply.status == 401, authorization
        assert reply.json()["code"] == ProblemCode.UNAUTHENTICATED
        assert (reply.header("WWW-Authenticate") or "").startswith('Bearer realm="tongban"')
    assert len(_denials(province)) == 4


def test_a_revoked_token_is_401_and_the_event_names_the_client(province: Province) -> None:
    province.context.clients.revoke("auditor-app")
    reply = province.request("GET", "/audit/proofs/consistency?from=1&to=1", Role.AUDITOR)
    assert reply.status == 401
    assert 'error="invalid_token"' in (reply.header("WWW-Authenticate") or "")
    [denied] = _denials(province)
    assert (denied.actor, denied.actor_org) == ("auditor-app", ORG)


def test_a_wrong_role_is_403_and_logged_with_the_client_identity(province: Province) -> None:
    reply = province.request("GET", "/clients", Role.AUDITOR)
    assert reply.status == 403
    document = reply.json()
    assert document["code"] == ProblemCode.FORBIDDEN
    assert "operator" in document["detail"]
    [denied] = _denials(province)
    assert (denied.actor, denied.actor_org, denied.outcome) == ("auditor-app", ORG, "denied")
    assert denied.request_id == reply.header("X-Request-Id")


def test_an_unauthenticated_request_is_refused_before_its_body_is_read(province: Province) -> None:
    reply = province.server.request(
        "POST", "/audit/events", body=b'{"a": 1, "a": 2}', headers={"Content-Type": "text/plain"}
    )
    assert reply.status == 401


def test_identity_comes_from_the_token_not_the_body(province: Province) -> None:
    forged = event_body() | {"actor": "issuer-app", "actorOrg": "440000"}
    assert province.request("POST", "/audit/events", Role.VERIFIER, json_body=forged).status == 422
    reply = province.request("POST", "/audit/events", Role.VERIFIER, json_body=event_body())
    event = reply.json()["event"]
    assert (event["actor"], event["actorOrg"]) == ("verifier-app", ORG)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_clients_are_rate_limited_with_retry_after(tmp_path: Path) -> None:
    clock = _Clock()
    limits = RateLimits.default(clock)
    limits.clients = RateLimiter(RatePolicy(rate=0.5, burst=2), clock=clock)
    with running_province(tmp_path, rate_limits=limits) as province:
        for n in range(2):
            reply = province.request(
                "POST", "/audit/events", Role.VERIFIER, json_body=event_body(n)
            )
            assert reply.status == 201
        reply = province.request("POST", "/audit/events", Role.VERIFIER, json_body=event_body(9))
        assert reply.status == 429
        assert reply.json()["code"] == ProblemCode.RATE_LIMITED
        assert reply.header("Retry-After") == "2"
        # Another client has its own bucket.
        assert province.request("GET", "/clients", Role.OPERATOR).status == 200
        clock.now += 2
        reply = province.request("POST", "/audit/events", Role.VERIFIER, json_body=event_body(9))
        assert reply.status == 201
        assert province.log.size() == 3
        metrics = province.request("GET", "/metrics").text
        assert 'tongban_rate_limited_total{bucket="client"} 1' in metrics


def test_a_flood_without_tokens_is_limited_and_does_not_flood_the_log(tmp_path: Path) -> None:
    clock = _Clock()
    limits = RateLimits.default(clock)
    limits.anonymous = RateLimiter(RatePolicy(rate=1.0, burst=3), clock=clock)
    with running_province(tmp_path, rate_limits=limits) as province:
        statuses = [
            province.server.request("GET", "/clients", token=new_token()).status for _ in range(10)
        ]
        assert statuses == [401] * 3 + [429] * 7
        assert len(_denials(province)) == 3
        # A valid client is not held back by the anonymous bucket.
        assert province.request("GET", "/clients", Role.OPERATOR).status == 200
