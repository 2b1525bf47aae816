"""The batched helpers of the append path give exactly what their one-at-a-time forms give."""

from __future__ import annotations

import random
import secrets

import pytest

from ledger.audit.events import Uuid7Factory
from ledger.audit.tables import subject_key
from ledger.crypto.hashes import SHA256
from ledger.crypto.sm3 import sm3, sm3_many
from ledger.merkle.batch import batch_paths
from ledger.merkle.hasher import SM3_TREE, TreeHasher
from ledger.merkle.tree import CompactRange, MemoryTree

HASHERS = [SM3_TREE, TreeHasher(SHA256)]


def test_sm3_many_is_sm3_of_prefix_and_item() -> None:
    items = [bytes([n]) * n for n in range(200)]
    assert sm3_many(items) == [sm3(item) for item in items]
    assert sm3_many(items, b"\x01") == [sm3(b"\x01" + item) for item in items]
    assert sm3_many([]) == []


@pytest.mark.parametrize("hasher", HASHERS)
def test_hash_leaves_and_pairs_equal_the_single_calls(hasher: TreeHasher) -> None:
    data = [n.to_bytes(4, "big") * (n % 7) for n in range(101)]
    assert hasher.hash_leaves(data) == [hasher.hash_leaf(d) for d in data]
    level = hasher.hash_leaves(data)
    pairs = [hasher.hash_children(level[i], level[i + 1]) for i in range(0, 100, 2)]
    assert hasher.hash_pairs(level) == pairs
    short = [b"a", b"bc", b"def", b"g"]  # not hash-sized: paired one by one
    assert hasher.hash_pairs(short) == [
        hasher.hash_children(b"a", b"bc"),
        hasher.hash_children(b"def", b"g"),
    ]


@pytest.mark.parametrize("hasher", HASHERS)
def test_batch_paths_are_the_tree_inclusion_proofs(hasher: TreeHasher) -> None:
    for size in [*range(1, 70), 255, 256, 257, 300]:
        leaves = [hasher.hash_leaf(n.to_bytes(4, "big")) for n in range(size)]
        tree = MemoryTree(hasher)
        for leaf in leaves:
            tree.append_leaf_hash(leaf)
        root, paths = batch_paths(hasher, leaves)
        assert root == tree.root()
        assert paths == [tuple(tree.inclusion_proof(i)) for i in range(size)]


class _ReferenceUuid7:
    """``Uuid7Factory.new`` as it was before ids were drawn in bulk (one random call per id)."""

    def __init__(self) -> None:
        self.last_ms = 0
        self.counter = 0

    def new(self, now: int) -> str:
        if now <= self.last_ms:
            now = self.last_ms
            self.counter += 1
        else:
            self.last_ms = now
            self.counter = secrets.randbits(11)
        value = (now & (2**48 - 1)) << 80 | 0x7 << 76 | (self.counter & 0xFFF) << 64
        value |= 0b10 << 62 | int.from_bytes(secrets.token_bytes(8)) >> 2
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def test_new_many_equals_one_id_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = [(1000, 3), (1000, 5000), (999, 2), (2000, 1), (2001, 4)]

    def ids(many: bool) -> list[str]:
        stream = random.Random(7)
        monkeypatch.setattr(secrets, "token_bytes", stream.randbytes)
        monkeypatch.setattr(secrets, "randbits", stream.getrandbits)
        if many:
            factory = Uuid7Factory()
            return [i for now, count in calls for i in factory.new_many(count, now)]
        reference = _ReferenceUuid7()
        return [reference.new(now) for now, count in calls for _ in range(count)]

    assert ids(many=True) == ids(many=False)
    assert len(set(ids(many=True))) == sum(count for _, count in calls)


def test_compact_range_extend_equals_appending_one_by_one() -> None:
    leaves = [SM3_TREE.hash_leaf(n.to_bytes(4, "big")) for n in range(300)]
    one, many = CompactRange(SM3_TREE), CompactRange(SM3_TREE)
    expected = [
        (level, index, node)
        for leaf in leaves
        for (level, index), node in one.append(leaf)
        if level > 0
    ]
    assert many.extend(leaves[:77]) + many.extend(leaves[77:]) == expected
    assert (many.size, many.border) == (one.size, one.border)


def test_subject_key_is_the_pseudonyms_first_8_bytes_signed() -> None:
    for pseudonym in ("00" * 32, "ff" * 32, "7f" + "ff" * 31, "80" + "00" * 31, sm3(b"x").hex()):
        expected = int.from_bytes(bytes.fromhex(pseudonym[:16]), "big", signed=True)
        assert subject_key(pseudonym) == expected
