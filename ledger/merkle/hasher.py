"""RFC 9162 tree hashing over any hash function (SM3 by default).

Leaf hash = H(0x00 ‖ data), node hash = H(0x01 ‖ left ‖ right), empty tree = H("").
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.crypto.hashes import SM3, HashAlgorithm

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


SM3_TREE = TreeHasher(SM3)
"""The project's tree hasher: SM3 with RFC 9162 prefixes."""
