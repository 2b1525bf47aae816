"""Batch roots and paths: the same tree as ``ledger.merkle.tree``, every path verifies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.crypto.hashes import SHA256
from ledger.merkle.batch import batch_paths
from ledger.merkle.errors import BatchError, MerkleError
from ledger.merkle.hasher import SM3_TREE, TreeHasher
from ledger.merkle.tree import MemoryTree
from ledger.merkle.verify import verify_inclusion

HASHERS = [SM3_TREE, TreeHasher(SHA256)]


def _leaves(hasher: TreeHasher, count: int) -> list[bytes]:
    return [hasher.hash_leaf(f"credential-{i}".encode()) for i in range(count)]


def _tree(hasher: TreeHasher, leaves: list[bytes]) -> MemoryTree:
    tree = MemoryTree(hasher)
    for leaf in leaves:
        tree.append_leaf_hash(leaf)
    return tree


@pytest.mark.parametrize("hasher", HASHERS, ids=lambda h: h.algorithm.name)
def test_roots_and_paths_equal_the_tree_module_for_every_small_size(hasher: TreeHasher) -> None:
    leaves = _leaves(hasher, 70)
    tree = _tree(hasher, leaves)
    for size in range(1, len(leaves) + 1):
        root, paths = batch_paths(hasher, leaves[:size])
        assert root == tree.root(size)
        assert len(paths) == size
        for index, path in enumerate(paths):
            assert list(path) == tree.inclusion_proof(index, size)
            verify_inclusion(hasher, index, size, leaves[index], path, root)


def test_a_batch_of_one_is_its_leaf_with_an_empty_path() -> None:
    [leaf] = _leaves(SM3_TREE, 1)
    assert batch_paths(SM3_TREE, [leaf]) == (leaf, [()])


def test_sha256_and_sm3_give_different_roots() -> None:
    data = [f"event-{i}".encode() for i in range(5)]
    roots = {batch_paths(h, [h.hash_leaf(d) for d in data])[0] for h in HASHERS}
    assert len(roots) == 2


@settings(max_examples=30, deadline=None)
@given(size=st.integers(1, 2100), data=st.data())
def test_larger_batches_match_the_tree_and_verify(size: int, data: st.DataObject) -> None:
    leaves = _leaves(SM3_TREE, size)
    tree = _tree(SM3_TREE, leaves)
    root, paths = batch_paths(SM3_TREE, leaves)
    assert root == tree.root()
    for index in {0, size - 1, data.draw(st.integers(0, size - 1), label="index")}:
        assert list(paths[index]) == tree.inclusion_proof(index)
        verify_inclusion(SM3_TREE, index, size, leaves[index], paths[index], root)


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(BatchError, match="at least one leaf") as caught:
        batch_paths(SM3_TREE, [])
    assert isinstance(caught.value, MerkleError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("length", [0, 1, 31, 33, 64])
def test_a_leaf_hash_of_the_wrong_length_is_refused(length: int) -> None:
    leaves = _leaves(SM3_TREE, 3)
    leaves[1] = bytes(length)
    with pytest.raises(BatchError, match=f"32 bytes, got {length}"):
        batch_paths(SM3_TREE, leaves)
