"""The audit log: appends, receipts, idempotency, proofs, several writers, persistence."""

from __future__ import annotations

import threading
from typing import Any, cast

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.errors import AuditError, EventRejectedError, ReceiptError
from ledger.audit.events import AccessEvent, Caller, EventInput, Subject, canonical_json
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.crypto.sm3 import sm3
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.tree import MemoryTree
from ledger.merkle.verify import verify_consistency, verify_inclusion
from ledger.store.database import Database
from tests.helpers.audit import LOG_ID, VERIFIER, access
from tests.helpers.stores import StoreTarget


def test_an_event_gets_server_fields_and_a_verifiable_receipt(
    audit_log: AuditLog, signer: LocalSigner
) -> None:
    result = audit_log.append(VERIFIER, access(1))
    event = result.event
    assert result.index == 0
    assert event.actor == "verifier-app"
    assert event.actor_org == "440000"
    assert event.log_id == LOG_ID
    assert event.event_id[14] == "7"  # UUIDv7
    assert event.subject is not None
    assert "did:key" not in event.canonical_bytes().decode()
    receipt = result.receipt
    assert receipt.leaf_hash == SM3_TREE.hash_leaf(sm3(event.canonical_bytes()))
    receipt.verify(SM3_TREE, signer.public_key, LOG_ID)
    assert receipt.batch.statement.count == 1
    assert receipt.batch.statement.batch_root == receipt.leaf_hash  # the design card's form


def test_batch_receipts_verify_for_every_event_and_fail_when_tampered(
    audit_log: AuditLog, signer: LocalSigner
) -> None:
    results = audit_log.append_many(VERIFIER, [access(i) for i in range(37)])
    assert [r.index for r in results] == list(range(37))
    for result in results:
        result.receipt.verify(SM3_TREE, signer.public_key, LOG_ID)
    forged = type(results[5].receipt)(
        5, results[6].receipt.leaf_hash, results[5].receipt.batch, results[5].receipt.path
    )
    with pytest.raises(ReceiptError):
        forged.verify(SM3_TREE, signer.public_key, LOG_ID)
    with pytest.raises(ReceiptError, match="log"):
        results[0].receipt.verify(SM3_TREE, signer.public_key, 440000)
    other = LocalSigner("other", Sm2PrivateKey.generate())
    with pytest.raises(ReceiptError, match="signature"):
        results[0].receipt.verify(SM3_TREE, other.public_key, LOG_ID)
    roundtrip = type(results[3].receipt).from_json(results[3].receipt.to_json())
    assert roundtrip == results[3].receipt


def test_stored_receipts_equal_the_ones_returned(audit_log: AuditLog) -> None:
    results = audit_log.append_many(VERIFIER, [access(i) for i in range(10)])
    for result in results:
        stored = audit_log.event(result.index)
        assert stored is not None
        assert stored.receipt == result.receipt
        assert stored.event == result.event
    assert [r.receipt for r in audit_log.iterate()] == [r.receipt for r in results]


def test_a_large_group_is_signed_in_batches_of_at_most_256(
    audit_log: AuditLog, signer: LocalSigner
) -> None:
    results = audit_log.append_many(VERIFIER, [access(i) for i in range(600)])
    statements = {r.receipt.batch.statement for r in results}
    assert sorted((s.first_index, s.count) for s in statements) == [(0, 256), (256, 256), (512, 88)]
    for result in (results[0], results[255], results[256], results[599]):
        result.receipt.verify(SM3_TREE, signer.public_key, LOG_ID)
        assert len(result.receipt.path) <= 8
        stored = audit_log.event(result.index)
        assert stored is not None
        assert stored.receipt == result.receipt
    assert [r.receipt for r in audit_log.iterate(250, 260)] == [r.receipt for r in results[250:260]]


def test_idempotent_retries_store_once_and_return_the_original(audit_log: AuditLog) -> None:
    first = audit_log.append(VERIFIER, access(1, key="retry-1"))
    again = audit_log.append(VERIFIER, access(2, key="retry-1"))
    assert again.replayed
    assert again.index == first.index
    assert again.event == first.event
    assert again.receipt == first.receipt
    both = audit_log.append_many(VERIFIER, [access(3, key="k2"), access(4, key="k2")])
    assert both[0].index == both[1].index
    assert both[1].replayed
    other_client = Caller("other-app", "440000")
    assert not audit_log.append(other_client, access(5, key="retry-1")).replayed
    assert audit_log.size() == 3


def test_a_bad_event_rejects_the_whole_call_naming_the_field(audit_log: AuditLog) -> None:
    bad = EventInput(
        action="credential.verify",
        resource="record:birth",
        purpose="lookup of 110101199003071234",
        legal_basis="prc.pipl.art13",
        outcome="success",
        request_id="r1",
    )
    with pytest.raises(EventRejectedError) as caught:
        audit_log.append_many(VERIFIER, [access(1), bad])
    assert caught.value.field == "purpose"
    assert "110101199003071234" not in str(caught.value)
    assert audit_log.size() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("resource", "credential:110101199003071234"),
        ("resource", "record:Zhang San"),
        ("action", "verify credential"),
        ("request_id", "13800138000x"),
        ("outcome", "maybe"),
    ],
)
def test_fields_that_could_carry_personal_data_are_refused(field: str, value: str) -> None:
    values = {**access(0).__dict__, field: value}
    with pytest.raises(EventRejectedError):
        EventInput(**values).validate()


