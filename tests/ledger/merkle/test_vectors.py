"""RFC 6962 / RFC 9162 vectors with SHA-256 plugged in, and every corrupted probe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.crypto.hashes import SHA256
from ledger.merkle.errors import MerkleError
from ledger.merkle.hasher import TreeHasher
from ledger.merkle.tree import MemoryTree
from ledger.merkle.verify import verify_consistency, verify_inclusion

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "vectors" / "rfc6962" / "vectors.json").read_text()
)
H = TreeHasher(SHA256)


def _tree() -> MemoryTree:
    tree = MemoryTree(H)
    for leaf in VECTORS["leaves_hex"]:
        tree.append_data(bytes.fromhex(leaf))
    return tree


def test_hash_vectors() -> None:
    for vector in VECTORS["hash_vectors"]:
        expected = bytes.fromhex(vector["expected"])
        if vector["kind"] == "empty_tree":
            assert H.empty_root() == expected
        elif vector["kind"] == "leaf":
            assert H.hash_leaf(bytes.fromhex(vector["input_hex"])) == expected
        else:
            left, right = bytes.fromhex(vector["left_hex"]), bytes.fromhex(vector["right_hex"])
            assert H.hash_children(left, right) == expected


def test_roots_by_size() -> None:
    tree = _tree()
    for size, expected in VECTORS["roots_by_size"].items():
        assert tree.root(int(size)).hex() == expected


def test_inclusion_proofs_are_reproduced_and_verify() -> None:
    tree = _tree()
    for vector in VECTORS["inclusion_proofs"]:
        index, size = vector["leaf_index"], vector["tree_size"]
        proof = [bytes.fromhex(p) for p in vector["proof"]]
        assert tree.inclusion_proof(index, size) == proof
        leaf = H.hash_leaf(bytes.fromhex(vector["leaf_hex"]))
        verify_inclusion(H, index, size, leaf, proof, bytes.fromhex(vector["root"]))


def test_consistency_proofs_are_reproduced_and_verify() -> None:
    tree = _tree()
    for vector in VECTORS["consistency_proofs"]:
        size1, size2 = vector["size1"], vector["size2"]
        proof = [bytes.fromhex(p) for p in vector["proof"]]
        assert tree.consistency_proof(size1, size2) == proof
        root1, root2 = bytes.fromhex(vector["root1"]), bytes.fromhex(vector["root2"])
        verify_consistency(H, size1, size2, proof, root1, root2)


def test_certificate_transparency_log_inclusion() -> None:
    vector = VECTORS["ct_log_inclusion"]
    leaf = H.hash_leaf(bytes.fromhex(vector["leaf_hex"]))
    assert leaf.hex() == vector["leaf_hash"]
    verify_inclusion(
        H,
        vector["leaf_index"],
        vector["tree_size"],
        leaf,
        [bytes.fromhex(p) for p in vector["proof"]],
        bytes.fromhex(vector["root"]),
    )


def _hex(value: str) -> bytes:
    # Some probes carry deliberately malformed hashes; decode what can be decoded.
    try:
        return bytes.fromhex(value)
    except ValueError:
        return value.encode()


def _run_inclusion_probe(probe: dict[str, Any]) -> None:
    verify_inclusion(
        H,
        probe["leaf_index"],
        probe["tree_size"],
        _hex(probe["leaf_hash"]),
        [_hex(p) for p in probe["proof"] or []],
        _hex(probe["root"]),
    )


def _run_consistency_probe(probe: dict[str, Any]) -> None:
    verify_consistency(
        H,
        probe["size1"],
        probe["size2"],
        [_hex(p) for p in probe["proof"] or []],
        _hex(probe["root1"]),
        _hex(probe["root2"]),
    )


PROBES = [("inclusion", p) for p in VECTORS["probes"]["inclusion"]] + [
    ("consistency", p) for p in VECTORS["probes"]["consistency"]
]


def test_probe_counts_match_the_provenance() -> None:
    assert len(PROBES) == 196
    assert sum(p["want_error"] for _, p in PROBES) == 184


@pytest.mark.parametrize(("kind", "probe"), PROBES, ids=[p["file"] for _, p in PROBES])
def test_probe(kind: str, probe: dict[str, Any]) -> None:
    run = _run_inclusion_probe if kind == "inclusion" else _run_consistency_probe
    if probe["want_error"]:
        with pytest.raises(MerkleError):
            run(probe)
    else:
        run(probe)
