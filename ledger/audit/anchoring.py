"""Checkpoints of the access log, signed and anchored on chain through the outbox.

The writer process calls ``CheckpointAnchorer.maybe_checkpoint`` on a timer:
when the log grew by ``every_events`` events, or ``every_seconds`` passed
since the last checkpoint and the log grew at all, it signs a checkpoint
note for the current size and, in the same store transaction, records it and
enqueues ``AuditAnchor.appendCheckpoint`` in the outbox. A crash therefore
leaves either both or neither; the outbox key ``<logId>:<size>`` and the
contract's strictly growing tree size make a double anchoring impossible.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ledger.audit.checkpoints import Checkpoint, SignedCheckpoint, origin_for, sign_checkpoint
from ledger.audit.errors import AuditError
from ledger.audit.log import AuditLog
from ledger.chain import outbox
from ledger.chain.contracts.audit_anchor import AuditAnchor
from ledger.chain.contracts.audit_anchor import Checkpoint as AnchoredCheckpoint
from ledger.chain.outbox import OutboxItem, OutboxProcessor
from ledger.clock import now_ms
from ledger.store.database import Transaction
from ledger.store.lease import Fence
from ledger.store.migrations import Migration, migrate

log = logging.getLogger(__name__)

OUTBOX_KIND = "audit_checkpoint"
TREE_SIZE_NOT_GROWING = "AuditAnchorTreeSizeNotGrowing"

MIGRATIONS = (
    Migration(
        1,
        "audit checkpoints",
        (
            """CREATE TABLE audit_checkpoints (
                tree_size INTEGER PRIMARY KEY,
                root BLOB NOT NULL,
                note TEXT NOT NULL,
                created_at_ms INTEGER NOT NULL,
                state TEXT NOT NULL,
                block_number INTEGER
            )""",
        ),
    ),
)


class CheckpointState(StrEnum):
    """Where a checkpoint is on its way to the chain."""

    PENDING = "pending"
    ANCHORED = "anchored"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class CheckpointPolicy:
    """When to checkpoint: after ``every_events`` new events, or ``every_seconds`` with any."""

    every_seconds: float = 10.0
    every_events: int = 10_000


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint as the province keeps it."""

    tree_size: int
    root: bytes
    note: str
    created_at_ms: int
    state: CheckpointState
    block_number: int | None


class CheckpointAnchorer:
    """Signs the log's checkpoints and anchors them (writer process only)."""

    def __init__(
        self,
        audit_log: AuditLog,
        chain_id: int,
        anchor: AuditAnchor | None,
        policy: CheckpointPolicy | None = None,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """Anchor ``audit_log``'s checkpoints in ``anchor`` on chain ``chain_id``.

        With ``anchor`` None the object only reads checkpoints (API workers,
        exports, the citizen view); signing and anchoring need the binding.
        """
        self.log = audit_log
        self.origin = origin_for(chain_id, audit_log.log_id)
        self.anchor = anchor
        self.policy = policy or CheckpointPolicy()
        self.clock = clock
        self.fence: Fence | None = None
        """The writer lease's fence: a checkpoint is stored only while the lease is ours."""
        outbox.prepare(audit_log.db)
        migrate(audit_log.db, "audit_checkpoints", MIGRATIONS)

    def _binding(self) -> AuditAnchor:
        if self.anchor is None:
            raise AuditError("this process only reads checkpoints: no AuditAnchor is configured")
        return self.anchor

    def register(self, processor: OutboxProcessor) -> None:
        """Let ``processor`` tell us when a checkpoint's anchoring is final."""
        processor.on_final(OUTBOX_KIND, self._anchored)

    def latest(self) -> StoredCheckpoint | None:
        """The newest checkpoint, anchored or not."""
        checkpoints = self.checkpoints(limit=1, newest_first=True)
        return checkpoints[0] if checkpoints else None

    def checkpoints(
        self, *, state: CheckpointState | None = None, limit: int = 1000, newest_first: bool = False
    ) -> list[StoredCheckpoint]:
        """Stored checkpoints in tree-size order."""
        order = "DESC" if newest_first else "ASC"
        where, params = ("WHERE state = ?", [state.value]) if state else ("", [])
        with self.log.db.read() as tx:
            rows = tx.fetchall(
                "SELECT tree_size, root, note, created_at_ms, state, block_number "  # noqa: S608
                f"FROM audit_checkpoints {where} ORDER BY tree_size {order} LIMIT ?",
                (*params, limit),
            )
        return [
            StoredCheckpoint(
                int(r[0]), bytes(r[1]), str(r[2]), int(r[3]), CheckpointState(r[4]), r[5]
            )
            for r in rows
        ]

    def maybe_checkpoint(self, *, force: bool = False) -> SignedCheckpoint | None:
        """Sign and enqueue a checkpoint if the policy (or ``force``) says so."""
        now = self.clock()
        size, root = self.log.root()
        latest = self.latest()
        last_size = latest.tree_size if latest else 0
        if size <= last_size:
            return None
        grown = size - last_size
        waited = now - (latest.created_at_ms if latest else 0)
        due = grown >= self.policy.every_events or waited >= self.policy.every_seconds * 1000
        if not (force or due):
            return None
        anchor = self._binding()
        signed = sign_checkpoint(Checkpoint(self.origin, size, root), self.log.signer)
        calldata = anchor.contract.encode("appendCheckpoint", self.log.log_id, size, root)
        with self.log.db.write() as tx:
            if self.fence is not None:
                self.fence(tx)
            row = tx.fetchone("SELECT MAX(tree_size) FROM audit_checkpoints")
            if row is not None and row[0] is not None and int(row[0]) >= size:
                return None  # another writer turn already covered this size
            tx.execute(
                "INSERT INTO audit_checkpoints (tree_size, root, note, created_at_ms, state) "
                "VALUES (?, ?, ?, ?, ?)",
                (size, root, signed.note(), now, CheckpointState.PENDING),
            )
            outbox.enqueue(
                tx,
                OUTBOX_KIND,
                f"{self.log.log_id}:{size}",
                anchor.address,
                calldata,
                done_errors=(TREE_SIZE_NOT_GROWING,),
                now_ms=now,
            )
        log.info("audit checkpoint signed", extra={"tree_size": size, "log_id": self.log.log_id})
        return signed

    def _anchored(self, tx: Transaction, item: OutboxItem) -> None:
        size = int(item.key.rsplit(":", 1)[1])
        block = item.block_number
        if item.already_done:
            anchored = self._on_chain(tx, size)
            if anchored is None:
                # The chain moved past this size without it: a later checkpoint covers it.
                tx.execute(
                    "UPDATE audit_checkpoints SET state = ? WHERE tree_size = ?",
                    (CheckpointState.SUPERSEDED, size),
                )
                return
            block = anchored.block_number
        tx.execute(
            "UPDATE audit_checkpoints SET state = ?, block_number = ? WHERE tree_size = ?",
            (CheckpointState.ANCHORED, block, size),
        )

    def _on_chain(self, tx: Transaction, size: int) -> AnchoredCheckpoint | None:
        row = tx.fetchone("SELECT root FROM audit_checkpoints WHERE tree_size = ?", (size,))
        if row is None:
            return None
        anchor = self._binding()
        count = anchor.checkpoint_count(self.log.log_id)
        for index in range(count - 1, -1, -1):
            anchored = anchor.checkpoint_at(self.log.log_id, index)
            if anchored.tree_size == size:
                return anchored if anchored.root == bytes(row[0]) else None
            if anchored.tree_size < size:
                break
        return None
