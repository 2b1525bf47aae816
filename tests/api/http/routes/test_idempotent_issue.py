"""``Idempotency-Key`` on the issuing routes: a retry answers what the first call issued.

A retried issuance with the same key and body answers the same credentials
(same digests, same status) and stores and logs nothing new; another body is a
409; keys are per client, survive a restart of the province, and expire. The
province's store is SQLite, then PostgreSQL (``store_target``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from api.http.app import create_app
from api.province.clients import Role
from api.runtime.parts import open_province
from credentials.credential import IssueRequest
from credentials.holder import Holder
from credentials.issuance import DEFAULT_TTL_MS, Idempotency, Replay, request_hash
from credentials.zhengzhao.profile import Agency
from tests.helpers.agencies import TEST_AGENCY, TEST_AGENCY_NAME
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import ORGS, PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue_body, problem
from tests.helpers.server import ApiServer, Reply
from tests.helpers.stores import StoreTarget

KEY = "enrol-2026-0001"


@pytest.fixture
def zhejiang(world: World, tmp_path: Path, store_target: StoreTarget) -> Iterator[ServedProvince]:
    """Zhejiang, issuing; its store on each engine in turn."""
    with served_province(world, tmp_path, ZJ, database_url=_url(store_target)) as province:
        yield province


def _url(store_target: StoreTarget) -> str | None:
    """The province's ``database_url`` for ``store_target`` (None: its SQLite file)."""
    return None if store_target.engine == "sqlite" else str(store_target.where)


def _stored(province: ServedProvince) -> int:
    with province.parts.db.read() as tx:
        row = tx.fetchone("SELECT COUNT(*) FROM cred_issued")
    assert row is not None
    return int(row[0])


def _issue_events(province: ServedProvince) -> list[str]:
    return [e.resource for e in events(province) if e.action == "credential.issue"]


def _post(
    province: ServedProvince,
    path: str,
    body: dict[str, Any],
    key: str | None = KEY,
    token: str | None = None,
) -> Reply:
    headers = dict(PERSONAL)
    if key is not None:
        headers["Idempotency-Key"] = key
    return province.server.request(
        "POST",
        path,
        json_body=body,
        headers=headers,
        token=token or province.tokens[Role.ISSUER],
    )


def _digests(reply: Reply) -> list[str]:
    assert reply.status == 201, reply.text
    document = reply.json()
    return [r["digest"] for r in document.get("results", [document])]


def test_a_retry_answers_the_same_credential_and_issues_nothing(
    zhejiang: ServedProvince,
) -> None:
    body = issue_body(Holder.generate().did)
    first = _post(zhejiang, "/credentials/issue", body)
    [digest] = _digests(first)
    assert first.header("Idempotent-Replayed") is None
    stored, logged = _stored(zhejiang), _issue_events(zhejiang)
    assert logged == [f"credential:{digest}"]
    [event] = [e for e in events(zhejiang) if e.action == "credential.issue"]
    assert event.idempotency_key == f"credential.issue:{digest}"

    log_size = zhejiang.parts.audit_log.size()
    again = _post(zhejiang, "/credentials/issue", body)
    assert _digests(again) == [digest]
    assert zhejiang.parts.audit_log.size() == log_size
    assert again.header("Idempotent-Replayed") == "true"
    assert again.header("Location") == f"/credentials/{digest}"
    assert again.json()["credential"] == first.json()["credential"]
    assert _stored(zhejiang) == stored
    assert _issue_events(zhejiang) == logged

    # Without a key the same body is a new credential, as before.
    fresh = _post(zhejiang, "/credentials/issue", body, key=None)
    assert _digests(fresh) != [digest]
    assert _stored(zhejiang) == stored + 1


def test_a_replay_shows_the_anchoring_as_it_is_now(zhejiang: ServedProvince) -> None:
    body = issue_body(Holder.generate().did)
    [digest] = _digests(_post(zhejiang, "/credentials/issue", body))
    zhejiang.anchor_all()
    again = _post(zhejiang, "/credentials/issue", body).json()
    assert again["digest"] == digest
    assert again["anchoring"]["state"] == "anchored"
    assert again["credential"]["proof"]["type"] == "DataIntegrityProof"
    assert again["credential"]["anchor"]["type"] == "TongbanAnchorProof2026"


def test_the_same_key_with_another_body_is_a_conflict(zhejiang: ServedProvince) -> None:
    holder = Holder.generate().did
    _digests(_post(zhejiang, "/credentials/issue", issue_body(holder)))
    stored, logged = _stored(zhejiang), _issue_events(zhejiang)
    other = issue_body(holder, validUntil="2099-12-31T00:00:00Z")
    refused = problem(
        _post(zhejiang, "/credentials/issue", other), 409, ProblemCode.IDEMPOTENCY_KEY_REUSED
    )
    assert KEY not in refused["detail"]
    # The same requests through the batch route are another request too.
    batch = {"requests": [issue_body(holder)]}
    problem(
        _post(zhejiang, "/credentials/issue/batch", batch), 409, ProblemCode.IDEMPOTENCY_KEY_REUSED
    )
    assert _stored(zhejiang) == stored
    assert _issue_events(zhejiang) == logged


