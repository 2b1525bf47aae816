"""Unit tests of the API's parts: token buckets, the client registry, problem mapping.

The client registry's tests run on SQLite, then on PostgreSQL (``store_target``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.http.problems import field_issues, pointer_token
from api.http.ratelimit import RateLimiter, RatePolicy, retry_after
from api.province.clients import (
    ClientConflictError,
    ClientRegistry,
    InvalidClientError,
    Role,
    UnknownClientError,
    hash_token,
)
from tests.helpers.stores import StoreTarget


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = _Clock()
    limiter = RateLimiter(RatePolicy(rate=2.0, burst=3), clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a")
    assert wait == pytest.approx(0.5)
    assert retry_after(wait) == "1"
    assert limiter.take("b") == 0.0  # buckets are per key
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    clock.now += 100
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]  # capped at the burst
    assert limiter.take("a") > 0


def test_buckets_are_bounded_in_number() -> None:
    limiter = RateLimiter(RatePolicy(rate=1.0, burst=1), max_keys=100, clock=_Clock())
    for i in range(1000):
        limiter.take(f"did:key:z{i}")
    assert len(limiter) == 100
    with pytest.raises(ValueError, match="rate"):
        RatePolicy(rate=0, burst=1)


def test_tokens_are_shown_once_and_stored_as_sm3_hashes(store_target: StoreTarget) -> None:
    db = store_target.open()
    try:
        registry = ClientRegistry(db)
        issued = registry.create("Zhejiang verifier", "330000", [Role.VERIFIER])
        assert re.fullmatch(r"tb_[A-Za-z0-9_-]{43}", issued.token)
        assert issued.token not in repr(issued)
        assert re.fullmatch(r"cl-[a-z]{16}", issued.client.client_id)
        with db.read() as tx:
            rows = tx.fetchall("SELECT * FROM api_clients")
        assert issued.token not in str(rows)
        assert hash_token(issued.token) in [r[4] for r in rows]
        assert registry.find_by_token(issued.token) == issued.client
        altered = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
        assert registry.find_by_token(altered) is None
        assert registry.find_by_token("tb_short") is None
        assert registry.find_by_token(issued.token + "x") is None
    finally:
        db.close()
    if store_target.engine == "sqlite":
        # Also not in the file's free pages; on PostgreSQL the rows above are all there is.
        assert isinstance(store_target.where, Path)
        assert issued.token.encode() not in store_target.where.read_bytes()


def test_client_rules(store_target: StoreTarget) -> None:
    db = store_target.open()
    try:
        registry = ClientRegistry(db)
        operator = registry.create("Ops", "330000", [Role.OPERATOR], client_id="ops")
        with pytest.raises(ClientConflictError, match="exists"):
            registry.create("Ops again", "330000", [Role.AUDITOR], client_id="ops")
        with pytest.raises(InvalidClientError) as bad:
            registry.create("x", "110101199003071234", [Role.AUDITOR])
        assert bad.value.field == "organisation"
        assert "110101199003071234" not in str(bad.value)
        with pytest.raises(InvalidClientError, match="clientId"):
            registry.create("x", "330000", [Role.AUDITOR], client_id="Has Spaces")
        with pytest.raises(InvalidClientError, match="roles"):
            registry.create("x", "330000", [])
        with pytest.raises(InvalidClientError, match="name"):
            registry.create(" padded ", "330000", [Role.AUDITOR])
        with pytest.raises(ClientConflictError, match="last active operator"):
            registry.revoke("ops")
        registry.create("Ops 2", "330000", [Role.OPERATOR], client_id="ops-2")
        revoked = registry.revoke("ops")
        assert revoked.revoked_at_ms is not None
        assert not revoked.active
        assert registry.revoke("ops") == revoked  # the first revocation time is kept
        assert registry.find_by_token(operator.token) == revoked
        with pytest.raises(UnknownClientError):
            registry.revoke("nobody")
        assert [c.client_id for c in registry.list()] == ["ops", "ops-2"]
        assert [c.client_id for c in registry.list(include_revoked=False)] == ["ops-2"]
    finally:
        db.close()


def test_field_issues_drop_inputs_and_unknown_keys() -> None:
    secret = "110101199003071234"
    issues = field_issues(
        [
            {
                "type": "extra_forbidden",
                "loc": ("body", "events", 2, secret),
                "msg": "x",
                "input": secret,
            },
            {
                "type": "string_type",
                "loc": ("query", "size"),
                "msg": "Input should be a valid string",
                "input": secret,
            },
            {
                "type": "value_error",
                "loc": ("body", "name"),
                "msg": f"Value error, bad {secret}",
                "input": secret,
            },
            {"type": "dict_key", "loc": ("body", "map", f"k{secret}", "[key]"), "msg": "bad"},
            {"type": "extra_forbidden", "loc": ("body", "events", 3, "nickName"), "msg": "x"},
            {"type": "extra_forbidden", "loc": ("body", "张三"), "msg": "x", "input": 1},
            {"type": "extra_forbidden", "loc": ("body", "tel13812345678"), "msg": "x"},
            {"type": "extra_forbidden", "loc": ("body", "v1.2_ok-9"), "msg": "x"},
        ]
    )
    assert [(i.field, i.rule.split(":")[0]) for i in issues] == [
        ("/events/2/*", "extra_forbidden"),
        ("size", "string_type"),
        ("/name", "value_error"),
        ("/map/*/*", "dict_key"),
        ("/events/3/nickName", "extra_forbidden"),
        ("/*", "extra_forbidden"),
        ("/*", "extra_forbidden"),
        ("/v1.2_ok-9", "extra_forbidden"),
    ]
    dumped = str([i.model_dump() for i in issues])
    assert secret not in dumped
    assert "张三" not in dumped
    assert "13812345678" not in dumped


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("nosuch", True),
        ("_private", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("x12345", True),
        ("x123456", False),  # a run of six digits may be an ID or phone number
        ("110101199003071234", False),
        ("张三", False),
        ("name with space", False),
        ("a/b", False),
        ("a~b", False),
        ("9lives", False),
        ("", False),
    ],
)
def test_only_names_that_look_like_member_names_are_shown(name: str, shown: bool) -> None:
    assert pointer_token(name) == (name if shown else "*")
