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
from itertools import chain, repeat
from typing import cast

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
    if len(leaves) == 1:
        return leaves[0], [()]
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        level = levels[-1]
        parents = hasher.hash_pairs(level)
        if len(level) % 2:
            parents.append(level[-1])
        levels.append(parents)
    # Column k of the paths is every leaf's sibling at level k (None where its
    # node is unpaired): built per node with slices and repeat, then zipped, so
    # the per-leaf work runs in C rather than in a Python loop per leaf and level.
    count = len(leaves)
    columns: list[list[bytes | None]] = []
    for height, level in enumerate(levels[:-1]):
        size = len(level)
        even = size - size % 2
        siblings: list[bytes | None] = [None] * size
        siblings[0:even:2] = level[1:even:2]
        siblings[1:even:2] = level[0:even:2]
        span = 1 << height
        column = list(chain.from_iterable(repeat(s, span) for s in siblings))
        columns.append(column[:count])
    paths = [
        cast("tuple[bytes, ...]", path)
        if None not in path
        else tuple(node for node in path if node is not None)
        for path in zip(*columns, strict=True)
    ]
    return levels[-1][0], paths
