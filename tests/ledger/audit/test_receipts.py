"""The receipt tree of a signed batch is the Merkle batch tree; bad leaves are receipt errors."""

from __future__ import annotations

import pytest

from ledger.audit.errors import ReceiptError
from ledger.audit.receipts import batch_paths
from ledger.merkle import batch
from ledger.merkle.hasher import SM3_TREE


def test_receipt_paths_are_the_merkle_batch_paths() -> None:
    leaves = [SM3_TREE.hash_leaf(bytes([i])) for i in range(11)]
    assert batch_paths(SM3_TREE, leaves) == batch.batch_paths(SM3_TREE, leaves)


def test_a_leaf_hash_of_the_wrong_length_is_a_receipt_error() -> None:
    # An altered export can carry any leaf hash; its check reports ReceiptError.
    with pytest.raises(ReceiptError, match="32 bytes"):
        batch_paths(SM3_TREE, [SM3_TREE.hash_leaf(b"a"), b"\x01"])
    with pytest.raises(ReceiptError, match="at least one leaf"):
        batch_paths(SM3_TREE, [])
