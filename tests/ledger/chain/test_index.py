"""The chain-state index against anvil: events in, answers out, reorgs repaired."""

from __future__ import annotations

import os

import pytest

from ledger.chain.contracts.credential_anchor import DigestStatus
from ledger.chain.contracts.registry import IssuerStatus
from ledger.chain.errors import ChainConfigError
from ledger.chain.index import ChainIndex
from ledger.chain.node.client import ChainClient
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.database import Database
from tests.helpers.contracts import GD, SM2_G, ZJ, ZJ_CODE, World


def _index(db: Database, world: World, **kwargs: int) -> ChainIndex:
    a = world.addresses
    return ChainIndex(
        db, world.client.chain_id, a.registry, a.credential_anchor, client=world.client, **kwargs
    )


def test_issuers_and_keys_match_the_registry(db: Database, world: World) -> None:
    index = _index(db, world)
    report = index.sync()
    assert report.height == world.client.block_number() == index.height
    assert report.events > 0
    with index.view() as view:
        zj = view.issuer(ZJ)
        assert zj is not None
        assert zj.status is IssuerStatus.ACTIVE
        assert zj.division_code == ZJ_CODE
        assert zj.did == f"did:tongban:{world.client.chain_id}:{ZJ}"
        assert view.issuer(99) is None
        key = view.key(ZJ, "key-1")
        assert key == world.registry.key(ZJ, "key-1")
        assert key is not None
        assert key.public_key == SM2_G
        assert view.key(ZJ, "nope") is None
        assert [k.key_id for k in view.keys(GD)] == ["key-1"]
        seen = view.height
    assert seen == index.height


def test_anchors_and_statuses(db: Database, world: World) -> None:
    index = _index(db, world)
    index.sync()
    root, digest, other = os.urandom(32), os.urandom(32), os.urandom(32)
    outcome = world.credential.anchor(world.zj_writer, ZJ, root, 7, b"\x01" * 32)
    world.credential.suspend(world.zj_writer, ZJ, digest, 3)
    world.credential.revoke(world.zj_writer, ZJ, other, 4)
    with index.view() as view:
        assert view.anchor(ZJ, root) is None  # not synced yet
    index.sync()
    on_chain = world.credential.anchor_of(ZJ, root)
    assert on_chain is not None
    with index.view() as view:
        anchored = view.anchor(ZJ, root)
        assert anchored is not None
        assert anchored.block_number == outcome.block_number == on_chain.block_number
        assert anchored.block_time == on_chain.timestamp
        assert anchored.tree_size == 7
        assert anchored.metadata_hash == b"\x01" * 32
        assert view.anchor(GD, root) is None  # keyed by (issuer, root)
        suspended = view.digest_status(ZJ, digest)
        assert (suspended.status, suspended.reason) == (DigestStatus.SUSPENDED, 3)
        assert view.digest_status(ZJ, other).status is DigestStatus.REVOKED
        assert view.digest_status(GD, other).status is DigestStatus.NONE
    world.credential.reinstate(world.zj_writer, ZJ, digest, 5)
    index.sync()
    with index.view() as view:
        back = view.digest_status(ZJ, digest)
        assert (back.status, back.reason) == (DigestStatus.NONE, 5)
        assert back.block_number is not None


def test_key_history_and_issuer_suspension(db: Database, world: World) -> None:
    index = _index(db, world)
    key = Sm2PrivateKey.generate().public_key.compressed()
    world.registry.add_key(world.zj_admin, ZJ, "key-2", key)
    world.registry.mark_key_compromised(world.zj_admin, ZJ, "key-2", world.now() + 100)
    world.registry.mark_key_compromised(world.zj_admin, ZJ, "key-2", world.now() + 50)
    world.registry.retire_key(world.zj_admin, ZJ, "key-1")
    world.pass_proposal(lambda g: world.registry.propose_suspend_issuer(g, GD))
    index.sync()
    with index.view() as view:
        assert view.key(ZJ, "key-2") == world.registry.key(ZJ, "key-2")
        assert view.key(ZJ, "key-1") == world.registry.key(ZJ, "key-1")
        gd = view.issuer(GD)
        assert gd is not None
        assert gd.status is IssuerStatus.SUSPENDED
    world.pass_proposal(lambda g: world.registry.propose_reinstate_issuer(g, GD))
    index.sync()
    with index.view() as view:
        gd = view.issuer(GD)
        assert gd is not None
        assert gd.status is IssuerStatus.ACTIVE


def test_a_reorg_removes_and_rereads_events(db: Database, world: World) -> None:
    index = _index(db, world)
    root = os.urandom(32)
    world.credential.anchor(world.zj_writer, ZJ, root, 1)
    index.sync()
    with index.view() as view:
        assert view.anchor(ZJ, root) is not None
    height = index.height
    with index.view() as view:
        generation = view.generation
    world.client.rpc("anvil_reorg", 1, [])  # the anchoring block is replaced by an empty one
    assert world.client.block_number() == height
    report = index.sync()
    assert report.rewound_to is not None
    assert report.rewound_to < height
    assert index.height == height
    with index.view() as view:
        assert view.anchor(ZJ, root) is None
        assert view.height == height
        assert view.generation > generation  # same height, other content
    world.refresh()
    again = world.credential.anchor(world.zj_writer, ZJ, root, 1)
    index.sync()
    with index.view() as view:
        anchored = view.anchor(ZJ, root)
        assert anchored is not None
        assert anchored.block_number == again.block_number


def test_confirmations_hold_back_the_newest_blocks(db: Database, world: World) -> None:
    index = _index(db, world, confirmations=3)
    root = os.urandom(32)
    world.credential.anchor(world.zj_writer, ZJ, root, 1)
    index.sync()
    assert index.height == world.client.block_number() - 2
    with index.view() as view:
        assert view.anchor(ZJ, root) is None
    world.client.rpc("anvil_mine", 2)
    index.sync()
    with index.view() as view:
        assert view.anchor(ZJ, root) is not None


def test_small_block_ranges_give_the_same_answers(db: Database, world: World) -> None:
    root = os.urandom(32)
    world.credential.anchor(world.zj_writer, ZJ, root, 3)
    index = _index(db, world, max_block_range=2)
    index.sync()
    with index.view() as view:
        assert view.anchor(ZJ, root) is not None
        assert view.key(GD, "key-1") is not None


def test_a_store_indexed_for_other_contracts_is_refused(
    db: Database, world: World, anvil: ChainClient
) -> None:
    _index(db, world)
    a = world.addresses
    with pytest.raises(ChainConfigError):
        ChainIndex(db, anvil.chain_id, a.registry, a.audit_anchor)
    with pytest.raises(ChainConfigError):
        ChainIndex(db, anvil.chain_id + 1, a.registry, a.credential_anchor)


def test_the_wrong_registry_is_detected_at_sync(
    tmp_path: object, world: World, db: Database
) -> None:
    a = world.addresses
    index = ChainIndex(
        db, world.client.chain_id, a.audit_anchor, a.credential_anchor, client=world.client
    )
    with pytest.raises(ChainConfigError):
        index.sync()


def test_a_reader_without_a_client_reads_but_cannot_sync(db: Database, world: World) -> None:
    _index(db, world).sync()
    a = world.addresses
    reader = ChainIndex(db, world.client.chain_id, a.registry, a.credential_anchor)
    with reader.view() as view:
        assert view.issuer(ZJ) is not None
    with pytest.raises(ChainConfigError):
        reader.sync()
