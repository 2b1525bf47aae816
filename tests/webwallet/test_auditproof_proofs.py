"""auditproof.js against the Python audit log: RFC 9162 proofs, leaves, receipts, notes.

Every proof comes from ``ledger.audit.log.AuditLog`` (SQLite, one log of 130 events), the same
code the API serves ``/audit/proofs/*`` from. The JS module must accept each one, for sizes 1,
2, powers of two, their neighbours and the last leaf (RFC 9162 sections 2.1.3.2 and 2.1.4.2),
and refuse the same proof with one byte, one entry, an index or a size changed. One ``node``
run judges every case.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_utils.abi import event_signature_to_log_topic, function_signature_to_4byte_selector

from ledger.audit.anchoring import CheckpointAnchorer
from ledger.audit.checkpoints import Checkpoint, origin_for, sign_checkpoint
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.merkle.hasher import SM3_TREE
from ledger.store.database import Database
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.audit import LOG_ID, VERIFIER, access
from tests.webwallet.auditproof_side import run_calls

EVENTS = 130
SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 130)
CHAIN_ID = 31337


def _flip(hex_text: str, at: int = 0) -> str:
    raw = bytearray(bytes.fromhex(hex_text))
    raw[at] ^= 0x01
    return raw.hex()


@pytest.fixture(scope="module")
def audit_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditLog]:
    db: Database = SqliteDatabase(tmp_path_factory.mktemp("auditproof") / "store.sqlite")
    signer = LocalSigner("audit-2026", Sm2PrivateKey.generate())
    log = AuditLog(db, LOG_ID, signer, PseudonymKeys.generate())
    # Batches of several sizes, so receipts have batch paths of several shapes.
    appended = 0
    for batch in (1, 2, 5, 8, 17, 33, 64):
        log.append_many(VERIFIER, [access(appended + i) for i in range(batch)])
        appended += batch
    assert log.size() == EVENTS
    yield log
    log.close()
    db.close()


def _inclusion_cases(log: AuditLog) -> tuple[list[list[Any]], list[Any]]:
    calls: list[list[Any]] = []
    expected: list[Any] = []
    for size in SIZES:
        _, root = log.root(size)
        indexes = sorted({0, 1 % size, size // 2, size - 2 if size > 1 else 0, size - 1})
        for index in indexes:
            result = log.event(index)
            assert result is not None
            leaf = result.receipt.leaf_hash.hex()
            path = [node.hex() for node in log.inclusion_proof(index, size)]
            calls.append(["inclusion", index, size, leaf, path, root.hex()])
            expected.append(None)
            calls.append(["inclusion", index, size, _flip(leaf), path, root.hex()])
            expected.append("root_mismatch")
            calls.append(["inclusion", index, size, leaf, path, _flip(root.hex(), 31)])
            expected.append("root_mismatch")
            if path:
                for at in {0, len(path) - 1}:
                    bad = list(path)
                    bad[at] = _flip(bad[at], 5)
                    calls.append(["inclusion", index, size, leaf, bad, root.hex()])
                    expected.append("root_mismatch")
                calls.append(["inclusion", index, size, leaf, path[:-1], root.hex()])
                expected.append("malformed:wrong_proof_length")
            calls.append(["inclusion", index, size, leaf, [*path, leaf], root.hex()])
            expected.append("malformed:wrong_proof_length")
            calls.append(["inclusion", size, size, leaf, path, root.hex()])
            expected.append("malformed:index_outside_tree")
            if size > 2 and index + 1 < size:
                # Another index in the same tree with the same proof: refused, whatever the shape.
                calls.append(["inclusion", index + 1, size, leaf, path, root.hex()])
                expected.append("not null")
    return calls, expected


def _consistency_cases(log: AuditLog) -> tuple[list[list[Any]], list[Any]]:
    calls: list[list[Any]] = []
    expected: list[Any] = []
    for size2 in SIZES:
        _, root2 = log.root(size2)
        for size1 in sorted({1, 2, 3, size2 // 2, size2 - 1, size2} & set(range(1, size2 + 1))):
            _, root1 = log.root(size1)
            path = [node.hex() for node in log.consistency_proof(size1, size2)]
            args = [size1, size2, path, root1.hex(), root2.hex()]
            calls.append(["consistency", *args])
            expected.append(None)
            if size1 == size2:
                calls.append(["consistency", size1, size2, path, root1.hex(), _flip(root2.hex())])
                expected.append("new_root_mismatch")
                continue
            # When the old tree is complete its root seeds both paths: then the new root differs.
            calls.append(["consistency", size1, size2, path, _flip(root1.hex()), root2.hex()])
            expected.append("mismatch")
            calls.append(["consistency", size1, size2, path, root1.hex(), _flip(root2.hex())])
            expected.append("new_root_mismatch")
            for at in {0, len(path) - 1}:
                bad = list(path)
                bad[at] = _flip(bad[at], 9)
                calls.append(["consistency", size1, size2, bad, root1.hex(), root2.hex()])
                expected.append("mismatch")
            calls.append(["consistency", size1, size2, path[:-1], root1.hex(), root2.hex()])
            expected.append("malformed:wrong_proof_length")
            calls.append(["consistency", size2, size1, path, root2.hex(), root1.hex()])
            expected.append("malformed:new_tree_smaller")
    calls.append(["consistency", 0, 4, [], SM3_TREE.empty_root().hex(), log.root(4)[1].hex()])
    expected.append("malformed:empty_old_tree")
    return calls, expected


def _judge(results: list[Any], expected: list[Any], calls: list[list[Any]]) -> None:
    wrong = []
    for call, got, want in zip(calls, results, expected, strict=True):
        if want == "not null":
            ok = got is not None and not isinstance(got, dict)
        elif want == "mismatch":
            ok = got in ("old_root_mismatch", "new_root_mismatch")
        else:
            ok = got == want
        if not ok:
            wrong.append((call[0], call[1], call[2], got, want))
    assert wrong == [], wrong[:10]


def test_rfc9162_inclusion_proofs_of_the_python_log_verify_in_js_and_tampering_is_refused(
    audit_log: AuditLog,
) -> None:
    calls, expected = _inclusion_cases(audit_log)
    assert len(calls) > 400
    _judge(run_calls(calls), expected, calls)


def test_rfc9162_consistency_proofs_of_the_python_log_verify_in_js_and_tampering_is_refused(
    audit_log: AuditLog,
) -> None:
    calls, expected = _consistency_cases(audit_log)
    assert len(calls) > 150
    _judge(run_calls(calls), expected, calls)


def test_event_leaf_and_receipt_agree_with_python_and_altered_ones_are_refused(
    audit_log: AuditLog,
) -> None:
    key = audit_log.signer.public_key.compressed().hex()
    other = Sm2PrivateKey.generate().public_key.compressed().hex()
    calls: list[list[Any]] = []
    expected: list[Any] = []
    for index in (0, 1, 2, 3, 7, 8, 16, 60, 129):
        result = audit_log.event(index)
        assert result is not None
        event, receipt = result.event.to_json(), result.receipt.to_json()
        calls.append(["leaf", event])
        expected.append(result.receipt.leaf_hash.hex())
        calls.append(["leaf", {**event, "actor": event["actor"] + "x"}])
        expected.append(("differs from", result.receipt.leaf_hash.hex()))
        calls.append(["receipt", receipt, key, LOG_ID])
        expected.append(None)
        calls.append(["receipt", receipt, other, LOG_ID])
        expected.append("receipt.signature_invalid")
        calls.append(["receipt", receipt, key, LOG_ID + 1])
        expected.append("receipt.log_mismatch")
        calls.append(["receipt", {**receipt, "time": "2000-01-01T00:00:00.000Z"}, key, LOG_ID])
        expected.append("receipt.signature_invalid")
        calls.append(["receipt", {**receipt, "leafHash": _flip(receipt["leafHash"])}, key, LOG_ID])
        expected.append("receipt.path_invalid")
        if receipt["batch"]["count"] > 1:
            calls.append(["receipt", {**receipt, "index": receipt["index"] + 1}, key, LOG_ID])
            expected.append("receipt.path_invalid")
    results = run_calls(calls)
    for call, got, want in zip(calls, results, expected, strict=True):
        if isinstance(want, tuple):
            assert isinstance(got, str), call
            assert len(got) == 64, call
            assert got != want[1], call
        else:
            assert got == want, (call[0], got, want)


def test_checkpoint_note_signed_by_python_verifies_in_js_and_a_changed_one_does_not(
    audit_log: AuditLog,
) -> None:
    anchorer = CheckpointAnchorer(audit_log, CHAIN_ID, None)
    size, root = audit_log.root()
    signed = sign_checkpoint(Checkpoint(origin_for(CHAIN_ID, LOG_ID), size, root), audit_log.signer)
    note = signed.note()
    key = audit_log.signer.public_key.compressed().hex()
    other = Sm2PrivateKey.generate().public_key.compressed().hex()
    base = [CHAIN_ID, LOG_ID, size, root.hex()]
    calls = [
        ["note", note, *base, key],
        ["note", note, *base, other],
        ["note", note, CHAIN_ID + 1, LOG_ID, size, root.hex(), key],
        ["note", note, CHAIN_ID, LOG_ID, size - 1, root.hex(), key],
        ["note", note, CHAIN_ID, LOG_ID, size, _flip(root.hex()), key],
        [
            "note",
            note.replace(f"\n{size}\n", f"\n{size + 1}\n"),
            CHAIN_ID,
            LOG_ID,
            size + 1,
            root.hex(),
            key,
        ],
        ["note", note[:-2], *base, key],
    ]
    assert anchorer.origin == origin_for(CHAIN_ID, LOG_ID)
    assert run_calls(calls) == [
        None,
        "note.key_id_mismatch",
        "note.origin_mismatch",
        "note.body_mismatch",
        "note.body_mismatch",
        "note.signature_invalid",
        "note.malformed",
    ]


def test_selectors_and_event_topic_match_the_contract_abi() -> None:
    signatures = [
        "checkpointAt(uint32,uint256)",
        "epochOf(uint32)",
    ]
    results = run_calls(
        [["selector", s] for s in signatures]
        + [["topic", "CheckpointAppended(uint32,uint32,uint256,uint64,bytes32)"]]
        + [["callData", "checkpointAt(uint32,uint256)", 330000, 7]]
    )
    assert results[:2] == ["0x" + function_signature_to_4byte_selector(s).hex() for s in signatures]
    assert (
        results[2]
        == "0x"
        + event_signature_to_log_topic(
            "CheckpointAppended(uint32,uint32,uint256,uint64,bytes32)"
        ).hex()
    )
    assert results[3] == "0xdf9501eb" + f"{330000:064x}" + f"{7:064x}"
