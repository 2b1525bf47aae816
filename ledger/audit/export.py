"""Log exports for auditors, and their verification against the chain.

An export is JSON Lines (one JSON object per line), streamed so neither side
holds the whole log in memory:

1. ``{"type": "header", "format": "tongban-audit-export/v1", "logId", "origin",
   "hash": "sm3", "treeSize"}``
2. one ``{"type": "event", "index", "event", "receipt"}`` per event, in index order;
3. one ``{"type": "checkpoint", "treeSize", "root", "note", "blockNumber"}`` per
   checkpoint the province signed.

``verify_export`` trusts only the chain (through ``ChainView``) and the keys the
registry lists for the log's issuer. It recomputes every event's leaf, checks
it against the receipt the log signed for that index, rebuilds the tree
(O(log n) memory) and compares its root with every checkpoint anchored on
chain; every anchored checkpoint checked this way is consistent with every
other, since all are recomputed from one sequence of events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from ledger.audit.anchoring import CheckpointAnchorer
from ledger.audit.checkpoints import parse_note
from ledger.audit.errors import AuditError, CheckpointError, ReceiptError
from ledger.audit.events import AccessEvent
from ledger.audit.log import AuditLog
from ledger.audit.receipts import Receipt, batch_paths
from ledger.crypto.errors import CryptoError
from ledger.crypto.signer import verify_payload
from ledger.crypto.sm2 import Sm2PublicKey
from ledger.merkle.hasher import SM3_TREE, TreeHasher
from ledger.merkle.tree import CompactRange

EXPORT_FORMAT = "tongban-audit-export/v1"


def write_export(audit_log: AuditLog, anchorer: CheckpointAnchorer, out: IO[str]) -> int:
    """Write the whole log to ``out``; returns the number of events written."""
    size = audit_log.size()
    header = {
        "type": "header",
        "format": EXPORT_FORMAT,
        "logId": audit_log.log_id,
        "origin": anchorer.origin,
        "hash": "sm3",
        "treeSize": size,
    }
    out.write(json.dumps(header) + "\n")
    count = 0
    for result in audit_log.iterate(0, size):
        line = {
            "type": "event",
            "index": result.index,
            "event": result.event.to_json(),
            "receipt": result.receipt.to_json(),
        }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    for checkpoint in anchorer.checkpoints(limit=1_000_000):
        out.write(
            json.dumps(
                {
                    "type": "checkpoint",
                    "treeSize": checkpoint.tree_size,
                    "root": checkpoint.root.hex(),
                    "note": checkpoint.note,
                    "blockNumber": checkpoint.block_number,
                }
            )
            + "\n"
        )
    return count


@dataclass(frozen=True)
class AnchoredRoot:
    """A checkpoint as the chain holds it."""

    index: int
    tree_size: int
    root: bytes
    block_number: int


class ChainView(Protocol):
    """What an auditor reads from the chain (through its own configured contracts)."""

    def anchored_roots(self, log_id: int) -> list[AnchoredRoot]:
        """Every checkpoint anchored for ``log_id``, in anchoring order."""

    def log_key(self, log_id: int, key_id: str) -> Sm2PublicKey:
        """The public key ``key_id`` the registry lists for issuer ``log_id``."""


@dataclass(frozen=True)
class Finding:
    """One problem found, naming the event (index, id) or checkpoint it concerns."""

    kind: str
    message: str
    index: int | None = None
    event_id: str | None = None
    tree_size: int | None = None


@dataclass
class ExportReport:
    """The outcome of ``verify_export``: valid only when nothing was found."""

    log_id: int | None = None
    events: int = 0
    checkpoints_checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Whether the export matched its receipts and the chain throughout."""
        return not self.findings and self.log_id is not None