def test_a_batch_is_replayed_in_order_and_checked_whole(zhejiang: ServedProvince) -> None:
    body = {"requests": [issue_body(Holder.generate().did) for _ in range(5)]}
    first = _digests(_post(zhejiang, "/credentials/issue/batch", body))
    assert len(set(first)) == 5
    stored, logged = _stored(zhejiang), _issue_events(zhejiang)
    again = _post(zhejiang, "/credentials/issue/batch", body)
    assert _digests(again) == first
    assert again.header("Idempotent-Replayed") == "true"
    assert _stored(zhejiang) == stored
    assert _issue_events(zhejiang) == logged
    shorter = {"requests": body["requests"][:4]}
    problem(
        _post(zhejiang, "/credentials/issue/batch", shorter),
        409,
        ProblemCode.IDEMPOTENCY_KEY_REUSED,
    )
    # A key is not spent by a refused request: the body was not issued.
    bad = {"requests": [issue_body(Holder.generate().did, template="no-such-template")]}
    refused = _post(zhejiang, "/credentials/issue/batch", bad, key="refused-once")
    problem(refused, 422, ProblemCode.VALIDATION_FAILED)
    assert _digests(_post(zhejiang, "/credentials/issue/batch", shorter, key="refused-once"))
    assert _stored(zhejiang) == stored + 4


def test_keys_belong_to_their_client(zhejiang: ServedProvince) -> None:
    other = zhejiang.context.clients.create(
        "second issuing system",
        ORGS[ZJ],
        [Role.ISSUER],
        client_id="issuer-two",
        agencies=[TEST_AGENCY],
    )
    body = issue_body(Holder.generate().did)
    mine = _digests(_post(zhejiang, "/credentials/issue", body))
    theirs = _digests(_post(zhejiang, "/credentials/issue", body, token=other.token))
    assert mine != theirs
    assert _digests(_post(zhejiang, "/credentials/issue", body, token=other.token)) == theirs
    assert _stored(zhejiang) == 2


def test_a_malformed_key_is_refused_without_echo(zhejiang: ServedProvince) -> None:
    body = issue_body(Holder.generate().did)
    for key in ("-starts-with-dash", "has space", "k" * 129):
        reply = _post(zhejiang, "/credentials/issue", body, key=key)
        refused = problem(reply, 422, ProblemCode.VALIDATION_FAILED)
        assert refused["errors"][0]["field"] == "Idempotency-Key"
        assert key not in reply.text
    assert _stored(zhejiang) == 0


def test_concurrent_retries_issue_once(zhejiang: ServedProvince) -> None:
    body = {"requests": [issue_body(Holder.generate().did) for _ in range(20)]}
    replies: list[Reply] = []

    def send() -> None:
        replies.append(_post(zhejiang, "/credentials/issue/batch", body, key="raced"))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    answers = [_digests(reply) for reply in replies]
    assert len(answers) == 4
    assert all(answer == answers[0] for answer in answers)
    assert _stored(zhejiang) == 20
    assert sorted(_issue_events(zhejiang)) == sorted(f"credential:{d}" for d in answers[0])


def test_a_replay_records_the_events_a_crash_lost(zhejiang: ServedProvince) -> None:
    holder = Holder.generate().did
    body = issue_body(holder)
    agency = Agency(TEST_AGENCY, TEST_AGENCY_NAME)  # what the route resolves for this client
    request = IssueRequest(body["template"], holder, body["claims"], agency=agency)
    # The key stands for the body as sent, which named no agency.
    sent = IssueRequest(body["template"], holder, body["claims"])
    key = Idempotency("issuer-app", KEY, request_hash("issue", [sent]))
    # What a crash after the store's commit leaves: credential and key, no event.
    issued = zhejiang.parts.issuer.issue_once([request], key)
    assert issued.replay is Replay.NEW
    [credential] = issued.credentials
    assert _issue_events(zhejiang) == []
    reply = _post(zhejiang, "/credentials/issue", body)
    assert _digests(reply) == [credential.digest_hex]
    [event] = [e for e in events(zhejiang) if e.action == "credential.issue"]
    assert event.resource == f"credential:{credential.digest_hex}"
    assert event.request_id == reply.header("X-Request-Id")
    assert event.subject is not None
    _post(zhejiang, "/credentials/issue", body)
    assert len(_issue_events(zhejiang)) == 1


def test_keys_survive_a_restart(world: World, tmp_path: Path, store_target: StoreTarget) -> None:
    body = {"requests": [issue_body(Holder.generate().did) for _ in range(3)]}
    with served_province(world, tmp_path, ZJ, database_url=_url(store_target)) as before:
        first = _digests(_post(before, "/credentials/issue/batch", body))
        settings, plan, token = before.parts.settings, before.parts.plan, before.tokens
    parts = open_province(settings, plan, writer=True)
    parts.index.sync()
    parts.keyring.refresh()
    server = ApiServer(create_app(parts.context()))
    server.start()
    try:
        headers = {**PERSONAL, "Idempotency-Key": KEY}
        reply = server.request(
            "POST",
            "/credentials/issue/batch",
            json_body=body,
            headers=headers,
            token=token[Role.ISSUER],
        )
        assert _digests(reply) == first
        assert reply.header("Idempotent-Replayed") == "true"
        with parts.db.read() as tx:
            assert tx.fetchone("SELECT COUNT(*) FROM cred_issued") == (3,)
    finally:
        server.stop()
        parts.close()


class _Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def test_keys_expire_after_a_day(zhejiang: ServedProvince) -> None:
    clock = _Clock(1_900_000_000_000)
    zhejiang.parts.issuer.clock = clock
    body = issue_body(Holder.generate().did)
    [digest] = _digests(_post(zhejiang, "/credentials/issue", body))
    clock.now += DEFAULT_TTL_MS - 1
    assert _digests(_post(zhejiang, "/credentials/issue", body)) == [digest]
    clock.now += 1
    # Expired: the key acts as new, with this body or another.
    [renewed] = _digests(_post(zhejiang, "/credentials/issue", body))
    assert renewed != digest
    assert _stored(zhejiang) == 2
    assert _digests(_post(zhejiang, "/credentials/issue", body)) == [renewed]
    with zhejiang.parts.db.read() as tx:
        assert tx.fetchone("SELECT COUNT(*) FROM cred_idempotency") == (1,)
