"""CredentialAnchor: batch roots per (issuer, root) and digest statuses per (issuer, digest)."""

from __future__ import annotations

import pytest

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import deploy
from ledger.chain.contracts.calls import raising_named_reverts
from ledger.chain.contracts.credential_anchor import (
    MAX_BATCH,
    STATUS_CHANGES,
    ZERO_HASH,
    CredentialAnchor,
    DigestStatus,
)
from ledger.chain.contracts.errors import (
    CredentialAnchorBatchTooLargeError,
    CredentialAnchorDuplicateRootError,
    CredentialAnchorEmptyBatchError,
    CredentialAnchorInvalidRegistryError,
    CredentialAnchorInvalidRootError,
    CredentialAnchorInvalidTransitionError,
    CredentialAnchorInvalidTreeSizeError,
    CredentialAnchorIssuerNotActiveError,
    CredentialAnchorNotWriterError,
)
from tests.helpers.contracts import GD, ZJ, World, digest, rejects

REASON_KEY_COMPROMISE = 1
REASON_SUPERSEDED = 4


# ----------------------------------------------------------------------- roots


def test_writer_anchors_a_root(world: World) -> None:
    root, metadata = digest(), digest()
    outcome = world.credential.anchor(world.zj_writer, ZJ, root, 1_000, metadata)
    assert outcome.event("RootAnchored").args == {
        "issuerId": ZJ,
        "root": root,
        "treeSize": 1_000,
        "metadataHash": metadata,
    }
    record = world.credential.anchor_of(ZJ, root)
    assert record is not None
    block_time = int(world.client.get_block(outcome.block_number)["timestamp"], 16)
    assert (record.block_number, record.timestamp, record.tree_size) == (
        outcome.block_number,
        block_time,
        1_000,
    )
    assert world.credential.is_anchored(ZJ, root)
    assert not world.credential.is_anchored(GD, root)
    assert world.credential.anchor_of(GD, root) is None


def test_calldata_without_a_client_is_what_the_binding_sends(world: World) -> None:
    root, metadata, digests = digest(), digest(), [digest() for _ in range(3)]
    bound = world.credential.contract
    assert CredentialAnchor.anchor_calldata(ZJ, root, 5) == bound.encode(
        "anchor", ZJ, root, 5, ZERO_HASH
    )
    assert CredentialAnchor.anchor_calldata(ZJ, root, 5, metadata) == bound.encode(
        "anchor", ZJ, root, 5, metadata
    )
    for change in STATUS_CHANGES:
        single = CredentialAnchor.status_calldata(change, ZJ, digests[:1], 3)
        assert single == bound.encode(change, ZJ, digests[0], 3)
        many = CredentialAnchor.status_calldata(change, ZJ, digests, 3)
        assert many == bound.encode(f"{change}Batch", ZJ, digests, 3)
    with pytest.raises(ValueError, match="status change"):
        CredentialAnchor.status_calldata("destroy", ZJ, digests, 3)
    with pytest.raises(ValueError, match="root must be 32 bytes"):
        CredentialAnchor.anchor_calldata(ZJ, b"short", 5)
    world.zj_writer.transact(
        world.credential.address, CredentialAnchor.anchor_calldata(ZJ, root, 5)
    )
    record = world.credential.anchor_of(ZJ, root)
    assert record is not None
    assert record.tree_size == 5


def test_a_province_cannot_anchor_under_another_provinces_id(world: World) -> None:
    root = digest()
    for stranger in (world.gd_writer, world.zj_admin, world.outsider, world.governors[0]):
        with pytest.raises(CredentialAnchorNotWriterError) as caught:
            world.credential.anchor(stranger, ZJ, root, 10)
        error = caught.value
        assert error.fields == {"issuerId": ZJ, "account": stranger.address}
    assert not world.credential.is_anchored(ZJ, root)


def test_duplicate_root_is_rejected_but_other_issuer_may_use_it(world: World) -> None:
    root = digest()
    first = world.credential.anchor(world.zj_writer, ZJ, root, 10)
    error = rejects(
        CredentialAnchorDuplicateRootError,
        lambda: world.credential.anchor(world.zj_writer, ZJ, root, 11),
    )
    assert error.fields == {"issuerId": ZJ, "root": root, "anchoredAtBlock": first.block_number}
    world.credential.anchor(world.gd_writer, GD, root, 12)
    zj, gd = world.credential.anchor_of(ZJ, root), world.credential.anchor_of(GD, root)
    assert zj is not None
    assert gd is not None
    assert (zj.tree_size, gd.tree_size) == (10, 12)


def test_root_and_tree_size_are_checked(world: World) -> None:
    rejects(
        CredentialAnchorInvalidRootError,
        lambda: world.credential.anchor(world.zj_writer, ZJ, bytes(32), 1),
    )
    rejects(
        CredentialAnchorInvalidTreeSizeError,
        lambda: world.credential.anchor(world.zj_writer, ZJ, digest(), 0),
    )
    with pytest.raises(ValueError, match="root must be 32 bytes"):
        world.credential.anchor(world.zj_writer, ZJ, b"short", 1)