def test_proofs_from_the_store_match_an_in_memory_tree(audit_log: AuditLog) -> None:
    results = audit_log.append_many(VERIFIER, [access(i) for i in range(100)])
    results += [audit_log.append(VERIFIER, access(100 + i)) for i in range(7)]
    memory = MemoryTree(SM3_TREE)
    for result in results:
        memory.append_leaf_hash(result.receipt.leaf_hash)
    for size in (1, 2, 50, 64, 100, 107):
        assert audit_log.root(size) == (size, memory.root(size))
        for index in {0, size // 2, size - 1}:
            proof = audit_log.inclusion_proof(index, size)
            verify_inclusion(
                SM3_TREE, index, size, results[index].receipt.leaf_hash, proof, memory.root(size)
            )
    proof = audit_log.consistency_proof(37, 107)
    verify_consistency(SM3_TREE, 37, 107, proof, memory.root(37), memory.root(107))


def test_concurrent_appends_are_grouped_and_ordered(
    audit_log: AuditLog, signer: LocalSigner
) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(25):
            index = audit_log.append(VERIFIER, access(n * 100 + i)).index
            with lock:
                results.append(index)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(200))
    with audit_log.db.read() as tx:
        batches = tx.fetchone("SELECT COUNT(*) FROM audit_batches")
    assert batches is not None
    assert batches[0] < 200  # group commit merged concurrent appends
    for result in audit_log.iterate():
        result.receipt.verify(SM3_TREE, signer.public_key, LOG_ID)


def test_two_writers_on_one_store_share_one_tree(
    db: Database, store_target: StoreTarget, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> None:
    other_db = store_target.open()
    first = AuditLog(db, LOG_ID, signer, pseudonyms)
    second = AuditLog(other_db, LOG_ID, signer, pseudonyms)
    try:
        leaves = []
        for i in range(20):
            writer = first if i % 3 else second
            leaves.append(writer.append(VERIFIER, access(i)).receipt.leaf_hash)
        memory = MemoryTree(SM3_TREE)
        for leaf in leaves:
            memory.append_leaf_hash(leaf)
        assert first.root() == (20, memory.root())
        assert second.root() == (20, memory.root())
    finally:
        first.close()
        second.close()
        other_db.close()


def test_reopening_continues_the_same_tree(
    db: Database, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> None:
    log = AuditLog(db, LOG_ID, signer, pseudonyms)
    log.append_many(VERIFIER, [access(i) for i in range(13)])
    _size, root13 = log.root()
    log.close()
    reopened = AuditLog(db, LOG_ID, signer, pseudonyms)
    reopened.append(VERIFIER, access(13))
    assert reopened.root(13) == (13, root13)
    verify_consistency(
        SM3_TREE, 13, 14, reopened.consistency_proof(13, 14), root13, reopened.root()[1]
    )
    reopened.close()
    with pytest.raises(AuditError, match="issuer 330000"):
        AuditLog(db, 440000, signer, pseudonyms)


def test_citizen_lookup_finds_events_under_every_key_version(
    db: Database, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> None:
    log = AuditLog(db, LOG_ID, signer, pseudonyms)
    log.append(VERIFIER, access(1, subject="did:key:zAlice"))
    log.append(VERIFIER, access(2, subject="did:key:zBob"))
    log.close()
    rotated = AuditLog(db, LOG_ID, signer, pseudonyms.rotated())
    later = rotated.append(VERIFIER, access(3, subject="did:key:zAlice"))
    assert later.event.subject is not None
    assert later.event.subject.key_version == 2
    found = rotated.events_about("did:key:zAlice")
    assert [r.index for r in found] == [0, 2]
    rotated.close()


_ascii = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@settings(max_examples=200)
@given(
    fields=st.fixed_dictionaries(
        {
            "actor": _ascii,
            "action": _ascii,
            "resource": _ascii,
            "purpose": _ascii,
            "requestId": _ascii,
            "idempotencyKey": st.none() | _ascii,
            "n": st.integers(-(2**53) + 1, 2**53 - 1),
        }
    )
)
def test_event_canonical_json_is_rfc8785(fields: dict[str, object]) -> None:
    document = {**fields, "subject": {"pseudonym": "ab" * 32, "keyVersion": 3}, "nothing": None}
    assert canonical_json(document) == rfc8785.dumps(cast(Any, document))


def test_event_json_round_trips() -> None:
    event = AccessEvent(
        log_id=1,
        event_id="01930000-0000-7000-8000-000000000000",
        time_ms=1_764_000_000_123,
        actor="a",
        actor_org="b",
        action="c",
        resource="record:birth",
        purpose="p",
        legal_basis="l",
        subject=Subject("00" * 32, 1),
        request_id="r",
        idempotency_key=None,
        outcome="success",
    )
    assert AccessEvent.from_json(event.to_json()) == event
    assert event.to_json()["time"] == "2025-11-24T16:00:00.123Z"


def test_pseudonym_keys_travel_to_worker_processes(pseudonyms: PseudonymKeys) -> None:
    import pickle

    before = pseudonyms.subject("did:key:zHolder")  # fills the HMAC cache
    copy = pickle.loads(pickle.dumps(pseudonyms))
    assert copy.subject("did:key:zHolder") == before
    assert repr(copy) == repr(pseudonyms)
