"""The RFC 9162 root of one batch of leaf hashes, and every leaf's audit path, in memory.

Pure functions: no I/O, any hash through ``TreeHasher``. A batch is small
(the audit log signs at most a few thousand events at once, an issuer anchors
at most 2**20 credentials) and built once, so every level is kept in memory
and each path is read off the levels. The paths are exactly the inclusion
proofs of ``ledger.merkle.tree`` for a tree of the batch's size, so
``ledger.merkle.verify`` checks them.

Preconditions, checked before anything is hashed: at least one leaf, and
every leaf hash ``hasher.size`` bytes; ``BatchError`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.merkle.errors import BatchError
from ledger.merkle.hasher import TreeHasher

__all__ = ["batch_paths"]


def batch_paths(
    hasher: TreeHasher, leaves: Sequence[bytes]
) -> tuple[bytes, list[tuple[bytes, ...]]]:
    """The RFC 9162 root over ``leaves`` (leaf hashes) and every leaf's audit path, in order.

    Built level by level: a level's unpaired last node moves up unchanged,
    which yields the same tree as RFC 9162's largest-power-of-two split. Then
    each leaf's path is its sibling at every level where it has one. Raises
    ``BatchError`` if ``leaves`` is empty or a leaf hash is not ``hasher.size`` bytes.
    """
    if not leaves:
        raise BatchError("a batch has at least one leaf")
    for leaf in leaves:
        if len(leaf) != hasher.size:
            raise BatchError(f"a leaf hash must be {hasher.size} bytes, got {len(leaf)}")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        level = levels[-1]
        parents = [
            hasher.hash_children(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            parents.append(level[-1])
        levels.append(parents)
    paths = []
    for leaf_index in range(len(leaves)):
        path = []
        index = leaf_index
        for level in levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        paths.append(tuple(path))
    return levels[-1][0], paths
