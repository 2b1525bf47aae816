"""Re-forming, from a restored store, a batch that was sealed and anchored after the snapshot."""

from __future__ import annotations

from pathlib import Path

from api.province.backup.components import MIGRATIONS
from api.province.backup.reseal import reseal
from credentials.issuance.records import BATCH_KIND
from ledger.chain import outbox
from ledger.merkle.batch import batch_paths
from ledger.merkle.hasher import SM3_TREE
from ledger.store.migrations import migrate
from ledger.store.sqlite import SqliteDatabase

ANCHOR = "0x" + "ab" * 20
ISSUER = 7


def _store(tmp_path: Path, pending: int) -> SqliteDatabase:
    db = SqliteDatabase(tmp_path / "store.sqlite")
    for component, steps in MIGRATIONS.items():
        migrate(db, component, steps)
    with db.write() as tx:
        tx.executemany(
            "INSERT INTO cred_issued (seq, digest, key_id, template, issued_at_ms, document) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(i, bytes([i + 1]) * 32, "k1", "t", 1000 + i, b"sealed") for i in range(pending)],
        )
    return db


def _root(digests: list[bytes]) -> bytes:
    root, _ = batch_paths(SM3_TREE, [SM3_TREE.hash_leaf(d) for d in digests])
    return root


def test_a_batch_made_of_the_snapshots_oldest_pending_credentials_is_re_formed(
    tmp_path: Path,
) -> None:
    db = _store(tmp_path, pending=5)
    first = _root([bytes([i + 1]) * 32 for i in range(3)])
    second = _root([bytes([i + 1]) * 32 for i in range(3, 5)])
    assert reseal(db, ISSUER, ANCHOR, [(first, 3), (second, 2)]) == [first, second]
    with db.read() as tx:
        batches = tx.fetchall("SELECT root, tree_size, state FROM cred_batches ORDER BY id")
        placed = tx.fetchall("SELECT seq, leaf_index FROM cred_issued ORDER BY seq")
    assert batches == [(first, 3, "sealed"), (second, 2, "sealed")]
    assert placed == [(0, 0), (1, 1), (2, 2), (3, 0), (4, 1)]
    item = outbox.item(db, BATCH_KIND, f"{ISSUER}:{first.hex()}")
    assert item is not None
    assert item.state == outbox.OutboxState.QUEUED
    assert "CredentialAnchorDuplicateRoot" in item.done_errors
    db.close()


def test_a_batch_that_also_held_lost_credentials_is_left_lost(tmp_path: Path) -> None:
    db = _store(tmp_path, pending=3)
    # Sealed after the snapshot from two of its pending credentials and one issued later.
    mixed = _root([bytes([1]) * 32, bytes([2]) * 32, bytes([99]) * 32])
    assert reseal(db, ISSUER, ANCHOR, [(mixed, 3)]) == []
    with db.read() as tx:
        assert tx.fetchall("SELECT root FROM cred_batches") == []
        assert tx.fetchall("SELECT seq FROM cred_issued WHERE batch_id IS NOT NULL") == []
    db.close()
