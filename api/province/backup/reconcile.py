"""After a restore: what the chain knows that the restored store does not, exactly.

``reconcile`` first brings the chain index up to the chain's head (as the
writer would), then compares:

- **Credential batches.** Every root the province anchored (the index's
  ``chain_index_anchors`` for its issuer id) against the store's batches. A
  batch the store has as sealed but the chain has anchored was anchored after
  the snapshot: it is *recognised*, and the outbox finishes its item without a
  new transaction (a submitted item finds its receipt; a queued one is refused
  by the contract's ``DuplicateRoot`` when its gas is estimated, before anything
  is sent, which the outbox reads as already done). A root on chain that the
  store does not have is a *lost batch*: its root, size and block are reported;
  the credentials in it cannot be recovered from the chain (it holds only the
  root), only re-issued. Before that verdict, ``reseal`` re-forms such a batch
  when the snapshot's pending credentials alone make its root (it was sealed
  after the snapshot from credentials the snapshot has): then it is recognised.
- **The audit log.** Every checkpoint ``AuditAnchor`` holds for the log is
  checked against the restored log: one for a size the log has must have the
  same root (re-verified); one for a larger size means events were lost, and
  the report names the range ``[restored size, largest anchored size)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.province.backup.reseal import reseal
from ledger.audit.tables import StoreNodes
from ledger.chain.contracts.audit_anchor import AuditAnchor
from ledger.chain.contracts.consortium import ConsortiumAddresses
from ledger.chain.index import ChainIndex
from ledger.chain.node.client import ChainClient
from ledger.merkle import tree as merkle
from ledger.merkle.hasher import SM3_TREE
from ledger.store.database import Database

__all__ = ["LostBatch", "ReconcileReport", "reconcile"]


@dataclass(frozen=True)
class LostBatch:
    """A credential batch anchored on chain that the restored store does not hold."""

    root: str
    tree_size: int
    block_number: int

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"root": self.root, "size": self.tree_size, "blockNumber": self.block_number}


@dataclass
class ReconcileReport:
    """The restored province against the chain."""

    issuer_id: int
    index_height: int = 0
    batches_in_store: int = 0
    recognised: list[str] = field(default_factory=list)
    """Roots sealed in the store and anchored on chain after the snapshot."""
    resealed: list[str] = field(default_factory=list)
    """Roots anchored after the snapshot from credentials it holds, re-formed from them."""
    to_anchor: int = 0
    """Batches sealed in the store and not on chain: the outbox anchors them."""
    lost_batches: list[LostBatch] = field(default_factory=list)
    audit_events: int = 0
    checkpoints_verified: int = 0
    checkpoints_differing: list[int] = field(default_factory=list)
    """Tree sizes whose anchored root is not the restored log's root at that size."""
    anchored_tree_size: int = 0

    @property
    def lost_credentials(self) -> int:
        """Credentials in lost batches."""
        return sum(b.tree_size for b in self.lost_batches)

    @property
    def lost_events(self) -> tuple[int, int] | None:
        """``[first, end)`` of the audit events anchored on chain but not restored."""
        if self.anchored_tree_size > self.audit_events:
            return self.audit_events, self.anchored_tree_size
        return None

    @property
    def complete(self) -> bool:
        """Whether nothing the chain knows of is missing from the store."""
        return not (self.lost_batches or self.lost_events or self.checkpoints_differing)

    def to_json(self) -> dict[str, Any]:
        """JSON form (roots and counts only: nothing personal)."""
        lost = self.lost_events
        return {
            "complete": self.complete,
            "issuerId": self.issuer_id,
            "indexHeight": self.index_height,
            "credentialBatches": {
                "inStore": self.batches_in_store,
                "anchoredAfterSnapshot": self.recognised,
                "resealedFromSnapshot": self.resealed,
                "toAnchor": self.to_anchor,
                "lost": [b.to_json() for b in self.lost_batches],
                "lostCredentials": self.lost_credentials,
            },
            "auditLog": {
                "restoredEvents": self.audit_events,
                "anchoredTreeSize": self.anchored_tree_size,
                "checkpointsVerified": self.checkpoints_verified,
                "checkpointsDiffering": self.checkpoints_differing,
                "lostEvents": None
                if lost is None
                else {"from": lost[0], "to": lost[1], "count": lost[1] - lost[0]},
            },
        }

    def lines(self) -> list[str]:
        """The human report, one finding a line."""
        out = [
            f"chain index synced to block {self.index_height}",
            f"credential batches in the store: {self.batches_in_store}; "
            f"anchored after the snapshot (recognised, not re-anchored): {len(self.recognised)}; "
            f"still to anchor: {self.to_anchor}",
        ]
        if self.resealed:
            out.append(
                f"re-formed from the snapshot's pending credentials (anchored after it): "
                f"{len(self.resealed)} batches"
            )
        for batch in self.lost_batches:
            out.append(
                f"LOST credential batch: root {batch.root}, {batch.tree_size} credentials, "
                f"anchored in block {batch.block_number}"
            )
        if self.lost_batches:
            out.append(
                f"{self.lost_credentials} credentials were issued after the snapshot and are "
                "lost: the chain holds only their batch roots; re-issue them"
            )
        out.append(
            f"audit log: {self.audit_events} events restored; {self.checkpoints_verified} "
            f"anchored checkpoints re-verified; largest anchored size {self.anchored_tree_size}"
        )
        for size in self.checkpoints_differing:
            out.append(f"DIFFERS: the checkpoint anchored at size {size} is not this log's root")
        lost = self.lost_events
        if lost is not None:
            out.append(
                f"LOST audit events: {lost[1] - lost[0]} (tree range [{lost[0]}, {lost[1]}))"
            )
        out.append("complete: nothing is missing" if self.complete else "INCOMPLETE: see above")
        return out


