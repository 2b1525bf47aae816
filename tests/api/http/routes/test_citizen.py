"""The citizen view over HTTP: the holder's key signature is the authentication."""

from __future__ import annotations

from pathlib import Path

from api.errors import ProblemCode
from api.http.context import RateLimits
from api.http.ratelimit import RateLimiter, RatePolicy
from api.province.clients import Role
from ledger.audit.citizen_request import request_payload
from ledger.audit.receipts import Receipt
from ledger.crypto import multikey
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.verify import verify_inclusion
from tests.helpers.contracts import ZJ, World
from tests.helpers.server import Province, Reply, event_body, running_province

ID_NUMBER = "110101199003071234"


def _holder() -> tuple[LocalSigner, str]:
    signer = LocalSigner("holder", Sm2PrivateKey.generate())
    return signer, "did:key:" + multikey.encode(signer.public_key)


def _ask(province: Province, holder: LocalSigner, did: str) -> tuple[str, Reply]:
    reply = province.request("POST", "/citizen/challenge", json_body={"holder": did})
    assert reply.status == 200, reply.text
    offered = reply.json()
    assert (offered["holder"], offered["logId"], offered["expiresInSeconds"]) == (did, ZJ, 300)
    assert offered["domain"] == "tongban/citizen-view/v1"
    challenge = offered["challenge"]
    signature = holder.sign(request_payload(ZJ, did, challenge)).hex()
    body = {"holder": did, "challenge": challenge, "signature": signature}
    return challenge, province.request("POST", "/citizen/access-history", json_body=body)


def test_a_holder_sees_who_accessed_their_data_with_proofs(
    anchored_province: Province, world: World
) -> None:
    province = anchored_province
    holder, did = _holder()
    _, other = _holder()
    for n in range(6):
        subject = did if n % 2 == 0 else other
        reply = province.request(
            "POST", "/audit/events", Role.VERIFIER, json_body=event_body(n, subjectId=subject)
        )
        assert reply.status == 201
    province.anchor()
    province.request("POST", "/audit/events", Role.ISSUER, json_body=event_body(9, subjectId=did))

    challenge, reply = _ask(province, holder, did)
    assert reply.status == 200, reply.text
    history = reply.json()
    assert history["holder"] == did
    records = history["records"]
    assert [r["index"] for r in records] == [0, 2, 4, 6]
    assert [r["event"]["actor"] for r in records] == ["verifier-app"] * 3 + ["issuer-app"]
    anchored = history["anchored"]
    assert anchored["treeSize"] == 6
    assert anchored["state"] == "anchored"
    assert world.audit.latest_checkpoint(ZJ).root.hex() == anchored["root"]  # type: ignore[union-attr]
    for record in records[:3]:
        inclusion = record["inclusion"]
        assert inclusion["treeSize"] == 6
        receipt = Receipt.from_json(record["receipt"])
        receipt.verify(SM3_TREE, province.signer.public_key, ZJ)
        verify_inclusion(
            SM3_TREE,
            record["index"],
            6,
            receipt.leaf_hash,
            [bytes.fromhex(p) for p in inclusion["proof"]],
            bytes.fromhex(anchored["root"]),
        )
    assert records[3]["inclusion"] is None  # not anchored yet

    last = province.events()[-1]
    assert (last.action, last.actor) == ("audit.citizen_view", "citizen")
    assert last.request_id == reply.header("X-Request-Id")

    signature = holder.sign(request_payload(ZJ, did, challenge)).hex()
    again = province.request(
        "POST",
        "/citizen/access-history",
        json_body={"holder": did, "challenge": challenge, "signature": signature},
    )
    assert again.status == 403
    assert again.json()["code"] == ProblemCode.CITIZEN_ACCESS_REFUSED


def test_someone_else_cannot_ask_for_the_holder(anchored_province: Province) -> None:
    province = anchored_province
    _, did = _holder()
    intruder, _ = _holder()
    _, reply = _ask(province, intruder, did)
    assert reply.status == 403
    assert reply.json()["code"] == ProblemCode.CITIZEN_ACCESS_REFUSED
    assert "signature" in reply.json()["detail"]
    assert not [e for e in province.events() if e.action == "audit.citizen_view"]


def test_a_raw_id_number_is_refused_and_not_echoed(anchored_province: Province) -> None:
    for holder in (ID_NUMBER, f"did:key:z{ID_NUMBER}"):
        reply = anchored_province.request(
            "POST", "/citizen/challenge", json_body={"holder": holder}
        )
        assert reply.status == 422, holder
        assert reply.json()["errors"][0]["field"] == "/holder"
        assert ID_NUMBER not in reply.text


def test_citizen_routes_are_rate_limited_per_holder(tmp_path: Path, world: World) -> None:
    limits = RateLimits.default()
    limits.holders = RateLimiter(RatePolicy(rate=0.01, burst=2))
    with running_province(tmp_path, world, rate_limits=limits) as province:
        _, did = _holder()
        _, other = _holder()
        statuses = [
            province.request("POST", "/citizen/challenge", json_body={"holder": did}).status
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        reply = province.request("POST", "/citizen/challenge", json_body={"holder": other})
        assert reply.status == 200


def test_without_an_anchorer_the_citizen_view_is_unavailable(province: Province) -> None:
    _, did = _holder()
    reply = province.request("POST", "/citizen/challenge", json_body={"holder": did})
    assert reply.status == 503
    assert reply.json()["code"] == ProblemCode.UNAVAILABLE


def test_all_citizens_share_one_bucket_taken_before_the_body_is_read(
    tmp_path: Path, world: World
) -> None:
    limits = RateLimits.default()
    limits.citizens = RateLimiter(RatePolicy(rate=0.01, burst=2))
    with running_province(tmp_path, world, rate_limits=limits) as province:
        statuses = [
            province.request(
                "POST", "/citizen/challenge", json_body={"holder": _holder()[1]}
            ).status
            for _ in range(2)
        ]
        assert statuses == [200, 200]
        reply = province.server.request(
            "POST", "/citizen/challenge", body=b"not json", headers={"Content-Type": "text/plain"}
        )
        assert reply.status == 429
        assert reply.json()["code"] == ProblemCode.RATE_LIMITED