def test_suspended_issuer_cannot_anchor_but_earlier_roots_stay(world: World) -> None:
    earlier = digest()
    world.credential.anchor(world.zj_writer, ZJ, earlier, 5)
    world.pass_proposal(lambda g: world.registry.propose_suspend_issuer(g, ZJ))
    error = rejects(
        CredentialAnchorIssuerNotActiveError,
        lambda: world.credential.anchor(world.zj_writer, ZJ, digest(), 5),
    )
    assert error.fields == {"issuerId": ZJ}
    assert world.credential.is_anchored(ZJ, earlier)
    # The other province is unaffected.
    world.credential.anchor(world.gd_writer, GD, digest(), 5)
    world.pass_proposal(lambda g: world.registry.propose_reinstate_issuer(g, ZJ))
    world.credential.anchor(world.zj_writer, ZJ, digest(), 5)


def test_retired_writer_cannot_write(world: World) -> None:
    world.registry.retire_writer(world.zj_admin, ZJ, world.zj_writer.address)
    rejects(
        CredentialAnchorNotWriterError,
        lambda: world.credential.anchor(world.zj_writer, ZJ, digest(), 1),
    )
    rejects(
        CredentialAnchorNotWriterError,
        lambda: world.credential.revoke(world.zj_writer, ZJ, digest(), 1),
    )


def test_constructor_needs_a_registry_with_code(world: World) -> None:
    with pytest.raises(CredentialAnchorInvalidRegistryError), raising_named_reverts():
        deploy(world.deployer, load_artifact("CredentialAnchor"), world.outsider.address)
    assert world.credential.registry_address() == world.registry.address


# -------------------------------------------------------------------- statuses


def test_revoke_suspend_reinstate_single(world: World) -> None:
    anchor, writer = world.credential, world.zj_writer
    d = digest()
    assert anchor.status_of(ZJ, d).status == DigestStatus.NONE
    assert anchor.status_of(ZJ, d).updated_at is None

    suspended = anchor.suspend(writer, ZJ, d, REASON_KEY_COMPROMISE)
    assert suspended.event("CredentialStatusChanged").args == {
        "issuerId": ZJ,
        "digest": d,
        "status": DigestStatus.SUSPENDED,
        "reason": REASON_KEY_COMPROMISE,
    }
    record = anchor.status_of(ZJ, d)
    assert (record.status, record.reason) == (DigestStatus.SUSPENDED, REASON_KEY_COMPROMISE)
    assert record.updated_at == int(world.client.get_block(suspended.block_number)["timestamp"], 16)

    reinstated = anchor.reinstate(writer, ZJ, d, 0)
    assert reinstated.event("CredentialStatusChanged").args["status"] == DigestStatus.NONE
    assert anchor.status_of(ZJ, d).status == DigestStatus.NONE

    anchor.suspend(writer, ZJ, d, 2)
    revoked = anchor.revoke(writer, ZJ, d, REASON_SUPERSEDED)
    assert revoked.event("CredentialStatusChanged").args["status"] == DigestStatus.REVOKED
    assert anchor.status_of(ZJ, d).status == DigestStatus.REVOKED
    assert anchor.status_of(ZJ, d).reason == REASON_SUPERSEDED
    # The status lives in Zhejiang's namespace only.
    assert anchor.status_of(GD, d).status == DigestStatus.NONE


@pytest.mark.parametrize(
    ("setup", "action", "current"),
    [
        ([], "reinstate", DigestStatus.NONE),
        (["suspend"], "suspend", DigestStatus.SUSPENDED),
        (["revoke"], "revoke", DigestStatus.REVOKED),
        (["revoke"], "suspend", DigestStatus.REVOKED),
        (["revoke"], "reinstate", DigestStatus.REVOKED),
        (["suspend", "revoke"], "reinstate", DigestStatus.REVOKED),
    ],
)
def test_forbidden_transitions(
    world: World, setup: list[str], action: str, current: DigestStatus
) -> None:
    anchor, writer = world.credential, world.zj_writer
    d = digest()
    for step in setup:
        getattr(anchor, step)(writer, ZJ, d, 1)
    error = rejects(
        CredentialAnchorInvalidTransitionError, lambda: getattr(anchor, action)(writer, ZJ, d, 1)
    )
    target = {"revoke": 1, "suspend": 2, "reinstate": 0}[action]
    assert error.fields == {"issuerId": ZJ, "digest": d, "from": current, "to": target}
    assert anchor.status_of(ZJ, d).status == current


def test_a_province_cannot_change_statuses_under_another_provinces_id(world: World) -> None:
    anchor = world.credential
    d = digest()
    anchor.suspend(world.zj_writer, ZJ, d, 1)
    for name in ("revoke", "suspend", "reinstate"):
        for stranger in (world.gd_writer, world.zj_admin, world.outsider):
            with pytest.raises(CredentialAnchorNotWriterError):
                getattr(anchor, name)(stranger, ZJ, d, 1)
            with pytest.raises(CredentialAnchorNotWriterError):
                getattr(anchor, f"{name}_batch")(stranger, ZJ, [d], 1)
    assert anchor.status_of(ZJ, d).status == DigestStatus.SUSPENDED


