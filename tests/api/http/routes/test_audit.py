"""The audit routes end to end: receipts, replays, batches, reads, proofs, export vs the chain."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest

from api.errors import ProblemCode
from api.http.context import ApiLimits
from api.http.schemas.audit import BatchOut
from api.http.schemas.common import AppendedEvent
from api.province.clients import Role
from ledger.audit.chain_view import ContractChainView
from ledger.audit.checkpoints import parse_note
from ledger.audit.events import AccessEvent, Caller
from ledger.audit.export import verify_export
from ledger.audit.receipts import Receipt
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.verify import verify_consistency, verify_inclusion
from tests.helpers.audit import access
from tests.helpers.contracts import ZJ, World
from tests.helpers.server import ORG, PURPOSE, Province, event_body, running_province

HOLDER = "did:key:zSomeHolder"


def _append(province: Province, n: int = 0, **overrides: object) -> dict[str, object]:
    reply = province.request(
        "POST", "/audit/events", Role.VERIFIER, json_body=event_body(n, **overrides)
    )
    assert reply.status == 201, reply.text
    document: dict[str, object] = reply.json()
    return document


def test_an_appended_event_comes_back_with_a_receipt_that_verifies(province: Province) -> None:
    reply = province.request(
        "POST", "/audit/events", Role.ISSUER, json_body=event_body(7, subjectId=HOLDER)
    )
    assert reply.status == 201
    assert reply.header("Location") == "/audit/events/0"
    document = reply.json()
    event = document["event"]
    assert document["index"] == 0
    assert document["replayed"] is False
    assert (event["actor"], event["actorOrg"], event["logId"]) == ("issuer-app", ORG, ZJ)
    assert event["requestId"] == reply.header("X-Request-Id")
    assert event["subject"]["pseudonym"] == province.pseudonyms.subject(HOLDER).pseudonym
    assert HOLDER not in reply.text  # the subject identifier is never echoed or stored
    # The body is exactly the documented response model.
    assert AppendedEvent.model_validate(document).model_dump(mode="json") == document
    receipt = Receipt.from_json(document["receipt"])
    receipt.verify(SM3_TREE, province.signer.public_key, ZJ)
    assert receipt.leaf_hash == SM3_TREE.hash_leaf(AccessEvent.from_json(event).digest())


def test_an_idempotent_replay_returns_the_original_with_200(province: Province) -> None:
    key = {"Idempotency-Key": "order-7"}
    first = province.request(
        "POST", "/audit/events", Role.VERIFIER, json_body=event_body(1), headers=key
    )
    again = province.request(
        "POST", "/audit/events", Role.VERIFIER, json_body=event_body(1), headers=key
    )
    assert (first.status, again.status) == (201, 200)
    assert again.json()["replayed"] is True
    assert again.json()["event"] == first.json()["event"]
    assert again.json()["receipt"] == first.json()["receipt"]
    in_body = province.request(
        "POST", "/audit/events", Role.VERIFIER, json_body=event_body(1, idempotencyKey="order-7")
    )
    assert in_body.status == 200
    assert province.log.size() == 1
    # Another client's key space is its own.
    other = province.request(
        "POST", "/audit/events", Role.ISSUER, json_body=event_body(1), headers=key
    )
    assert other.status == 201
    # The same key for a different event is a conflict, and nothing is appended.
    changed = province.request(
        "POST", "/audit/events", Role.VERIFIER, json_body=event_body(2), headers=key
    )
    assert changed.status == 409
    assert changed.json()["code"] == ProblemCode.CONFLICT
    mismatch = province.request(
        "POST",
        "/audit/events",
        Role.VERIFIER,
        json_body=event_body(1, idempotencyKey="other"),
        headers=key,
    )
    assert mismatch.status == 422
    assert mismatch.json()["errors"][0]["field"] == "Idempotency-Key"
    assert province.log.size() == 2


def test_a_batch_is_appended_in_order_and_all_or_nothing(province: Province) -> None:
    events = [event_body(i) for i in range(5)]
    reply = province.request(
        "POST", "/audit/events/batch", Role.OPERATOR, json_body={"events": events}
    )
    assert reply.status == 201, reply.text
    assert BatchOut.model_validate(reply.json()).model_dump(mode="json") == reply.json()
    results = reply.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert {r["receipt"]["batch"]["count"] for r in results} == {5}
    for result in results:
        Receipt.from_json(result["receipt"]).verify(SM3_TREE, province.signer.public_key, ZJ)
    assert results[3]["event"]["resource"] == events[3]["resource"]

    bad = [event_body(10 + i) for i in range(4)]
    bad[2]["purpose"] = "Free Text"
    reply = province.request(
        "POST", "/audit/events/batch", Role.OPERATOR, json_body={"events": bad}
    )
    assert reply.status == 422
    assert reply.json()["errors"][0]["field"] == "/events/2/purpose"
    bad[2] = event_body(12, subjectId="")
    reply = province.request(
        "POST", "/audit/events/batch", Role.OPERATOR, json_body={"events": bad}
    )
    assert reply.status == 422
    assert reply.json()["errors"][0]["field"].startswith("/events/2/")
    assert province.log.size() == 5

    reply = province.request("POST", "/audit/events/batch", Role.OPERATOR, json_body={"events": []})
    assert reply.status == 422
    reply = province.request(
        "POST",
        "/audit/events/batch",
        Role.OPERATOR,
        json_body={"events": events[:1]},
        headers={"Idempotency-Key": "k"},
    )
    assert reply.status == 422
    assert reply.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_batch_reports_replays_and_conflicts_per_event(province: Province) -> None:
    _append(province, 1, idempotencyKey="k-1")
    events = [
        event_body(1, idempotencyKey="k-1"),
        event_body(2, idempotencyKey="k-1"),
        event_body(3),
    ]
    reply = province.request(
        "POST", "/audit/events/batch", Role.VERIFIER, json_body={"events": events}
    )
    assert reply.status == 201
    results = reply.json()["results"]
    assert [(r["index"], r["replayed"], r["conflict"]) for r in results] == [
        (0, True, False),
        (0, True, True),
        (1, False, False),
    ]


def test_the_batch_size_limit_is_configurable(tmp_path: Path) -> None:
    with running_province(tmp_path, limits=ApiLimits(max_batch_events=3)) as province:
        events = [event_body(i) for i in range(4)]
        reply = province.request(
            "POST", "/audit/events/batch", Role.VERIFIER, json_body={"events": events}
        )
        assert reply.status == 422
        assert reply.json()["errors"][0]["field"] == "/events"
        assert province.log.size() == 0


def test_reading_an_event_needs_a_declared_purpose_and_is_logged(province: Province) -> None:
    appended = _append(province, 3)
    reply = province.request("GET", "/audit/events/0", Role.AUDITOR)
    assert reply.status == 422
    assert reply.json()["errors"][0]["field"] == "X-Purpose"
    reply = province.request(
        "GET",
        "/audit/events/0",
        Role.AUDITOR,
        headers={"X-Purpose": "Audit Review", "X-Legal-Basis": "prc.pipl.art13"},
    )
    assert reply.status == 422
    assert reply.json()["errors"][0]["field"] == "X-Purpose"
    assert province.log.size() == 1

    reply = province.request("GET", "/audit/events/0", Role.AUDITOR, headers=PURPOSE)
    assert reply.status == 200
    assert reply.json() == appended
    missing = province.request("GET", "/audit/events/99", Role.AUDITOR, headers=PURPOSE)
    assert missing.status == 404
    reads = [e for e in province.events() if e.action == "audit.read"]
    assert [(e.actor, e.resource, e.outcome) for e in reads] == [
        ("auditor-app", "record:audit_event", "success"),
        ("auditor-app", "record:audit_event", "not_found"),
    ]
    assert (reads[0].purpose, reads[0].legal_basis) == ("audit.review", "prc.pipl.art13")
    assert reads[0].request_id == reply.header("X-Request-Id")


def test_proof_sizes_are_checked(province: Province) -> None:
    for n in range(3):
        _append(province, n)
    for query, field in (
        ("/audit/proofs/inclusion?index=0&size=4", "size"),
        ("/audit/proofs/inclusion?index=3&size=3", "index"),
        ("/audit/proofs/inclusion?index=0&size=0", "size"),
        ("/audit/proofs/consistency?from=2&to=4", "to"),
        ("/audit/proofs/consistency?from=3&to=2", "from"),
        ("/audit/proofs/consistency?from=0&to=2", "from"),
    ):
        reply = province.request("GET", query, Role.AUDITOR)
        assert reply.status == 422, query
        assert reply.json()["errors"][0]["field"] == field, query
    assert province.request("GET", "/audit/checkpoints", Role.AUDITOR).status == 503


def test_checkpoints_proofs_and_export_verify_against_the_chain(
    anchored_province: Province, world: World
) -> None:
    province = anchored_province
    for n in range(6):
        _append(province, n)
    province.anchor()
    for n in range(6, 11):
        _append(province, n)
    province.anchor()

    reply = province.request("GET", "/audit/checkpoints", Role.AUDITOR)
    assert reply.status == 200, reply.text
    listing = reply.json()
    assert listing["origin"] == f"tongban/{world.client.chain_id}/{ZJ}"
    sizes = [c["treeSize"] for c in listing["checkpoints"]]
    assert sizes == [11, 6]
    for checkpoint in listing["checkpoints"]:
        assert checkpoint["state"] == "anchored"
        assert checkpoint["blockNumber"] > 0
        note = parse_note(checkpoint["note"])
        note.verify(province.signer.public_key)
        assert note.checkpoint.root.hex() == checkpoint["root"]
        on_chain = [
            c for c in world.audit.checkpoints(ZJ) if c.tree_size == note.checkpoint.tree_size
        ]
        assert on_chain[0].root == note.checkpoint.root
    roots = {c["treeSize"]: bytes.fromhex(c["root"]) for c in listing["checkpoints"]}

    reply = province.request("GET", "/audit/proofs/inclusion?index=4&size=11", Role.AUDITOR)
    assert reply.status == 200
    proof = reply.json()
    assert bytes.fromhex(proof["root"]) == roots[11]
    verify_inclusion(
        SM3_TREE,
        4,
        11,
        bytes.fromhex(proof["leafHash"]),
        [bytes.fromhex(p) for p in proof["proof"]],
        roots[11],
    )
    reply = province.request("GET", "/audit/proofs/consistency?from=6&to=11", Role.AUDITOR)
    assert reply.status == 200
    consistency = reply.json()
    assert (consistency["from"], consistency["to"]) == (6, 11)
    verify_consistency(
        SM3_TREE, 6, 11, [bytes.fromhex(p) for p in consistency["proof"]], roots[6], roots[11]
    )

    reply = province.request("GET", "/audit/export", Role.AUDITOR, headers=PURPOSE)
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/jsonl"
    lines = reply.text.splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "tongban-audit-export/v2"
    report = verify_export(lines, ContractChainView(world.audit, world.registry))
    assert report.valid, report.findings
    assert report.checkpoints_checked == 2
    assert report.events == header["treeSize"] == 12  # 11 appends and the export's own read
    last = json.loads(lines[12])
    assert last["event"]["action"] == "audit.read"
    assert last["event"]["resource"] == "record:audit_export"


def test_export_needs_a_purpose(anchored_province: Province) -> None:
    reply = anchored_province.request("GET", "/audit/export", Role.AUDITOR)
    assert reply.status == 422
    assert anchored_province.log.size() == 0


def test_an_abandoned_export_stops_its_producer(
    anchored_province: Province, caplog: pytest.LogCaptureFixture
) -> None:
    province = anchored_province
    for start in range(0, 20_000, 2_000):
        province.log.append_many(Caller("seed", ORG), [access(start + i) for i in range(2_000)])
    caplog.set_level(logging.INFO, logger="api.http.export_stream")
    connection = province.server.connection()
    connection.request(
        "GET",
        "/audit/export",
        headers={"Authorization": f"Bearer {province.tokens[Role.AUDITOR]}", **PURPOSE},
    )
    response = connection.getresponse()
    assert response.status == 200
    assert len(response.read(100_000)) == 100_000
    connection.close()
    deadline = time.monotonic() + 10
    while any(t.name == "audit-export" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the export producer is still running"
        time.sleep(0.05)
    assert any("abandoned" in r.getMessage() for r in caplog.records)
