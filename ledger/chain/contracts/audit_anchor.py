"""Typed binding of the ``AuditAnchor`` contract: audit-log checkpoints per log id.

The log id is the issuer id. Within an epoch tree sizes strictly grow; a new
epoch starts only through an M-of-N governance proposal executed by the
IssuerRegistry (``IssuerRegistry.propose_reset_audit_epoch``). Every
checkpoint stays readable by index. See ``docs/contracts.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.chain.contracts.binding import ContractBinding
from ledger.chain.contracts.calls import TxOutcome, call_named, transact_named
from ledger.chain.node.client import BlockId, checksum
from ledger.chain.node.transactions import NonceManager


@dataclass(frozen=True)
class Checkpoint:
    """One anchored checkpoint of an audit log."""

    log_id: int
    index: int
    epoch: int
    tree_size: int
    root: bytes
    timestamp: int
    block_number: int


class AuditAnchor(ContractBinding):
    """The ``AuditAnchor`` at one address."""

    ARTIFACT = "AuditAnchor"

    def registry_address(self) -> str:
        """The IssuerRegistry this contract trusts."""
        return checksum(call_named(self.contract, "registry"))

    def append_checkpoint(
        self, sender: NonceManager, log_id: int, tree_size: int, root: bytes
    ) -> TxOutcome:
        """Append (tree size, root) to log ``log_id`` (sender: a writer of that issuer).

        The new checkpoint's index is in the ``CheckpointAppended`` event.
        """
        raw = bytes(root)
        if len(raw) != 32:
            raise ValueError(f"root must be 32 bytes, got {len(raw)}")
        return transact_named(self.contract, sender, "appendCheckpoint", log_id, tree_size, raw)

    def epoch_of(self, log_id: int, *, block: BlockId = "latest") -> int:
        """The log's current epoch (0 until the first reset)."""
        return int(call_named(self.contract, "epochOf", log_id, block=block))

    def last_tree_size(self, log_id: int, *, block: BlockId = "latest") -> int:
        """The last tree size anchored in the current epoch (0 if none)."""
        return int(call_named(self.contract, "lastTreeSize", log_id, block=block))

    def checkpoint_count(self, log_id: int, *, block: BlockId = "latest") -> int:
        """The number of checkpoints of the log, all epochs together."""
        return int(call_named(self.contract, "checkpointCount", log_id, block=block))

    def checkpoint_at(self, log_id: int, index: int, *, block: BlockId = "latest") -> Checkpoint:
        """The checkpoint at ``index`` (``AuditAnchorCheckpointOutOfRangeError`` if none)."""
        return _checkpoint(
            log_id, index, call_named(self.contract, "checkpointAt", log_id, index, block=block)
        )

    def latest_checkpoint(self, log_id: int, *, block: BlockId = "latest") -> Checkpoint | None:
        """The newest checkpoint, or None if the log has none."""
        count = self.checkpoint_count(log_id, block=block)
        if count == 0:
            return None
        return self.checkpoint_at(log_id, count - 1, block=block)

    def checkpoints(
        self, log_id: int, start: int = 0, stop: int | None = None, *, block: BlockId = "latest"
    ) -> list[Checkpoint]:
        """Checkpoints ``start`` (inclusive) to ``stop`` (exclusive; default: all)."""
        end = self.checkpoint_count(log_id, block=block) if stop is None else stop
        return [self.checkpoint_at(log_id, i, block=block) for i in range(start, end)]


def _checkpoint(log_id: int, index: int, values: Any) -> Checkpoint:
    tree_size, timestamp, block_number, epoch, root = values
    return Checkpoint(
        log_id=log_id,
        index=index,
        epoch=int(epoch),
        tree_size=int(tree_size),
        root=bytes(root),
        timestamp=int(timestamp),
        block_number=int(block_number),
    )
