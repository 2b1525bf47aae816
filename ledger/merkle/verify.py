"""Verify RFC 9162 inclusion and consistency proofs (sections 2.1.3.2 and 2.1.4.2).

Pure functions: no I/O, any hash through ``TreeHasher``. Every function checks
the proof's shape (lengths of hashes and of the path) before hashing anything,
raises ``ProofError`` for a malformed proof and ``RootMismatchError`` (with
both roots) for a well-formed proof that leads elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.merkle.errors import ProofError, RootMismatchError
from ledger.merkle.hasher import TreeHasher

MAX_PATH_LENGTH = 64
"""Longest audit path accepted: enough for 2**64 leaves, and a cap against abuse."""


def _check_hashes(hasher: TreeHasher, what: str, *hashes: bytes) -> None:
    for value in hashes:
        if len(value) != hasher.size:
            raise ProofError(f"{what} must be {hasher.size} bytes, got {len(value)}")


def _inner_proof_size(index: int, size: int) -> int:
    """Proof entries below the node where the paths to ``index`` and ``size - 1`` meet."""
    return (index ^ (size - 1)).bit_length()


def _check_path(hasher: TreeHasher, path: Sequence[bytes]) -> None:
    if len(path) > MAX_PATH_LENGTH:
        raise ProofError(f"proof has {len(path)} entries; at most {MAX_PATH_LENGTH} are accepted")
    _check_hashes(hasher, "every proof entry", *path)


def root_from_inclusion_proof(
    hasher: TreeHasher, index: int, size: int, leaf_hash: bytes, path: Sequence[bytes]
) -> bytes:
    """The root that ``path`` proves ``leaf_hash`` at ``index`` belongs to, for a tree of ``size``.

    Requires ``0 <= index < size``. Raises ``ProofError`` if the proof has the
    wrong length for that index and size.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_path(hasher, path)
    _check_hashes(hasher, "the leaf hash", leaf_hash)
    inner = _inner_proof_size(index, size)
    border = bin(index >> inner).count("1")
    if len(path) != inner + border:
        raise ProofError(
            f"an inclusion proof for index {index} in a tree of size {size} has "
            f"{inner + border} entries, got {len(path)}"
        )
    node = leaf_hash
    for level, sibling in enumerate(path[:inner]):
        if (index >> level) & 1:
            node = hasher.hash_children(sibling, node)
        else:
            node = hasher.hash_children(node, sibling)
    for sibling in path[inner:]:
        node = hasher.hash_children(sibling, node)
    return node


def verify_inclusion(
    hasher: TreeHasher,
    index: int,
    size: int,
    leaf_hash: bytes,
    path: Sequence[bytes],
    root: bytes,
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Returns None on success; raises ``ProofError`` or ``RootMismatchError``.
    """
    _check_hashes(hasher, "the root", root)
    calculated = root_from_inclusion_proof(hasher, index, size, leaf_hash, path)
    if calculated != root:
        raise RootMismatchError(root, calculated)


def verify_consistency(
    hasher: TreeHasher,
    size1: int,
    size2: int,
    path: Sequence[bytes],
    root1: bytes,
    root2: bytes,
) -> None:
    """Check that the tree of ``size2`` with ``root2`` extends the tree of ``size1`` with ``root1``.

    Requires ``0 < size1 <= size2``: RFC 9162 defines no proof from the empty
    tree, and this project rejects one. Equal sizes need an empty proof and
    equal roots. Returns None on success; raises ``ProofError`` or
    ``RootMismatchError``.
    """
    _check_path(hasher, path)
    if size1 <= 0:
        raise ProofError("no consistency proof exists from the empty tree (size1 must be > 0)")
    if size2 < size1:
        raise ProofError(f"size2 ({size2}) is smaller than size1 ({size1})")
    if size1 == size2:
        if path:
            raise ProofError("a consistency proof between equal sizes must be empty")
        # Nothing is hashed here, so the roots' lengths do not matter (as in
        # transparency-dev, whose probes include such a case).
        if root1 != root2:
            raise RootMismatchError(root1, root2)
        return
    _check_hashes(hasher, "the roots", root1, root2)

    # Start at the largest complete subtree of the old tree that holds its last
    # leaf: at ``level``, node ``index``. Its hash is root1 when the old tree is
    # itself complete, else the proof's first entry. From there, one path up
    # the new tree yields both roots.
    level = (size1 & -size1).bit_length() - 1
    index = (size1 - 1) >> level
    inner = _inner_proof_size(index, ((size2 - 1) >> level) + 1)
    border = bin(index >> inner).count("1")
    if index == 0:
        seed, rest = root1, list(path)
        expected = inner + border
    else:
        seed, rest = (path[0], list(path[1:])) if path else (b"", [])
        expected = 1 + inner + border
    if len(path) != expected:
        raise ProofError(
            f"a consistency proof from size {size1} to {size2} has {expected} entries, "
            f"got {len(path)}"
        )

    old = new = seed
    for height, sibling in enumerate(rest[:inner]):
        if (index >> height) & 1:
            old = hasher.hash_children(sibling, old)
            new = hasher.hash_children(sibling, new)
        else:
            new = hasher.hash_children(new, sibling)
    for sibling in rest[inner:]:
        old = hasher.hash_children(sibling, old)
        new = hasher.hash_children(sibling, new)
    if old != root1:
        raise RootMismatchError(root1, old)
    if new != root2:
        raise RootMismatchError(root2, new)