def read_export(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Parse an export's lines (blank lines are skipped)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            raise AuditError(f"export line {number} is not JSON") from None
        if not isinstance(document, dict):
            raise AuditError(f"export line {number} is not a JSON object")
        yield document


def verify_export(
    lines: Iterable[str],
    chain: ChainView,
    *,
    hasher: TreeHasher = SM3_TREE,
    max_findings: int = 100,
) -> ExportReport:
    """Check an export against its receipts and the chain; see the module docstring.

    Findings are sorted by the event index they name (checkpoint-level ones
    last), so the first finding names the first event that fails.
    """
    report = ExportReport()
    documents = read_export(lines)
    header = next(documents, None)
    if header is None or header.get("type") != "header" or header.get("format") != EXPORT_FORMAT:
        report.findings.append(Finding("format", f"not a {EXPORT_FORMAT} export"))
        return report
    log_id = int(header["logId"])
    report.log_id = log_id
    checker = _Checker(log_id, chain, hasher)
    notes: list[dict[str, Any]] = []
    for document in documents:
        kind = document.get("type")
        if kind == "checkpoint":
            notes.append(document)
        elif kind == "event":
            report.events += 1
            checker.add(int(document["index"]), document)
        else:
            checker.findings.append(Finding("format", f"unknown export line type {kind!r}"))
    checker.finish()
    _check_notes(notes, checker.anchored, log_id, checker.key_for, checker.findings.append)
    report.checkpoints_checked = checker.checkpoints_checked
    ordered = sorted(
        checker.findings, key=lambda f: (f.index is None, f.index or 0, f.tree_size or 0)
    )
    report.findings = ordered[:max_findings]
    return report


class _Checker:
    """Streams events batch by batch: one signature check per batch, O(log n) tree state."""

    def __init__(self, log_id: int, chain: ChainView, hasher: TreeHasher) -> None:
        self.log_id = log_id
        self.chain = chain
        self.hasher = hasher
        self.anchored = sorted(chain.anchored_roots(log_id), key=lambda a: (a.tree_size, a.index))
        self._upcoming = iter(self.anchored)
        self._next_anchor = next(self._upcoming, None)
        self._keys: dict[str, Sm2PublicKey] = {}
        self.tree = CompactRange(hasher)
        self.findings: list[Finding] = []
        self.checkpoints_checked = 0
        self._expected = 0
        self._broken = False
        self._batch: list[tuple[int, AccessEvent, Receipt]] = []

    def key_for(self, key_id: str) -> Sm2PublicKey:
        if key_id not in self._keys:
            self._keys[key_id] = self.chain.log_key(self.log_id, key_id)
        return self._keys[key_id]

    def _find(self, kind: str, message: str, index: int, event: AccessEvent | None) -> None:
        event_id = None if event is None else event.event_id
        self.findings.append(Finding(kind, message, index, event_id))

    def add(self, index: int, document: dict[str, Any]) -> None:
        event = AccessEvent.from_json(document["event"])
        if index != self._expected and not self._broken:
            if index > self._expected:
                self.findings.append(
                    Finding(
                        "missing",
                        f"events {self._expected}..{index - 1} are missing from the log "
                        f"(the next event present is {event.event_id} at index {index})",
                        index=self._expected,
                    )
                )
            else:
                self._find("order", "event index repeats or goes back", index, event)
            self._broken = True
        self._expected = index + 1
        leaf = self.hasher.hash_leaf(event.digest())
        if event.log_id != self.log_id:
            self._find("altered", f"event belongs to log {event.log_id}", index, event)
        try:
            receipt = Receipt.from_json(document.get("receipt"))
        except ReceiptError:
            self._find("receipt", "the event has no well-formed receipt", index, event)
        else:
            if receipt.index != index:
                self._find("misplaced", "the receipt is for another index", index, event)
            if receipt.leaf_hash != leaf:
                message = "the event differs from the one the log signed a receipt for"
                self._find("altered", message, index, event)
            if self._batch and self._batch[0][2].batch != receipt.batch:
                self._close_batch()
            self._batch.append((index, event, receipt))
        if not self._broken:
            self.tree.append(leaf)
            self._check_anchors()

    def _close_batch(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        first_index, first_event, first_receipt = batch[0]
        signed = first_receipt.batch
        statement = signed.statement
        present = [receipt.index for _, _, receipt in batch]
        expected = list(range(statement.first_index, statement.first_index + statement.count))
        if present != expected:
            # Gaps and a cut-off tail are named as missing or truncated already.
            return
        span = f"events {expected[0]}..{expected[-1]}"
        try:
            batch_root, _ = batch_paths(self.hasher, [r.leaf_hash for _, _, r in batch])
            if batch_root != statement.batch_root:
                raise ReceiptError("its leaf hashes do not give the signed batch root")
            verify_payload(self.key_for(signed.key_id), statement.payload(), signed.signature)
        except (ReceiptError, CryptoError, AuditError) as exc:
            message = f"the signed receipt for {span} does not verify: {exc}"
            self._find("receipt", message, first_index, first_event)

    def _check_anchors(self) -> None:
        while self._next_anchor is not None and self._next_anchor.tree_size == self.tree.size:
            anchor = self._next_anchor
            self.checkpoints_checked += 1
            if self.tree.root() != anchor.root:
                self.findings.append(
                    Finding(
                        "checkpoint",
                        f"events 0..{self.tree.size - 1} do not hash to the root anchored in "
                        f"checkpoint #{anchor.index} (block {anchor.block_number})",
                        tree_size=anchor.tree_size,
                    )
                )
            self._next_anchor = next(self._upcoming, None)

    def finish(self) -> None:
        self._close_batch()
        anchor = self._next_anchor
        if anchor is not None and not self._broken:
            self.findings.append(
                Finding(
                    "truncated",
                    f"the chain anchors checkpoint #{anchor.index} of {anchor.tree_size} "
                    f"events (block {anchor.block_number}) but the log has only "
                    f"{self.tree.size}: events from index {self.tree.size} on are missing",
                    index=self.tree.size,
                    tree_size=anchor.tree_size,
                )
            )


def _check_notes(
    notes: list[dict[str, Any]],
    anchored: list[AnchoredRoot],
    log_id: int,
    key_for: Callable[[str], Sm2PublicKey],
    find: Callable[[Finding], None],
) -> None:
    on_chain = {a.tree_size: a for a in anchored}
    for document in notes:
        size = int(document["treeSize"])
        try:
            signed = parse_note(str(document["note"]))
            key_id = signed.key_name.rsplit("#", 1)[-1]
            signed.verify(key_for(key_id))
        except (CheckpointError, AuditError) as exc:
            find(Finding("checkpoint", f"checkpoint note does not verify: {exc}", tree_size=size))
            continue
        if signed.checkpoint.log_id != log_id or signed.checkpoint.tree_size != size:
            find(Finding("checkpoint", "checkpoint note names another log or size", tree_size=size))
        anchor = on_chain.get(size)
        if anchor is not None and anchor.root != signed.checkpoint.root:
            find(Finding("checkpoint", "signed checkpoint differs from the chain", tree_size=size))


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
