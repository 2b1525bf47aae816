"""Log exports for auditors: writing them, and showing an omission with a receipt.

An export (``tongban-audit-export/v2``, see ``ledger.audit.export_format``) is
JSON Lines, streamed so neither side holds the whole log in memory. It is a
snapshot: its header states a tree size N and the root of the first N events.
Checkpoints the province signed for larger trees by the time the export ends
come with a consistency proof from (N, root), so an export stays checkable
after the live log has grown. ``verify_export`` (``ledger.audit.export_check``)
checks one against the chain; it is re-exported here with the report types.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from ledger.audit.anchoring import CheckpointAnchorer
from ledger.audit.events import AccessEvent
from ledger.audit.export_check import ConsistencyProver, verify_export
from ledger.audit.export_format import (
    EXPORT_FORMAT,
    AnchoredRoot,
    Beyond,
    ChainView,
    ExportReport,
    Finding,
    checkpoint_line,
    read_export,
)
from ledger.audit.log import AuditLog
from ledger.audit.receipts import Receipt
from ledger.crypto.sm2 import Sm2PublicKey
from ledger.merkle.hasher import SM3_TREE, TreeHasher

__all__ = [
    "EXPORT_FORMAT",
    "AnchoredRoot",
    "Beyond",
    "ChainView",
    "ConsistencyProver",
    "ExportReport",
    "Finding",
    "OmissionProof",
    "prove_omission",
    "read_export",
    "verify_export",
    "write_export",
]

_ALL_CHECKPOINTS = 1_000_000


def write_export(
    audit_log: AuditLog, anchorer: CheckpointAnchorer, out: IO[str], *, size: int | None = None
) -> int:
    """Write the log's first ``size`` events (default: all) to ``out``; returns how many.

    Checkpoints are read after the events and the log's size after them, so an
    honest log always holds every checkpoint read: one larger than the
    snapshot gets a consistency proof, and one larger than the whole log (the
    log lost events it had signed a checkpoint for) is written as it is, for
    the verifier to hold against the export.
    """
    tree_size, root = audit_log.root(size)
    header = {
        "type": "header",
        "format": EXPORT_FORMAT,
        "logId": audit_log.log_id,
        "origin": anchorer.origin,
        "hash": "sm3",
        "treeSize": tree_size,
        "root": root.hex(),
    }
    out.write(json.dumps(header) + "\n")
    count = 0
    for result in audit_log.iterate(0, tree_size):
        line = {
            "type": "event",
            "index": result.index,
            "event": result.event.to_json(),
            "receipt": result.receipt.to_json(),
        }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    checkpoints = anchorer.checkpoints(limit=_ALL_CHECKPOINTS)
    current = audit_log.size()
    for checkpoint in checkpoints:
        line = checkpoint_line(
            checkpoint.tree_size, checkpoint.root, checkpoint.note, checkpoint.block_number
        )
        if tree_size < checkpoint.tree_size <= current:
            if tree_size == 0:
                continue  # the empty tree is a prefix of every tree: nothing to prove
            proof = audit_log.consistency_proof(tree_size, checkpoint.tree_size)
            line["type"] = "consistency"
            line["proof"] = [node.hex() for node in proof]
        out.write(json.dumps(line) + "\n")
    return count


@dataclass(frozen=True)
class OmissionProof:
    """A receipt the log signed, and what the log now holds at that index instead."""

    receipt: Receipt
    found_leaf: bytes | None

    def describe(self) -> str:
        """One line for humans."""
        now = "nothing" if self.found_leaf is None else f"leaf {self.found_leaf.hex()}"
        return (
            f"the log signed a receipt for leaf {self.receipt.leaf_hash.hex()} at index "
            f"{self.receipt.index} but now holds {now} there"
        )


def prove_omission(
    receipt: Receipt,
    public_key: Sm2PublicKey,
    log_id: int,
    lines: Iterable[str],
    *,
    hasher: TreeHasher = SM3_TREE,
) -> OmissionProof | None:
    """Show, with the log's own signature, that the event a receipt covers is gone or changed.

    Returns None when the export still holds that exact event at that index.
    Raises ``ReceiptError`` if the receipt itself does not verify.
    """
    receipt.verify(hasher, public_key, log_id)
    for document in read_export(lines):
        if document.get("type") == "event" and int(document["index"]) == receipt.index:
            leaf = hasher.hash_leaf(AccessEvent.from_json(document["event"]).digest())
            return None if leaf == receipt.leaf_hash else OmissionProof(receipt, leaf)
    return OmissionProof(receipt, None)
