"""RFC 9162 tree hashing over any hash function (SM3 by default).

Leaf hash = H(0x00 ‖ data), node hash = H(0x01 ‖ left ‖ right), empty tree = H("").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.crypto.hashes import SM3, HashAlgorithm
from ledger.crypto.sm3 import sm3, sm3_many

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


@dataclass(frozen=True)
class TreeHasher:
    """RFC 9162 domain-separated hashing with one hash algorithm."""

    algorithm: HashAlgorithm = SM3

    @property
    def size(self) -> int:
        """Length of every hash this hasher produces, in bytes."""
        return self.algorithm.digest_size

    def empty_root(self) -> bytes:
        """Root of the tree with no leaves: the hash of the empty string."""
        return self.algorithm.digest(b"")

    def hash_leaf(self, data: bytes) -> bytes:
        """Hash of a leaf holding ``data``."""
        return self.algorithm.digest(LEAF_PREFIX + data)

    def hash_children(self, left: bytes, right: bytes) -> bytes:
        """Hash of an interior node with children ``left`` and ``right``."""
        return self.algorithm.digest(NODE_PREFIX + left + right)

    def hash_leaves(self, items: Sequence[bytes]) -> list[bytes]:
        """``[hash_leaf(data) for data in items]``, batched when the hash is SM3."""
        if self.algorithm.digest is sm3:
            return sm3_many(items, LEAF_PREFIX)
        digest = self.algorithm.digest
        return [digest(LEAF_PREFIX + data) for data in items]

    def hash_pairs(self, level: Sequence[bytes]) -> list[bytes]:
        """Parents of ``level``'s nodes taken in pairs (an odd last node is left out)."""
        count = len(level) // 2
        joined = b"".join(level[: count * 2])
        width = 2 * self.size
        if len(joined) != count * width:  # not all nodes are one hash long: pair them one by one
            return [self.hash_children(level[2 * i], level[2 * i + 1]) for i in range(count)]
        pairs = [joined[i : i + width] for i in range(0, len(joined), width)]
        if self.algorithm.digest is sm3:
            return sm3_many(pairs, NODE_PREFIX)
        digest = self.algorithm.digest
        return [digest(NODE_PREFIX + pair) for pair in pairs]


SM3_TREE = TreeHasher(SM3)
"""The project's tree hasher: SM3 with RFC 9162 prefixes."""