def reconcile(
    db: Database,
    client: ChainClient,
    addresses: ConsortiumAddresses,
    issuer_id: int,
    *,
    start_block: int = 0,
    confirmations: int = 1,
) -> ReconcileReport:
    """Sync the index, re-form batches sealed after the snapshot, compare with the chain."""
    index = ChainIndex(
        db,
        client.chain_id,
        addresses.registry,
        addresses.credential_anchor,
        client=client,
        start_block=start_block,
        confirmations=confirmations,
    )
    report = ReconcileReport(issuer_id)
    report.index_height = index.sync().height
    _batches(db, issuer_id, report)
    lost = [(bytes.fromhex(b.root), b.tree_size) for b in report.lost_batches]
    resealed = {root.hex() for root in reseal(db, issuer_id, addresses.credential_anchor, lost)}
    report.resealed = [b.root for b in report.lost_batches if b.root in resealed]
    report.lost_batches = [b for b in report.lost_batches if b.root not in resealed]
    _audit(db, AuditAnchor(client, addresses.audit_anchor), issuer_id, report)
    return report


def _batches(db: Database, issuer_id: int, report: ReconcileReport) -> None:
    with db.read() as tx:
        stored = {
            bytes(r[0]): str(r[1]) for r in tx.fetchall("SELECT root, state FROM cred_batches")
        }
        anchored = tx.fetchall(
            "SELECT root, tree_size, block_number FROM chain_index_anchors "
            "WHERE issuer_id = ? ORDER BY block_number, root",
            (issuer_id,),
        )
    on_chain = {bytes(r[0]) for r in anchored}
    report.batches_in_store = len(stored)
    for root, size, block in anchored:
        state = stored.get(bytes(root))
        if state is None:
            report.lost_batches.append(LostBatch(bytes(root).hex(), int(size), int(block)))
        elif state != "anchored":
            report.recognised.append(bytes(root).hex())
    report.to_anchor = sum(1 for root in stored if root not in on_chain)


def _audit(db: Database, anchor: AuditAnchor, log_id: int, report: ReconcileReport) -> None:
    checkpoints = anchor.checkpoints(log_id)
    with db.read() as tx:
        row = tx.fetchone("SELECT MAX(seq) FROM audit_events")
        size = 0 if row is None or row[0] is None else int(row[0]) + 1
        report.audit_events = size
        nodes = StoreNodes(tx)
        for checkpoint in checkpoints:
            report.anchored_tree_size = max(report.anchored_tree_size, checkpoint.tree_size)
            if checkpoint.tree_size > size:
                continue
            if merkle.root(SM3_TREE, nodes, checkpoint.tree_size) == checkpoint.root:
                report.checkpoints_verified += 1
            else:
                report.checkpoints_differing.append(checkpoint.tree_size)
