"""Exports verified against the chain; tampering in the database is found and named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.audit.export import prove_omission, verify_export, write_export
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.store.database import Database
from tests.helpers.audit import AnchoredAuditLog
from tests.helpers.contracts import ZJ, World


@pytest.fixture
def province(
    world: World, db: Database, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> Iterator[AnchoredAuditLog]:
    p = AnchoredAuditLog(world, db, signer, pseudonyms)
    p.append_and_anchor(40)
    p.append_and_anchor(25)
    yield p
    p.log.close()


def test_an_untouched_log_verifies_against_the_chain(province: AnchoredAuditLog) -> None:
    report = province.verify()
    assert report.valid, report.findings
    assert report.proven
    assert (report.events, report.tree_size) == (65, 65)
    assert report.checkpoints_checked == 2
    assert report.beyond is None


def test_deleting_an_event_is_named(province: AnchoredAuditLog) -> None:
    deleted = province.results[17]
    province.sql("DELETE FROM audit_events WHERE seq = ?", 17)
    report = province.verify()
    assert not report.valid
    [only] = report.findings
    assert (only.kind, only.index) == ("missing", 17)
    # The receipt the caller kept proves the omission, with the log's own signature.
    proof = prove_omission(
        deleted.receipt, province.signer.public_key, ZJ, province.export().splitlines()
    )
    assert proof is not None
    assert proof.found_leaf is None
    assert "index 17" in proof.describe()


def test_one_altered_event_is_one_finding_naming_it(province: AnchoredAuditLog) -> None:
    victim = province.results[30]
    body = victim.event.canonical_bytes().replace(
        b'"actor":"verifier-app"', b'"actor":"someone-else"'
    )
    province.sql("UPDATE audit_events SET body = ? WHERE seq = ?", body, 30)
    report = province.verify()
    assert not report.valid
    # Not one finding per checkpoint after it: the tree goes on with the signed leaf.
    [only] = report.findings
    assert (only.kind, only.index, only.event_id) == ("altered", 30, victim.event.event_id)
    assert report.checkpoints_checked == 2
    proof = prove_omission(
        victim.receipt, province.signer.public_key, ZJ, province.export().splitlines()
    )
    assert proof is not None
    assert proof.found_leaf is not None


def test_reordering_two_events_is_named(province: AnchoredAuditLog) -> None:
    a, b = province.results[5], province.results[9]
    province.sql("UPDATE audit_events SET body = ? WHERE seq = ?", b.event.canonical_bytes(), 5)
    province.sql("UPDATE audit_events SET body = ? WHERE seq = ?", a.event.canonical_bytes(), 9)
    report = province.verify()
    assert not report.valid
    assert [(f.kind, f.index) for f in report.findings] == [("altered", 5), ("altered", 9)]


def test_truncating_the_log_is_named(province: AnchoredAuditLog) -> None:
    # The log lost events it had signed (and anchored) a checkpoint of 65 for: its
    # export states 50 and carries that checkpoint, which it cannot extend to.
    province.sql("DELETE FROM audit_events WHERE seq >= ?", 50)
    report = province.verify()
    assert not report.valid
    assert report.tree_size == 50
    [only] = report.findings
    assert (only.kind, only.index, only.tree_size) == ("truncated", 50, 65)


def test_an_export_cut_short_of_its_stated_size_is_truncated(
    province: AnchoredAuditLog,
) -> None:
    lines = province.export().splitlines()
    kept = [line for line in lines if json.loads(line).get("index", 0) < 60]
    assert len(kept) == len(lines) - 5  # events 60..64
    report = verify_export(kept, province.view)
    assert not report.valid
    [only] = report.findings
    assert (only.kind, only.index, only.tree_size) == ("truncated", 60, 65)
    assert "states 65 events but holds only 60" in only.message


def test_a_rewritten_log_with_recomputed_hashes_still_fails_against_the_chain(
    province: AnchoredAuditLog,
) -> None:
    # A stronger attacker rewrites body and leaf hash; without the signing key the
    # receipts and the anchored roots still give it away.
    victim = province.results[3]
    body = victim.event.canonical_bytes().replace(b"success", b"denied")
    from ledger.crypto.sm3 import sm3
    from ledger.merkle.hasher import SM3_TREE

    province.sql(
        "UPDATE audit_events SET body = ?, leaf_hash = ? WHERE seq = ?",
        body,
        SM3_TREE.hash_leaf(sm3(body)),
        3,
    )
    report = province.verify()
    assert not report.valid
    # One finding: the anchored roots that no longer match are explained by it.
    [only] = report.findings
    assert only.kind == "receipt"
    assert "events 0..39" in only.message  # the signed batch that held event 3
    assert "2 anchored checkpoints and the header's root do not match" in only.message


def test_export_streams_and_roundtrips_through_a_file(
    province: AnchoredAuditLog, tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        count = write_export(province.log, province.anchorer, out)
    assert count == 65
    with path.open(encoding="utf-8") as lines:
        report = verify_export(lines, province.view)
    assert report.valid


def test_a_receipt_leaf_hash_of_the_wrong_length_is_named(province: AnchoredAuditLog) -> None:
    # The batch tree refuses such a leaf; the export check reports it and goes on.
    lines = province.export().splitlines()
    for number, line in enumerate(lines):
        document = json.loads(line)
        if document.get("type") == "event" and document["index"] == 7:
            document["receipt"]["leafHash"] = "00"
            lines[number] = json.dumps(document)
    report = verify_export(lines, province.view)
    assert not report.valid
    assert ("altered", 7) in [(f.kind, f.index) for f in report.findings]
    assert any(f.kind == "receipt" and "events 0..39" in f.message for f in report.findings)
