"""AuditAnchor: per-log checkpoints with growing tree sizes, epochs reset by governance."""

from __future__ import annotations

import pytest

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import deploy
from ledger.chain.contracts.calls import call_named, raising_named_reverts, transact_named
from ledger.chain.contracts.consortium import deploy_consortium
from ledger.chain.contracts.errors import (
    AuditAnchorCheckpointOutOfRangeError,
    AuditAnchorInvalidRegistryError,
    AuditAnchorInvalidRootError,
    AuditAnchorIssuerNotActiveError,
    AuditAnchorNotRegistryError,
    AuditAnchorNotWriterError,
    AuditAnchorTreeSizeNotGrowingError,
    IssuerRegistryInvalidTargetError,
)
from tests.helpers.contracts import GD, ZJ, World, digest, event_names, rejects


def test_writer_appends_checkpoints(world: World) -> None:
    audit = world.audit
    assert audit.checkpoint_count(ZJ) == 0
    assert audit.latest_checkpoint(ZJ) is None
    roots = [digest() for _ in range(3)]
    for index, (size, root) in enumerate(zip((1, 5, 100), roots, strict=True)):
        outcome = audit.append_checkpoint(world.zj_writer, ZJ, size, root)
        assert outcome.event("CheckpointAppended").args == {
            "logId": ZJ,
            "epoch": 0,
            "index": index,
            "treeSize": size,
            "root": root,
        }
    assert audit.checkpoint_count(ZJ) == 3
    assert audit.last_tree_size(ZJ) == 100
    latest = audit.latest_checkpoint(ZJ)
    assert latest is not None
    assert (latest.index, latest.tree_size, latest.root, latest.epoch) == (2, 100, roots[2], 0)
    assert [c.tree_size for c in audit.checkpoints(ZJ)] == [1, 5, 100]
    first = audit.checkpoint_at(ZJ, 0)
    assert first.timestamp == int(world.client.get_block(first.block_number)["timestamp"], 16)
    assert audit.checkpoint_count(GD) == 0


def test_tree_size_must_grow(world: World) -> None:
    audit = world.audit
    audit.append_checkpoint(world.zj_writer, ZJ, 10, digest())
    for size in (10, 9, 0):
        with pytest.raises(AuditAnchorTreeSizeNotGrowingError) as caught:
            audit.append_checkpoint(world.zj_writer, ZJ, size, digest())
        error = caught.value
        assert error.fields == {
            "logId": ZJ,
            "epoch": 0,
            "previousTreeSize": 10,
            "treeSize": size,
        }
    assert audit.checkpoint_count(ZJ) == 1
    rejects(
        AuditAnchorTreeSizeNotGrowingError,
        lambda: audit.append_checkpoint(world.gd_writer, GD, 0, digest()),
    )
    rejects(
        AuditAnchorInvalidRootError,
        lambda: audit.append_checkpoint(world.zj_writer, ZJ, 11, bytes(32)),
    )


def test_a_province_cannot_write_checkpoints_under_another_provinces_id(world: World) -> None:
    for stranger in (world.gd_writer, world.zj_admin, world.outsider, world.governors[0]):
        with pytest.raises(AuditAnchorNotWriterError) as caught:
            world.audit.append_checkpoint(stranger, ZJ, 1, digest())
        error = caught.value
        assert error.fields == {"logId": ZJ, "account": stranger.address}
    assert world.audit.checkpoint_count(ZJ) == 0


def test_suspended_issuer_and_retired_writer_cannot_append(world: World) -> None:
    audit = world.audit
    audit.append_checkpoint(world.zj_writer, ZJ, 1, digest())
    world.pass_proposal(lambda g: world.registry.propose_suspend_issuer(g, ZJ))
    rejects(
        AuditAnchorIssuerNotActiveError,
        lambda: audit.append_checkpoint(world.zj_writer, ZJ, 2, digest()),
    )
    assert audit.checkpoint_count(ZJ) == 1  # still readable
    world.pass_proposal(lambda g: world.registry.propose_reinstate_issuer(g, ZJ))
    world.registry.retire_writer(world.zj_admin, ZJ, world.zj_writer.address)
    rejects(
        AuditAnchorNotWriterError,
        lambda: audit.append_checkpoint(world.zj_writer, ZJ, 2, digest()),
    )


def test_checkpoint_index_out_of_range(world: World) -> None:
    error = rejects(AuditAnchorCheckpointOutOfRangeError, lambda: world.audit.checkpoint_at(ZJ, 0))
    assert error.fields == {"logId": ZJ, "index": 0, "count": 0}
    rejects(
        AuditAnchorCheckpointOutOfRangeError,
        lambda: call_named(world.audit.contract, "latestCheckpoint", ZJ),
    )


def test_governance_resets_an_epoch(world: World) -> None:
    audit, registry, (g0, g1, _) = world.audit, world.registry, world.governors
    audit.append_checkpoint(world.zj_writer, ZJ, 50, digest())
    proposed = registry.propose_reset_audit_epoch(g0, audit.address, ZJ)
    assert not proposed.executed
    assert audit.epoch_of(ZJ) == 0  # one approval of two changes nothing
    approved = registry.approve(g1, proposed.proposal_id)
    assert approved.executed
    assert event_names(approved.tx) == ["ProposalApproved", "EpochReset", "ProposalExecuted"]
    assert approved.tx.event("EpochReset").args == {
        "logId": ZJ,
        "previousEpoch": 0,
        "newEpoch": 1,
        "proposalId": proposed.proposal_id,
    }
    assert audit.epoch_of(ZJ) == 1
    assert audit.last_tree_size(ZJ) == 0
    # A new epoch starts from a small tree again; the old checkpoint stays readable.
    outcome = audit.append_checkpoint(world.zj_writer, ZJ, 3, digest())
    assert outcome.event("CheckpointAppended").args["epoch"] == 1
    assert [(c.epoch, c.tree_size) for c in audit.checkpoints(ZJ)] == [(0, 50), (1, 3)]
    assert audit.epoch_of(GD) == 0


def test_only_the_registry_resets_epochs(world: World) -> None:
    for caller in (world.governors[0], world.zj_admin, world.outsider):
        with pytest.raises(AuditAnchorNotRegistryError) as caught:
            transact_named(world.audit.contract, caller, "resetEpoch", ZJ, 1)
        error = caught.value
        assert error.fields == {"account": caller.address}
    assert world.audit.epoch_of(ZJ) == 0


def test_reset_target_must_be_bound_to_this_registry(world: World) -> None:
    other = deploy_consortium(world.deployer, [world.governors[0].address], 1)
    rejects(
        IssuerRegistryInvalidTargetError,
        lambda: world.registry.propose_reset_audit_epoch(
            world.governors[0], other.audit_anchor, ZJ
        ),
    )


def test_constructor_needs_a_registry_with_code(world: World) -> None:
    with pytest.raises(AuditAnchorInvalidRegistryError), raising_named_reverts():
        deploy(world.deployer, load_artifact("AuditAnchor"), world.outsider.address)
    assert world.audit.registry_address() == world.registry.address
