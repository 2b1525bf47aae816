"""Re-form, from a restored store, the batches that were sealed and anchored after its snapshot.

A credential still pending in the snapshot was later sealed into a batch whose
root is now on chain; the restored store does not know that batch. The writer
seals the oldest pending credentials, so that batch was the oldest ``size``
pending ones, unless credentials issued after the snapshot (lost) were in it
too. ``reseal`` tries exactly that: for each anchored root the store lacks,
oldest first, it takes the ``size`` oldest pending credentials and, when their
tree's root is that root, records the batch (leaf indexes and audit paths) and
its outbox item, in one transaction, as the writer's sealing does. The outbox
then finds the root already anchored (the contract's ``DuplicateRoot`` at gas
estimation, so nothing is sent) and marks the batch anchored. A root that does
not match stays lost; the snapshot's pending credentials then go into a new
batch, whose root is new on chain: they are anchored once more, under it.
"""

from __future__ import annotations

from credentials.issuance.records import BATCH_KIND, DUPLICATE_ROOT, AnchoringState
from credentials.issuance.store import PendingRow
from ledger.chain import outbox
from ledger.chain.contracts.credential_anchor import CredentialAnchor
from ledger.clock import now_ms
from ledger.merkle.batch import batch_paths
from ledger.merkle.hasher import SM3_TREE
from ledger.store.database import Database

__all__ = ["reseal"]


def reseal(
    db: Database, issuer_id: int, credential_anchor: str, lost: list[tuple[bytes, int]]
) -> list[bytes]:
    """Record the batches of ``lost`` that the pending credentials form; their roots.

    ``lost`` is (root, size) of each anchored root the store lacks, in anchoring order.
    """
    resealed: list[bytes] = []
    for root, size in lost:
        with db.write() as tx:
            pending = PendingRow.oldest(tx, size)
            if len(pending) != size:
                break
            leaves = [SM3_TREE.hash_leaf(p.digest) for p in pending]
            formed, paths = batch_paths(SM3_TREE, leaves)
            if formed != root:
                break  # the batch held lost credentials too; later ones cannot match either
            tx.execute(
                "INSERT INTO cred_batches (root, tree_size, sealed_at_ms, state) "
                "VALUES (?, ?, ?, ?)",
                (root, size, now_ms(), AnchoringState.SEALED.value),
            )
            found = tx.fetchone("SELECT id FROM cred_batches WHERE root = ?", (root,))
            if found is None:
                raise RuntimeError("batch row vanished inside its own transaction")
            tx.executemany(
                "UPDATE cred_issued SET batch_id = ?, leaf_index = ?, audit_path = ? WHERE seq = ?",
                [(int(found[0]), i, b"".join(paths[i]), p.seq) for i, p in enumerate(pending)],
            )
            outbox.enqueue(
                tx,
                BATCH_KIND,
                f"{issuer_id}:{root.hex()}",
                credential_anchor,
                CredentialAnchor.anchor_calldata(issuer_id, root, size),
                done_errors=(DUPLICATE_ROOT,),
            )
        resealed.append(root)
    return resealed
