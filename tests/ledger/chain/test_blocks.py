"""Following new blocks: a block filter where the node has one, head numbers where not."""

from __future__ import annotations

import os

import pytest

from ledger.chain.errors import ChainError, ChainUnavailableError
from ledger.chain.index import ChainIndex
from ledger.chain.node.blocks import NewBlocks
from ledger.chain.node.client import ChainClient
from ledger.store.database import Database
from tests.helpers.contracts import ZJ, World


class FakeNode:
    """Answers the few methods ``NewBlocks`` calls, and records them."""

    def __init__(self, *, filters: bool = True) -> None:
        self.filters = filters
        self.head = 10
        self.pending: list[str] = []
        self.installed: set[str] = set()
        self.calls: list[str] = []
        self.down = False

    def mine(self) -> None:
        self.head += 1
        self.pending.append(hex(self.head))

    def rpc(self, method: str, *params: object) -> object:
        self.calls.append(method)
        if self.down:
            raise ChainUnavailableError("node down")
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_newBlockFilter":
            if not self.filters:
                raise ChainError("eth_newBlockFilter failed: Method not found")
            name = f"0x{len(self.installed) + 1:x}"
            self.installed.add(name)
            self.pending = []
            return name
        if method == "eth_getFilterChanges":
            if params[0] not in self.installed:
                raise ChainError("eth_getFilterChanges failed: filter not found")
            changes, self.pending = self.pending, []
            return changes
        raise AssertionError(method)


def test_a_block_filter_says_yes_once_per_batch_of_new_blocks() -> None:
    node = FakeNode()
    blocks = NewBlocks(node)
    assert blocks.arrived()  # the first look cannot know what came before
    assert not blocks.arrived()
    node.mine()
    node.mine()
    assert blocks.arrived()
    assert not blocks.arrived()
    assert node.calls == ["eth_newBlockFilter"] + ["eth_getFilterChanges"] * 3


def test_a_forgotten_filter_is_replaced_and_counts_as_news() -> None:
    node = FakeNode()
    blocks = NewBlocks(node)
    blocks.arrived()
    node.installed.clear()  # the node restarted or expired the filter
    assert blocks.arrived()
    assert node.calls[-2:] == ["eth_getFilterChanges", "eth_newBlockFilter"]
    assert not blocks.arrived()


def test_a_node_without_filters_is_followed_by_head_number() -> None:
    node = FakeNode(filters=False)
    blocks = NewBlocks(node)
    assert blocks.arrived()
    assert not blocks.filters
    assert not blocks.arrived()
    node.mine()
    assert blocks.arrived()
    assert node.calls.count("eth_newBlockFilter") == 1  # not asked again


def test_after_an_outage_the_next_look_says_yes() -> None:
    node = FakeNode()
    blocks = NewBlocks(node)
    blocks.arrived()
    node.down = True
    with pytest.raises(ChainUnavailableError):
        blocks.arrived()
    node.down = False
    assert blocks.arrived()
    assert not blocks.arrived()


def test_anvil_offers_block_filters_over_http(anvil: ChainClient) -> None:
    blocks = NewBlocks(anvil)
    assert blocks.arrived()
    assert blocks.filters
    assert not blocks.arrived()
    anvil.rpc("evm_mine")
    assert blocks.arrived()


def test_sync_new_syncs_only_when_a_block_arrived(db: Database, world: World) -> None:
    a = world.addresses
    index = ChainIndex(
        db, world.client.chain_id, a.registry, a.credential_anchor, client=world.client
    )
    first = index.sync_new()
    assert first is not None
    assert first.height == world.client.block_number()
    assert index.sync_new() is None
    root = os.urandom(32)
    world.credential.anchor(world.zj_writer, ZJ, root, 7, b"\x01" * 32)
    report = index.sync_new()
    assert report is not None
    assert report.events == 1
    with index.view() as view:
        assert view.anchor(ZJ, root) is not None
    assert index.sync_new() is None


def test_sync_new_retries_a_failed_sync_without_a_new_block(
    db: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = world.addresses
    index = ChainIndex(
        db, world.client.chain_id, a.registry, a.credential_anchor, client=world.client
    )
    index.sync_new()
    world.credential.anchor(world.zj_writer, ZJ, os.urandom(32), 7, b"\x01" * 32)
    real = index.sync

    def broken() -> object:
        raise ChainError("transient")

    monkeypatch.setattr(index, "sync", broken)
    with pytest.raises(ChainError):
        index.sync_new()
    monkeypatch.setattr(index, "sync", real)
    report = index.sync_new()  # no block since, but the last sync owed one
    assert report is not None
    assert report.events == 1
