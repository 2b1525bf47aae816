"""What the audit console shows as evidence: an event with its receipt and proof, the timeline.

``event_evidence`` reads an event as stored, its receipt, whether the event
still hashes to the receipt's leaf (checked here, on the server), and its
inclusion proof in the newest anchored checkpoint that covers it: the data the
page hands to the in-browser check (``<section id="browser-proof">``,
docs/consoles.md). ``checkpoint_timeline`` lists the stored checkpoints with
the consistency proof between consecutive ones checked on the server.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from api.http.schemas.audit import ConsistencyProofOut
from api.http.schemas.common import checkpoint_out
from ledger.audit.anchoring import CheckpointAnchorer, CheckpointState, StoredCheckpoint
from ledger.audit.errors import AuditError
from ledger.audit.events import format_time
from ledger.audit.log import AuditLog
from ledger.merkle.errors import MerkleError
from ledger.merkle.verify import verify_consistency, verify_inclusion

__all__ = [
    "EventEvidence",
    "Timeline",
    "TimelineEntry",
    "checkpoint_timeline",
    "event_evidence",
]

TIMELINE_LENGTH = 50
"""Newest checkpoints the timeline shows."""


@dataclass(frozen=True)
class TimelineEntry:
    """One checkpoint of the timeline; ``consistent`` None for the first one shown."""

    tree_size: int
    root: str
    block: int | None
    time: str
    state: str
    consistent: bool | None


@dataclass(frozen=True)
class EventEvidence:
    """An event as stored, its receipt, and its inclusion in an anchored checkpoint."""

    index: int
    event: dict[str, Any]
    receipt: dict[str, Any]
    receipt_json: str
    matches_receipt: bool
    leaf_hash: str
    tree_size: int | None
    root: str | None
    block: int | None
    proof: list[str]
    proof_checked: bool
    event_json: str = "{}"
    """The event as stored (``AccessEvent.to_json()``), compact JSON, for the browser."""
    note: str = ""
    """The covering checkpoint's signed note (empty without one)."""
    log_id: int | None = None


@dataclass(frozen=True)
class Timeline:
    """The timeline's rows, and its data for the in-browser check as JSON.

    ``checkpoints_json`` lists the checkpoints as ``GET /audit/checkpoints`` does;
    ``proofs_json`` the consistency proofs between consecutive ones as
    ``GET /audit/proofs/consistency`` answers them.
    """

    entries: list[TimelineEntry]
    checkpoints_json: str
    proofs_json: str


def _covering(anchorer: CheckpointAnchorer | None, index: int) -> StoredCheckpoint | None:
    if anchorer is None:
        return None
    for checkpoint in anchorer.checkpoints(
        state=CheckpointState.ANCHORED, limit=1, newest_first=True
    ):
        if checkpoint.tree_size > index:
            return checkpoint
    return None


def _stored_body(audit_log: AuditLog, index: int) -> dict[str, Any] | None:
    with audit_log.db.read() as tx:
        row = tx.fetchone("SELECT body FROM audit_events WHERE seq = ?", (index,))
    if row is None:
        return None
    try:
        found = json.loads(bytes(row[0]))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def event_evidence(
    audit_log: AuditLog, anchorer: CheckpointAnchorer | None, index: int
) -> EventEvidence | None:
    """Event ``index`` with its receipt and proof; None when the log has no such event."""
    try:
        result = audit_log.event(index)
    except (AuditError, ValueError, KeyError, TypeError):
        result = None  # an altered body that no longer parses as an event
    if result is None:
        body = _stored_body(audit_log, index)
        if body is None:
            return None
        return EventEvidence(index, body, {}, "{}", False, "", None, None, None, [], False)
    receipt = result.receipt
    leaf = audit_log.hasher.hash_leaf(result.event.digest())
    matches = leaf == receipt.leaf_hash
    covering = _covering(anchorer, index)
    proof: list[bytes] = []
    checked = False
    if covering is not None:
        proof = audit_log.inclusion_proof(index, covering.tree_size)
        try:
            verify_inclusion(
                audit_log.hasher, index, covering.tree_size, receipt.leaf_hash, proof, covering.root
            )
            checked = True
        except MerkleError:
            checked = False
    shown = result.event.to_json()
    receipt_doc = receipt.to_json()
    compact = (",", ":")
    return EventEvidence(
        index=index,
        event=shown,
        receipt=receipt_doc,
        receipt_json=json.dumps(receipt_doc, separators=compact, sort_keys=True),
        matches_receipt=matches,
        leaf_hash=receipt.leaf_hash.hex(),
        tree_size=None if covering is None else covering.tree_size,
        root=None if covering is None else covering.root.hex(),
        block=None if covering is None else covering.block_number,
        proof=[node.hex() for node in proof],
        proof_checked=checked,
        event_json=json.dumps(shown, separators=compact, ensure_ascii=False),
        note="" if covering is None else covering.note,
        log_id=audit_log.log_id,
    )


