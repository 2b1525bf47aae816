"""RFC 9162 roots and proofs computed from stored complete subtrees (no leaves in memory).

A tree of any size is a left-to-right run of *complete* subtrees: node
``(level, index)`` is the root of leaves ``[index·2^level, (index+1)·2^level)``.
Once written such a node never changes, so an append-only log can store each
one as it completes (``CompactRange.append`` says which) and answer any proof
with O(log n) node reads, fetched in one batch through a ``NodeReader``.

The proof recursions are RFC 9162's ``PATH`` (2.1.3.1) and ``SUBPROOF``
(2.1.4.1), first planned as leaf ranges, then resolved into node keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ledger.merkle.errors import ProofError
from ledger.merkle.hasher import TreeHasher

NodeKey = tuple[int, int]
"""``(level, index)`` of a complete subtree; level 0 holds the leaf hashes."""


class NodeReader(Protocol):
    """Where complete-subtree hashes are read from (a database, memory)."""

    def read_nodes(self, keys: Sequence[NodeKey]) -> list[bytes]:
        """The hashes of the nodes ``keys``, in the same order; KeyError if one is missing."""


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (requires ``size > 1``)."""
    return 1 << ((size - 1).bit_length() - 1)


def complete_subtrees(start: int, end: int) -> list[NodeKey]:
    """Decompose the leaf range ``[start, end)`` into complete subtrees, left to right."""
    keys: list[NodeKey] = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def _path_ranges(index: int, start: int, size: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    while size > 1:
        k = _split(size)
        if index < k:
            ranges.append((start + k, start + size))
            size = k
        else:
            ranges.append((start, start + k))
            index, start, size = index - k, start + k, size - k
    ranges.reverse()
    return ranges


def _subproof_ranges(size1: int, start: int, size: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    complete = True  # RFC 9162's b: the old tree so far is a complete left subtree
    while size1 != size:
        k = _split(size)
        if size1 <= k:
            ranges.append((start + k, start + size))
            size = k
        else:
            ranges.append((start, start + k))
            size1, start, size = size1 - k, start + k, size - k
            complete = False
    if not complete:
        ranges.append((start, start + size))
    ranges.reverse()
    return ranges


def _resolve(
    hasher: TreeHasher, reader: NodeReader, ranges: Iterable[tuple[int, int]]
) -> list[bytes]:
    plans = [complete_subtrees(lo, hi) for lo, hi in ranges]
    wanted = sorted({key for plan in plans for key in plan})
    found = dict(zip(wanted, reader.read_nodes(wanted), strict=True))
    hashes = []
    for plan in plans:
        node = found[plan[-1]]
        for key in reversed(plan[:-1]):
            node = hasher.hash_children(found[key], node)
        hashes.append(node)
    return hashes


def root(hasher: TreeHasher, reader: NodeReader, size: int) -> bytes:
    """Root of the first ``size`` leaves."""
    if size == 0:
        return hasher.empty_root()
    return _resolve(hasher, reader, [(0, size)])[0]


def inclusion_proof(hasher: TreeHasher, reader: NodeReader, index: int, size: int) -> list[bytes]:
    """Audit path of leaf ``index`` in the tree of the first ``size`` leaves.

    Requires ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    return _resolve(hasher, reader, _path_ranges(index, 0, size))


def consistency_proof(
    hasher: TreeHasher, reader: NodeReader, size1: int, size2: int
) -> list[bytes]:
    """Proof that the tree of ``size2`` leaves extends the tree of ``size1`` leaves.

    Requires ``0 < size1 <= size2`` (no proof exists from the empty tree).
    """
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    return _resolve(hasher, reader, _subproof_ranges(size1, 0, size2))


@dataclass
class CompactRange:
    """The right border of an append-only tree: at most one complete subtree per level.

    Holds O(log n) hashes however many leaves were appended; ``append`` returns
    the complete subtrees that the new leaf finished, for the caller to store.
    """

    hasher: TreeHasher
    size: int = 0
    border: list[bytes] = field(default_factory=list)  # highest level first

    def append(self, leaf_hash: bytes) -> list[tuple[NodeKey, bytes]]:
        """Add a leaf; returns every node it completed, the leaf itself first."""
        if len(leaf_hash) != self.hasher.size:
            raise ProofError(f"a leaf hash must be {self.hasher.size} bytes")
        created: list[tuple[NodeKey, bytes]] = [((0, self.size), leaf_hash)]
        node, level, index = leaf_hash, 0, self.size
        while index & 1:  # a right child completes its parent
            node = self.hasher.hash_children(self.border.pop(), node)
            level, index = level + 1, index >> 1
            created.append(((level, index), node))
        self.border.append(node)
        self.size += 1
        return created

    def extend(self, leaf_hashes: Sequence[bytes]) -> list[tuple[int, int, bytes]]:
        """Add leaves in order; returns the nodes above level 0 they completed.

        Rows are ``(level, index, hash)``: what ``append`` returns, less the leaves.
        """
        width = self.hasher.size
        if any(len(leaf) != width for leaf in leaf_hashes):
            raise ProofError(f"a leaf hash must be {width} bytes")
        hash_children = self.hasher.hash_children
        border = self.border
        size = self.size
        created: list[tuple[int, int, bytes]] = []
        for leaf in leaf_hashes:
            node, level, index = leaf, 0, size
            while index & 1:  # a right child completes its parent
                node = hash_children(border.pop(), node)
                level, index = level + 1, index >> 1
                created.append((level, index, node))
            border.append(node)
            size += 1
        self.size = size
        return created

    def root(self) -> bytes:
        """Root of every leaf appended so far."""
        if not self.border:
            return self.hasher.empty_root()
        node = self.border[-1]
        for left in reversed(self.border[:-1]):
            node = self.hasher.hash_children(left, node)
        return node

    @classmethod
    def resume(cls, hasher: TreeHasher, reader: NodeReader, size: int) -> CompactRange:
        """Rebuild the border of a stored tree of ``size`` leaves (O(log n) reads)."""
        keys = complete_subtrees(0, size)
        return cls(hasher, size, reader.read_nodes(keys) if keys else [])


class MemoryNodes:
    """A ``NodeReader`` that keeps every node in memory (tests, small trees)."""

    def __init__(self) -> None:
        """Start empty."""
        self._nodes: dict[NodeKey, bytes] = {}

    def add(self, nodes: Iterable[tuple[NodeKey, bytes]]) -> None:
        """Store ``nodes`` (as returned by ``CompactRange.append``)."""
        self._nodes.update(nodes)

    def read_nodes(self, keys: Sequence[NodeKey]) -> list[bytes]:
        """The hashes of ``keys``."""
        return [self._nodes[key] for key in keys]


class MemoryTree:
    """An in-memory append-only tree: a ``CompactRange`` plus every node (tests, tools)."""

    def __init__(self, hasher: TreeHasher) -> None:
        """Start an empty tree hashed with ``hasher``."""
        self.hasher = hasher
        self.nodes = MemoryNodes()
        self.range = CompactRange(hasher)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self.range.size

    def append_leaf_hash(self, leaf_hash: bytes) -> None:
        """Append a leaf by its hash."""
        self.nodes.add(self.range.append(leaf_hash))

    def append_data(self, data: bytes) -> None:
        """Append a leaf holding ``data``."""
        self.append_leaf_hash(self.hasher.hash_leaf(data))

    def root(self, size: int | None = None) -> bytes:
        """Root at ``size`` leaves (default: all)."""
        return root(self.hasher, self.nodes, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path of leaf ``index`` at ``size`` leaves (default: all)."""
        return inclusion_proof(self.hasher, self.nodes, index, self.size if size is None else size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Consistency proof from ``size1`` to ``size2`` leaves (default: all)."""
        return consistency_proof(
            self.hasher, self.nodes, size1, self.size if size2 is None else size2
        )