def test_suspended_issuer_may_revoke_and_suspend_but_not_reinstate(world: World) -> None:
    anchor, writer = world.credential, world.zj_writer
    a, b, c = digest(), digest(), digest()
    anchor.suspend(writer, ZJ, c, 1)
    world.pass_proposal(lambda g: world.registry.propose_suspend_issuer(g, ZJ))
    anchor.revoke(writer, ZJ, a, 1)
    anchor.suspend_batch(writer, ZJ, [b], 1)
    rejects(CredentialAnchorIssuerNotActiveError, lambda: anchor.reinstate(writer, ZJ, c, 0))
    rejects(
        CredentialAnchorIssuerNotActiveError, lambda: anchor.reinstate_batch(writer, ZJ, [c], 0)
    )
    assert [r.status for r in anchor.statuses_of(ZJ, [a, b, c])] == [
        DigestStatus.REVOKED,
        DigestStatus.SUSPENDED,
        DigestStatus.SUSPENDED,
    ]


def test_batches_emit_one_event_per_digest_and_are_atomic(world: World) -> None:
    anchor, writer = world.credential, world.zj_writer
    digests = [digest() for _ in range(20)]
    outcome = anchor.suspend_batch(writer, ZJ, digests, 3)
    events = outcome.named("CredentialStatusChanged")
    assert [e.args["digest"] for e in events] == digests
    assert {e.args["status"] for e in events} == {DigestStatus.SUSPENDED}
    reinstated = anchor.reinstate_batch(writer, ZJ, digests[:10], 0)
    assert len(reinstated.named("CredentialStatusChanged")) == 10
    # One forbidden transition (reinstating a digest with status None) voids the whole batch.
    error = rejects(
        CredentialAnchorInvalidTransitionError,
        lambda: anchor.reinstate_batch(writer, ZJ, digests[10:] + digests[:1], 0),
    )
    assert error.fields["digest"] == digests[0]
    assert all(r.status == DigestStatus.SUSPENDED for r in anchor.statuses_of(ZJ, digests[10:]))
    # A digest twice in one batch: the second transition is forbidden.
    rejects(
        CredentialAnchorInvalidTransitionError,
        lambda: anchor.revoke_batch(writer, ZJ, [digests[0], digests[0]], 1),
    )
    assert anchor.status_of(ZJ, digests[0]).status == DigestStatus.NONE


def test_batch_size_limits(world: World) -> None:
    anchor, writer = world.credential, world.zj_writer
    rejects(CredentialAnchorEmptyBatchError, lambda: anchor.revoke_batch(writer, ZJ, [], 1))
    too_many = [digest() for _ in range(MAX_BATCH + 1)]
    error = rejects(
        CredentialAnchorBatchTooLargeError, lambda: anchor.revoke_batch(writer, ZJ, too_many, 1)
    )
    assert error.fields == {"count": MAX_BATCH + 1, "max": MAX_BATCH}
    rejects(CredentialAnchorBatchTooLargeError, lambda: anchor.statuses_of(ZJ, too_many))
    rejects(CredentialAnchorEmptyBatchError, lambda: anchor.statuses_of(ZJ, []))


def test_bulk_revocation_of_1000_digests(world: World) -> None:
    anchor, writer = world.credential, world.zj_writer
    digests = [digest() for _ in range(1000)]
    outcome = anchor.revoke_batch(writer, ZJ, digests, REASON_SUPERSEDED)
    assert len(outcome.named("CredentialStatusChanged")) == 1000
    assert outcome.gas_used / 1000 <= 26_000
    statuses = anchor.statuses_of(ZJ, digests)
    assert {(s.status, s.reason) for s in statuses} == {(DigestStatus.REVOKED, REASON_SUPERSEDED)}


def test_anchor_gas_target(world: World) -> None:
    outcome = world.credential.anchor(world.zj_writer, ZJ, digest(), 1_000, digest())
    assert outcome.gas_used <= 60_000
    assert outcome.gas_used / 1_000 <= 60


# ----------------------------------------------------------------------- reorg


def test_reorg_removes_an_anchored_root(world: World) -> None:
    root = digest()
    outcome = world.credential.anchor(world.zj_writer, ZJ, root, 7)
    assert world.credential.is_anchored(ZJ, root)
    head = world.client.block_number()
    assert outcome.block_number == head
    # Replace the last block (the one holding the anchor) with an empty one.
    world.client.rpc("anvil_reorg", 1, [])
    assert world.client.block_number() == head
    assert world.client.receipt(outcome.tx_hash) is None
    assert not world.credential.is_anchored(ZJ, root)
    assert world.credential.anchor_of(ZJ, root) is None
    # Anchoring again works: the root is not "already done" any more.
    world.refresh()
    world.credential.anchor(world.zj_writer, ZJ, root, 7)
    assert world.credential.is_anchored(ZJ, root)