def _anchored_links(audit_log: AuditLog, stored: list[StoredCheckpoint]) -> list[dict[str, Any]]:
    """Proofs between consecutive anchored checkpoints with others (superseded) between them.

    The browser checks only anchored checkpoints (only they have a root on chain), so it
    links each to the anchored one before it.
    """
    anchored = [c for c in stored if c.state is CheckpointState.ANCHORED]
    adjacent = {(a.tree_size, b.tree_size) for a, b in itertools.pairwise(stored)}
    links: list[dict[str, Any]] = []
    for older, newer in itertools.pairwise(anchored):
        if (older.tree_size, newer.tree_size) in adjacent:
            continue
        try:
            proof = audit_log.consistency_proof(older.tree_size, newer.tree_size)
        except (MerkleError, AuditError):
            continue
        links.append(
            ConsistencyProofOut(
                from_size=older.tree_size,
                to_size=newer.tree_size,
                from_root=older.root.hex(),
                to_root=newer.root.hex(),
                proof=[node.hex() for node in proof],
            ).model_dump(mode="json")
        )
    return links


def checkpoint_timeline(anchorer: CheckpointAnchorer | None, audit_log: AuditLog) -> Timeline:
    """The newest stored checkpoints, oldest first, each checked against the one before."""
    if anchorer is None:
        return Timeline([], "[]", "[]")
    stored = list(reversed(anchorer.checkpoints(limit=TIMELINE_LENGTH, newest_first=True)))
    entries: list[TimelineEntry] = []
    proofs: list[dict[str, Any]] = []
    previous: StoredCheckpoint | None = None
    for checkpoint in stored:
        consistent: bool | None = None
        if previous is not None:
            try:
                proof = audit_log.consistency_proof(previous.tree_size, checkpoint.tree_size)
                proofs.append(
                    ConsistencyProofOut(
                        from_size=previous.tree_size,
                        to_size=checkpoint.tree_size,
                        from_root=previous.root.hex(),
                        to_root=checkpoint.root.hex(),
                        proof=[node.hex() for node in proof],
                    ).model_dump(mode="json")
                )
                verify_consistency(
                    audit_log.hasher,
                    previous.tree_size,
                    checkpoint.tree_size,
                    proof,
                    previous.root,
                    checkpoint.root,
                )
                consistent = True
            except (MerkleError, AuditError):
                consistent = False
        entries.append(
            TimelineEntry(
                tree_size=checkpoint.tree_size,
                root=checkpoint.root.hex(),
                block=checkpoint.block_number,
                time=format_time(checkpoint.created_at_ms),
                state=checkpoint.state.value,
                consistent=consistent,
            )
        )
        previous = checkpoint
    proofs.extend(_anchored_links(audit_log, stored))
    listed = [checkpoint_out(c).model_dump(mode="json") for c in stored]
    compact = (",", ":")
    return Timeline(
        entries, json.dumps(listed, separators=compact), json.dumps(proofs, separators=compact)
    )
