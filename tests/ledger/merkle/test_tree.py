"""SM3 trees against a naive RFC 9162 oracle, with mutated proofs that must all fail."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle.errors import MerkleError, ProofError, RootMismatchError
from ledger.merkle.hasher import SM3_TREE, TreeHasher
from ledger.merkle.tree import CompactRange, MemoryTree, complete_subtrees
from ledger.merkle.verify import MAX_PATH_LENGTH, verify_consistency, verify_inclusion

H = SM3_TREE
MAX_LEAVES = 3000


# --- the oracle: RFC 9162 section 2.1 transcribed literally, over a list of leaves ---


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return H.empty_root()
    if len(leaves) == 1:
        return H.hash_leaf(leaves[0])
    k = _k(len(leaves))
    return H.hash_children(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    if m == len(leaves):
        return [] if complete else [mth(leaves)]
    k = _k(len(leaves))
    if m <= k:
        return [*subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


LEAVES = [f"access-event-{i}".encode() for i in range(MAX_LEAVES)]


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    built = MemoryTree(H)
    for leaf in LEAVES:
        built.append_data(leaf)
    return built


def test_small_trees_match_the_oracle_exhaustively(tree: MemoryTree) -> None:
    for size in range(1, 34):
        leaves = LEAVES[:size]
        assert tree.root(size) == mth(leaves)
        for index in range(size):
            assert tree.inclusion_proof(index, size) == path(index, leaves)
        for size1 in range(1, size + 1):
            assert tree.consistency_proof(size1, size) == subproof(size1, leaves, True)


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert MemoryTree(H).root() == H.empty_root()
    assert (
        H.empty_root().hex() == "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
    )


def test_compact_range_resumes_from_stored_nodes(tree: MemoryTree) -> None:
    for size in (1, 2, 3, 7, 8, 1000, 2047):
        resumed = CompactRange.resume(H, tree.nodes, size)
        assert resumed.root() == tree.root(size)
        resumed.append(H.hash_leaf(LEAVES[size]))
        assert resumed.root() == tree.root(size + 1)


def test_complete_subtrees_cover_a_range_exactly() -> None:
    assert complete_subtrees(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert complete_subtrees(8, 13) == [(2, 2), (0, 12)]
    assert complete_subtrees(5, 5) == []


# --- mutations, as in transparency-dev's testdata, applied to SM3 proofs ---
# Growing the size by one while keeping proof and root is left out on purpose:
# when the path keeps its shape the old root is recomputed, which is correct
# (a proof binds a leaf to a root; the (size, root) pair comes from a signed
# checkpoint, not from the proof).

Inclusion = tuple[int, int, bytes, list[bytes], bytes]
Consistency = tuple[int, int, list[bytes], bytes, bytes]


def _flip(value: bytes, position: int = 0) -> bytes:
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


INCLUSION_MUTATIONS: dict[str, Callable[[Inclusion], Inclusion]] = {
    "wrong-leaf": lambda c: (c[0], c[1], _flip(c[2]), c[3], c[4]),
    "wrong-root": lambda c: (c[0], c[1], c[2], c[3], _flip(c[4], 31)),
    "index-plus-one": lambda c: (c[0] + 1, c[1], c[2], c[3], c[4]),
    "index-minus-one": lambda c: (c[0] - 1, c[1], c[2], c[3], c[4]),
    "size-doubled": lambda c: (c[0], c[1] * 2, c[2], c[3], c[4]),
    "trailing-garbage": lambda c: (c[0], c[1], c[2], [*c[3], c[4]], c[4]),
    "leading-garbage": lambda c: (c[0], c[1], c[2], [c[4], *c[3]], c[4]),
    "truncated": lambda c: (
        (c[0], c[1], c[2], c[3][:-1], c[4]) if c[3] else (c[0], c[1], c[2], [c[2]], c[4])
    ),
    "flipped-entry": lambda c: (
        (c[0], c[1], c[2], [_flip(c[3][0]), *c[3][1:]], c[4])
        if c[3]
        else (c[0], c[1], _flip(c[2]), c[3], c[4])
    ),
    "short-leaf": lambda c: (c[0], c[1], c[2][:31], c[3], c[4]),
    "root-as-leaf": lambda c: (
        (c[0], c[1], c[4], c[3], c[4]) if c[1] > 1 else (c[0], c[1], _flip(c[2]), c[3], c[4])
    ),
}

CONSISTENCY_MUTATIONS: dict[str, Callable[[Consistency], Consistency]] = {
    "swapped-roots": lambda c: (c[0], c[1], c[2], c[4], c[3]),
    "wrong-root1": lambda c: (c[0], c[1], c[2], _flip(c[3]), c[4]),
    "wrong-root2": lambda c: (c[0], c[1], c[2], c[3], _flip(c[4])),
    "size1-zero": lambda c: (0, c[1], c[2], H.empty_root(), c[4]),
    "size1-minus-one": lambda c: (c[0] - 1, c[1], c[2], c[3], c[4]),
    "sizes-swapped": lambda c: (c[1], c[0], c[2], c[4], c[3]),
    "trailing-garbage": lambda c: (c[0], c[1], [*c[2], c[4]], c[3], c[4]),
    "truncated": lambda c: (c[0], c[1], c[2][:-1], c[3], c[4]),
    "flipped-entry": lambda c: (c[0], c[1], [*c[2][:-1], _flip(c[2][-1])], c[3], c[4]),
}


def _inclusion_case(tree: MemoryTree, index: int, size: int) -> Inclusion:
    return (
        index,
        size,
        H.hash_leaf(LEAVES[index]),
        tree.inclusion_proof(index, size),
        tree.root(size),
    )


def _consistency_case(tree: MemoryTree, size1: int, size2: int) -> Consistency:
    return (size1, size2, tree.consistency_proof(size1, size2), tree.root(size1), tree.root(size2))


@pytest.mark.parametrize("mutation", sorted(INCLUSION_MUTATIONS))
def test_every_inclusion_mutation_fails(tree: MemoryTree, mutation: str) -> None:
    for size in (1, 2, 3, 5, 8, 13, 64, 100, 257):
        for index in sorted({0, 1, size // 2, size - 1} & set(range(size))):
            case = _inclusion_case(tree, index, size)
            verify_inclusion(H, *case)
            mutated = INCLUSION_MUTATIONS[mutation](case)
            other_pair = mutated[:2] != case[:2] and 0 <= mutated[0] < mutated[1]
            # A proof can be valid for another (index, size); only the pair here must fail.
            if other_pair and (mutated[3], mutated[4]) == (
                tree.inclusion_proof(*mutated[:2]),
                tree.root(mutated[1]),
            ):
                continue
            with pytest.raises(MerkleError):
                verify_inclusion(H, *mutated)


@pytest.mark.parametrize("mutation", sorted(CONSISTENCY_MUTATIONS))
def test_every_consistency_mutation_fails(tree: MemoryTree, mutation: str) -> None:
    for size2 in (2, 3, 5, 8, 13, 64, 100, 257):
        for size1 in sorted({1, 2, size2 // 2, size2 - 1} & set(range(1, size2))):
            case = _consistency_case(tree, size1, size2)
            verify_consistency(H, *case)
            mutated = CONSISTENCY_MUTATIONS[mutation](case)
            if not mutated[2] and mutation == "truncated":
                mutated = (mutated[0], mutated[1], [H.empty_root()], mutated[3], mutated[4])
            with pytest.raises(MerkleError):
                verify_consistency(H, *mutated)


def test_root_mismatch_carries_both_roots(tree: MemoryTree) -> None:
    index, size, leaf, proof, root = _inclusion_case(tree, 3, 10)
    with pytest.raises(RootMismatchError) as caught:
        verify_inclusion(H, index, size, _flip(leaf), proof, root)
    assert caught.value.expected == root
    assert caught.value.calculated != root


def test_overlong_paths_are_refused_before_hashing() -> None:
    with pytest.raises(ProofError, match="at most 64"):
        verify_inclusion(H, 0, 2**70, bytes(32), [bytes(32)] * (MAX_PATH_LENGTH + 1), bytes(32))


def test_hash_agnostic_with_sha256_and_sm3_giving_different_roots() -> None:
    from ledger.crypto.hashes import SHA256

    sha = MemoryTree(TreeHasher(SHA256))
    sm3 = MemoryTree(H)
    for leaf in LEAVES[:5]:
        sha.append_data(leaf)
        sm3.append_data(leaf)
    assert sha.root() != sm3.root()


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_proofs_verify_and_byte_mutations_fail(
    tree: MemoryTree, data: st.DataObject
) -> None:
    size2 = data.draw(st.integers(1, MAX_LEAVES), label="size")
    index = data.draw(st.integers(0, size2 - 1), label="index")
    case = _inclusion_case(tree, index, size2)
    verify_inclusion(H, *case)
    proof_bytes = b"".join(case[3]) + case[2] + case[4]
    position = data.draw(st.integers(0, len(proof_bytes) - 1), label="flip")
    flipped = _flip(proof_bytes, position)
    entries = [flipped[i : i + 32] for i in range(0, len(case[3]) * 32, 32)]
    leaf, root = flipped[len(case[3]) * 32 : -32], flipped[-32:]
    with pytest.raises(MerkleError):
        verify_inclusion(H, index, size2, leaf, entries, root)

    size1 = data.draw(st.integers(1, size2), label="size1")
    consistency = _consistency_case(tree, size1, size2)
    verify_consistency(H, *consistency)
    if consistency[2]:
        blob = b"".join(consistency[2]) + consistency[3] + consistency[4]
        position = data.draw(st.integers(0, len(blob) - 1), label="flip2")
        flipped = _flip(blob, position)
        n = len(consistency[2]) * 32
        with pytest.raises(MerkleError):
            verify_consistency(
                H,
                size1,
                size2,
                [flipped[i : i + 32] for i in range(0, n, 32)],
                flipped[n : n + 32],
                flipped[n + 32 :],
            )
