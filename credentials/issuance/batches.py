"""The writer's side of issuing: seal pending credentials into batches, record final anchors.

A batch is the oldest pending credentials, sealed when ``batch_size`` are waiting
or the oldest waited ``batch_max_wait_ms``. Its root (RFC 9162, SM3), every
leaf index and audit path, and the outbox item ``credential_batch`` /
``<issuerId>:<root hex>`` that sends ``anchor(issuer, root, size, 0)`` commit
together. When the outbox reports the item final, the batch becomes anchored
with the block number and time read from the contract.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from credentials.errors import ConfigurationError
from credentials.issuance.records import (
    BATCH_KIND,
    DUPLICATE_ROOT,
    STATUS_KIND,
    AnchoringState,
    IssuerConfig,
    SealedBatch,
)
from credentials.issuance.status_changes import status_final
from credentials.issuance.store import PendingRow, prepare
from ledger.chain import outbox
from ledger.chain.contracts.credential_anchor import CredentialAnchor
from ledger.chain.node.client import checksum
from ledger.chain.outbox import OutboxItem, OutboxProcessor
from ledger.clock import now_ms
from ledger.merkle.batch import batch_paths
from ledger.merkle.hasher import SM3_TREE
from ledger.store.database import Database, Transaction
from ledger.store.lease import Fence

log = logging.getLogger(__name__)


class BatchAnchorer:
    """Seals pending credentials into batches and anchors their roots (writer process only)."""

    def __init__(
        self,
        db: Database,
        config: IssuerConfig,
        anchor: CredentialAnchor,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """Anchor ``config``'s batches in ``anchor`` (which must be the configured contract)."""
        if checksum(anchor.address) != config.credential_anchor:
            raise ConfigurationError("the CredentialAnchor binding is not the configured one")
        self.db = db
        self.config = config
        self.anchor = anchor
        self.clock = clock
        self.fence: Fence | None = None
        """The writer lease's fence: a batch is sealed only while the lease is ours."""
        prepare(db, config)

    def register(self, processor: OutboxProcessor) -> None:
        """Let ``processor`` report final batches and status changes to this issuer."""
        processor.on_final(BATCH_KIND, self._batch_final)
        processor.on_final(STATUS_KIND, status_final)

    def seal_due(self, *, force: bool = False) -> list[SealedBatch]:
        """Seal every batch that is due; returns the sealed batches.

        Full batches first, then, if the oldest pending credential waited
        ``batch_max_wait_ms`` (or ``force``), the remaining pending ones.
        """
        sealed: list[SealedBatch] = []
        while True:
            batch = self._seal_one(force)
            if batch is None:
                return sealed
            sealed.append(batch)

    def _seal_one(self, force: bool) -> SealedBatch | None:
        size = self.config.batch_size
        now = self.clock()
        with self.db.write() as tx:
            if self.fence is not None:
                self.fence(tx)
            pending = PendingRow.oldest(tx, size)
            if not pending:
                return None
            waited = now - pending[0].issued_at_ms
            if len(pending) < size and not force and waited < self.config.batch_max_wait_ms:
                return None
            leaves = [SM3_TREE.hash_leaf(p.digest) for p in pending]
            root, paths = batch_paths(SM3_TREE, leaves)
            tx.execute(
                "INSERT INTO cred_batches (root, tree_size, sealed_at_ms, state) "
                "VALUES (?, ?, ?, ?)",
                (root, len(pending), now, AnchoringState.SEALED.value),
            )
            found = tx.fetchone("SELECT id FROM cred_batches WHERE root = ?", (root,))
            if found is None:
                raise RuntimeError("batch row vanished inside its own transaction")
            batch_id = int(found[0])
            tx.executemany(
                "UPDATE cred_issued SET batch_id = ?, leaf_index = ?, audit_path = ? WHERE seq = ?",
                [
                    (batch_id, index, b"".join(paths[index]), p.seq)
                    for index, p in enumerate(pending)
                ],
            )
            outbox.enqueue(
                tx,
                BATCH_KIND,
                f"{self.config.issuer_id}:{root.hex()}",
                self.config.credential_anchor,
                CredentialAnchor.anchor_calldata(self.config.issuer_id, root, len(pending)),
                done_errors=(DUPLICATE_ROOT,),
                now_ms=now,
            )
        log.info("credential batch sealed", extra={"batch_id": batch_id, "size": len(pending)})
        return SealedBatch(batch_id, root, len(pending))

    def _batch_final(self, tx: Transaction, item: OutboxItem) -> None:
        issuer, _, root_hex = item.key.partition(":")
        root = bytes.fromhex(root_hex)
        record = self.anchor.anchor_of(int(issuer), root)
        if record is None:
            # Final without an anchor on chain cannot happen for our own item; keep the
            # batch sealed (no proof is handed out) and tell the operator.
            log.error("final batch is not anchored on chain", extra={"outbox_id": item.id})
            return
        tx.execute(
            "UPDATE cred_batches SET state = ?, block_number = ?, block_time = ? WHERE root = ?",
            (AnchoringState.ANCHORED.value, record.block_number, record.timestamp, root),
        )
