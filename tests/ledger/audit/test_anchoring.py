"""Checkpoints signed, recorded and anchored through the outbox into AuditAnchor (anvil)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.audit.anchoring import CheckpointAnchorer, CheckpointPolicy, CheckpointState
from ledger.audit.checkpoints import parse_note
from ledger.audit.errors import AuditError
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor
from ledger.crypto.signer import LocalSigner
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.verify import verify_consistency
from ledger.store.database import Database
from tests.helpers.audit import VERIFIER, access
from tests.helpers.contracts import ZJ, World


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def province(
    world: World, db: Database, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> Iterator[tuple[AuditLog, CheckpointAnchorer, OutboxProcessor, Clock]]:
    clock = Clock()
    audit_log = AuditLog(db, ZJ, signer, pseudonyms, clock=clock)
    anchorer = CheckpointAnchorer(
        audit_log,
        world.client.chain_id,
        world.audit,
        CheckpointPolicy(every_seconds=10, every_events=100),
        clock=clock,
    )
    writer = world.accounts.zj_writer
    sender = NonceManager(world.client, writer, OutboxJournal(db, writer.address))
    processor = OutboxProcessor(db, sender)
    anchorer.register(processor)
    yield audit_log, anchorer, processor, clock
    audit_log.close()


def test_checkpoints_are_anchored_and_consistent_on_chain(
    province: tuple[AuditLog, CheckpointAnchorer, OutboxProcessor, Clock],
    world: World,
    signer: LocalSigner,
) -> None:
    audit_log, anchorer, processor, _ = province
    audit_log.append_many(VERIFIER, [access(i) for i in range(100)])
    first = anchorer.maybe_checkpoint()
    assert first is not None
    assert first.checkpoint.tree_size == 100
    assert first.checkpoint.origin == f"tongban/{world.client.chain_id}/{ZJ}"
    processor.run_until_final()
    audit_log.append_many(VERIFIER, [access(i) for i in range(100, 250)])
    second = anchorer.maybe_checkpoint()
    assert second is not None
    processor.run_until_final()

    on_chain = world.audit.checkpoints(ZJ)
    assert [(c.tree_size, c.root) for c in on_chain] == [
        (100, first.checkpoint.root),
        (250, second.checkpoint.root),
    ]
    stored = anchorer.checkpoints()
    assert [s.state for s in stored] == [CheckpointState.ANCHORED] * 2
    assert [s.block_number for s in stored] == [c.block_number for c in on_chain]
    proof = audit_log.consistency_proof(100, 250)
    verify_consistency(SM3_TREE, 100, 250, proof, on_chain[0].root, on_chain[1].root)
    note = parse_note(stored[1].note)
    note.verify(signer.public_key)
    assert note == second


def test_the_policy_decides_when_to_checkpoint(
    province: tuple[AuditLog, CheckpointAnchorer, OutboxProcessor, Clock],
) -> None:
    audit_log, anchorer, _, clock = province
    assert anchorer.maybe_checkpoint() is None  # empty log
    audit_log.append_many(VERIFIER, [access(i) for i in range(5)])
    clock.now += 20_000
    assert anchorer.maybe_checkpoint() is not None  # time passed, log grew
    assert anchorer.maybe_checkpoint() is None  # no growth
    audit_log.append_many(VERIFIER, [access(i) for i in range(5, 10)])
    clock.now += 1_000
    assert anchorer.maybe_checkpoint() is None  # too soon and too few
    audit_log.append_many(VERIFIER, [access(i) for i in range(10, 110)])
    assert anchorer.maybe_checkpoint() is not None  # enough events
    assert anchorer.maybe_checkpoint(force=True) is None  # nothing new even when forced


def test_a_checkpoint_anchored_by_another_writer_of_ours_counts_as_done(
    province: tuple[AuditLog, CheckpointAnchorer, OutboxProcessor, Clock], world: World
) -> None:
    audit_log, anchorer, processor, _ = province
    audit_log.append_many(VERIFIER, [access(i) for i in range(3)])
    signed = anchorer.maybe_checkpoint(force=True)
    assert signed is not None
    # A second writer process of the same province anchored the same checkpoint first.
    world.audit.append_checkpoint(world.zj_writer, ZJ, 3, signed.checkpoint.root)
    report = processor.run_until_final()
    assert report.already_done or report.final
    stored = anchorer.latest()
    assert stored is not None
    assert stored.state is CheckpointState.ANCHORED
    assert stored.block_number == world.audit.latest_checkpoint(ZJ).block_number  # type: ignore[union-attr]
    assert world.audit.checkpoint_count(ZJ) == 1


def test_a_reader_without_the_contract_lists_checkpoints_but_cannot_anchor(
    province: tuple[AuditLog, CheckpointAnchorer, OutboxProcessor, Clock],
) -> None:
    audit_log, anchorer, processor, _ = province
    audit_log.append_many(VERIFIER, [access(i) for i in range(3)])
    anchorer.maybe_checkpoint(force=True)
    processor.run_until_final()
    reader = CheckpointAnchorer(audit_log, 31337, None)
    assert [c.tree_size for c in reader.checkpoints()] == [3]
    audit_log.append(VERIFIER, access(3))
    with pytest.raises(AuditError, match="only reads"):
        reader.maybe_checkpoint(force=True)
