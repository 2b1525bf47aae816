"""Checking an export against its receipts and the chain (``verify_export``).

An export is a snapshot of N events. ``verify_export`` trusts only the chain
(through ``ChainView``, optionally as of a block) and the keys the registry
lists for the log's issuer. It recomputes every event's leaf, checks it
against the receipt the log signed for that index (each signed group once),
rebuilds the tree in O(log n) memory and compares its root with every
checkpoint anchored for at most N events. For the newest checkpoint anchored
for more than N events it checks a consistency proof from the export's tree
to it, taken from the export itself or from ``prover`` (the province); with
neither, the report says the export is not proven beyond N, which is no
finding: the log may simply have grown since.

One cause is one finding. An altered event is named once and the tree goes on
with the leaf the log signed for it, so the checkpoints after it still check
everything else; a root mismatch that an earlier finding explains (a group
whose signature fails, an event without a usable receipt) is counted in that
finding's message instead of being reported again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from ledger.audit.checkpoints import parse_note
from ledger.audit.errors import AuditError, CheckpointError, ReceiptError
from ledger.audit.events import AccessEvent
from ledger.audit.export_format import (
    EXPORT_FORMAT,
    EXPORT_FORMAT_V1,
    READABLE_FORMATS,
    AnchoredRoot,
    Beyond,
    ChainView,
    ExportReport,
    Finding,
    hex_bytes,
    proof_nodes,
    read_export,
)
from ledger.audit.receipts import Receipt, batch_paths
from ledger.crypto.errors import CryptoError
from ledger.crypto.signer import verify_payload
from ledger.crypto.sm2 import Sm2PublicKey
from ledger.merkle.errors import MerkleError
from ledger.merkle.hasher import SM3_TREE, TreeHasher
from ledger.merkle.tree import CompactRange
from ledger.merkle.verify import verify_consistency

ConsistencyProver = Callable[[int, int], Sequence[bytes]]
"""Gives the consistency proof from tree size ``size1`` to ``size2`` (e.g. asks the province)."""


def verify_export(
    lines: Iterable[str],
    chain: ChainView,
    *,
    hasher: TreeHasher = SM3_TREE,
    max_findings: int = 100,
    block: int | None = None,
    prover: ConsistencyProver | None = None,
) -> ExportReport:
    """Check an export (an iterable of lines) against its receipts and the chain.

    ``block`` reads the chain as of that block instead of the newest one.
    Findings are sorted by the event index they name (checkpoint-level ones
    last), so the first finding names the first event that fails.
    """
    report = ExportReport(as_of_block=block)
    documents = read_export(lines)
    header = next(documents, None)
    parsed = _header(header)
    if parsed is None:
        report.findings.append(Finding("format", f"not a {EXPORT_FORMAT} export"))
        return report
    log_id, size, header_root = parsed
    report.log_id, report.tree_size = log_id, size
    anchored = sorted(
        chain.anchored_roots(log_id, block=block), key=lambda a: (a.tree_size, a.index)
    )
    checker = _Checker(log_id, size, anchored, chain, hasher)
    notes: list[dict[str, Any]] = []
    extensions: list[dict[str, Any]] = []
    for document in documents:
        kind = document.get("type")
        if kind == "checkpoint":
            notes.append(document)
        elif kind == "consistency" and header_root is not None:
            extensions.append(document)
        elif kind == "event":
            report.events += 1
            checker.add(int(document["index"]), document)
        else:
            checker.findings.append(Finding("format", "an export line of unknown type"))
    checker.finish(header_root)
    notes_check = _Notes(checker, anchored)
    for document in notes:
        notes_check.checkpoint(document, claims=header_root is not None)
    proven: dict[int, bytes] = {}
    for document in extensions:
        proven.update(notes_check.consistency(document))
    notes_check.report_claims()
    report.beyond = _beyond(checker, anchored, proven, prover)
    report.checkpoints_checked = checker.checkpoints_checked
    ordered = sorted(
        checker.findings, key=lambda f: (f.index is None, f.index or 0, f.tree_size or 0)
    )
    report.findings = ordered[:max_findings]
    return report


def _header(header: dict[str, Any] | None) -> tuple[int, int, bytes | None] | None:
    """``(log id, tree size, root)`` of a readable header (v1: no root), else None."""
    if header is None or header.get("type") != "header":
        return None
    version = header.get("format")
    if version not in READABLE_FORMATS:
        return None
    log_id, size = header.get("logId"), header.get("treeSize")
    if not isinstance(log_id, int) or not isinstance(size, int) or size < 0:
        return None
    if version == EXPORT_FORMAT_V1:
        return log_id, size, None
    try:
        return log_id, size, hex_bytes(header.get("root"), "the header's root")
    except AuditError:
        return None


class _Checker:
    """Streams events batch by batch: one signature check per batch, O(log n) tree state."""

    def __init__(
        self,
        log_id: int,
        size: int,
        anchored: list[AnchoredRoot],
        chain: ChainView,
        hasher: TreeHasher,
    ) -> None:
        self.log_id = log_id
        self.size = size
        self.chain = chain
        self.hasher = hasher
        self._upcoming = iter([a for a in anchored if a.tree_size <= size])
        self._next_anchor = next(self._upcoming, None)
        self._keys: dict[str, Sm2PublicKey | AuditError] = {}
        self.tree = CompactRange(hasher)
        self.findings: list[Finding] = []
        self.checkpoints_checked = 0
        self._expected = 0
        self._broken = False
        self._past_end = False
        self._batch: list[tuple[int, AccessEvent, Receipt]] = []
        # Findings after which the tree's leaves are not all ones the log signed:
        # (first index affected, position in ``findings``).
        self._taints: list[tuple[int, int]] = []
        self._mismatches: list[tuple[Finding, str]] = []

    @property
    def clean(self) -> bool:
        """Whether the tree holds exactly the N leaves the log signed (as far as can be told)."""
        return not self._broken and not self._taints and self.tree.size == self.size

    def key_for(self, key_id: str) -> Sm2PublicKey:
        """The log's key ``key_id`` (looked up once); ``AuditError`` if the registry has none."""
        if key_id not in self._keys:
            try:
                self._keys[key_id] = self.chain.log_key(self.log_id, key_id)
            except AuditError as exc:
                self._keys[key_id] = exc
        found = self._keys[key_id]
        if isinstance(found, AuditError):
            raise found
        return found

    def _find(
        self, kind: str, message: str, index: int, event: AccessEvent | None, *, taints: bool
    ) -> None:
        event_id = None if event is None else event.event_id
        if taints:
            self._taints.append((index, len(self.findings)))
        self.findings.append(Finding(kind, message, index, event_id))

    def add(self, index: int, document: dict[str, Any]) -> None:
        """Check one event line (in file order)."""
        event = AccessEvent.from_json(document["event"])
        if index >= self.size:
            if not self._past_end:
                message = f"the header states {self.size} events; this one is beyond them"
                self._find("format", message, index, event, taints=False)
            self._past_end = True
            return
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
                self._find("order", "event index repeats or goes back", index, event, taints=False)
            self._broken = True
        self._expected = index + 1
        leaf = self.hasher.hash_leaf(event.digest())
        if event.log_id != self.log_id:
            message = f"the event belongs to log {event.log_id}"
            self._find("altered", message, index, event, taints=False)
        tree_leaf = leaf
        try:
            receipt = Receipt.from_json(document.get("receipt"))
        except ReceiptError:
            message = "the event has no well-formed receipt"
            self._find("receipt", message, index, event, taints=True)
        else:
            if receipt.index != index:
                message = "the receipt is for another index"
                self._find("misplaced", message, index, event, taints=True)
            if receipt.leaf_hash != leaf:
                usable = len(receipt.leaf_hash) == self.hasher.size
                message = "the event differs from the one the log signed a receipt for"
                self._find("altered", message, index, event, taints=not usable)
                if usable:
                    # Go on with the leaf the log signed: later roots then check the
                    # rest of the log instead of repeating this one difference.
                    tree_leaf = receipt.leaf_hash
            if self._batch and self._batch[0][2].batch != receipt.batch:
                self._close_batch()
            self._batch.append((index, event, receipt))
        if not self._broken:
            self.tree.append(tree_leaf)
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
            self._find("receipt", message, first_index, first_event, taints=True)

    def _check_anchors(self) -> None:
        while self._next_anchor is not None and self._next_anchor.tree_size == self.tree.size:
            anchor = self._next_anchor
            self.checkpoints_checked += 1
            if self.tree.root() != anchor.root:
                message = (
                    f"events 0..{self.tree.size - 1} do not hash to the root anchored in "
                    f"checkpoint #{anchor.index} (block {anchor.block_number})"
                )
                finding = Finding("checkpoint", message, tree_size=anchor.tree_size)
                self._mismatches.append((finding, "anchored checkpoint"))
            self._next_anchor = next(self._upcoming, None)

    def finish(self, header_root: bytes | None) -> None:
        """Close the last signed group, then name a short export and explain root mismatches."""
        self._close_batch()
        if not self._broken and self.tree.size < self.size:
            self.findings.append(
                Finding(
                    "truncated",
                    f"the export states {self.size} events but holds only {self.tree.size}: "
                    f"events from index {self.tree.size} on are missing",
                    index=self.tree.size,
                    tree_size=self.size,
                )
            )
        elif not self._broken and header_root is not None and self.tree.root() != header_root:
            message = f"events 0..{self.size - 1} do not hash to the root the header states"
            self._mismatches.append((Finding("root", message, tree_size=self.size), "header root"))
        self._explain_mismatches()

    def _explain_mismatches(self) -> None:
        explained: dict[int, list[str]] = {}
        for finding, what in self._mismatches:
            size = finding.tree_size or 0
            cause = next((pos for first, pos in self._taints if first < size), None)
            if cause is None:
                self.findings.append(finding)
            else:
                explained.setdefault(cause, []).append(what)
        for position, whats in explained.items():
            source = self.findings[position]
            self.findings[position] = replace(
                source, message=f"{source.message}; because of it {_count(whats)} not match"
            )


def _count(whats: list[str]) -> str:
    """What did not match, as the subject of a sentence: '2 anchored checkpoints do'."""
    parts = []
    for what in dict.fromkeys(whats):
        n = whats.count(what)
        if what == "header root":
            parts.append("the header's root")
        else:
            parts.append(f"{n} {what}{'s' if n > 1 else ''}")
    plural = len(whats) > 1
    return " and ".join(parts) + (" do" if plural else " does")


class _Notes:
    """Checks the signed checkpoints an export carries, against the registry key and the chain."""

    def __init__(self, checker: _Checker, anchored: list[AnchoredRoot]) -> None:
        self.checker = checker
        self.on_chain = {a.tree_size: a for a in anchored}
        self.claimed = 0

    def _find(self, kind: str, message: str, size: int) -> None:
        self.checker.findings.append(Finding(kind, message, tree_size=size))

    def _signed(self, document: dict[str, Any]) -> tuple[int, bytes] | None:
        """``(tree size, root)`` of a line whose note verifies and agrees with it and the chain."""
        size = int(document["treeSize"])
        try:
            signed = parse_note(str(document["note"]))
            signed.verify(self.checker.key_for(signed.key_name.rsplit("#", 1)[-1]))
        except (CheckpointError, AuditError) as exc:
            self._find("checkpoint", f"the signed note does not verify: {exc}", size)
            return None
        note = signed.checkpoint
        if note.log_id != self.checker.log_id or note.tree_size != size:
            self._find("checkpoint", "the signed note names another log or size", size)
            return None
        anchor = self.on_chain.get(size)
        if anchor is not None and anchor.root != note.root:
            self._find("checkpoint", "the province signed another root than the chain holds", size)
            return None
        return size, note.root

    def checkpoint(self, document: dict[str, Any], *, claims: bool) -> None:
        """A checkpoint line; in v2 one beyond the header's size is a claim the log was larger."""
        signed = self._signed(document)
        if signed is not None and claims and signed[0] > self.checker.size:
            self.claimed = max(self.claimed, signed[0])

    def consistency(self, document: dict[str, Any]) -> dict[int, bytes]:
        """A consistency line: ``{size: root}`` when its proof from the export's tree holds."""
        signed = self._signed(document)
        if signed is None:
            return {}
        size, root = signed
        if size <= self.checker.size:
            self._find("format", "a consistency proof to a tree not larger than the export", size)
            return {}
        if not self.checker.clean:
            return {}  # the export's own root is already known to be wrong
        try:
            proof = proof_nodes(document.get("proof"), "the proof")
            verify_consistency(
                self.checker.hasher, self.checker.size, size, proof, self.checker.tree.root(), root
            )
        except (AuditError, MerkleError) as exc:
            message = f"the export's events are not a prefix of this checkpoint: {exc}"
            self._find("consistency", message, size)
            return {}
        return {size: root}

    def report_claims(self) -> None:
        """Name the export truncated when the log signed a larger checkpoint it cannot extend to."""
        if self.claimed:
            size = self.checker.size
            self.checker.findings.append(
                Finding(
                    "truncated",
                    f"the log signed a checkpoint of {self.claimed} events but the export stops "
                    f"at {size} without a consistency proof to it: events from index {size} on "
                    "are missing",
                    index=size,
                    tree_size=self.claimed,
                )
            )


def _beyond(
    checker: _Checker,
    anchored: list[AnchoredRoot],
    proven: dict[int, bytes],
    prover: ConsistencyProver | None,
) -> Beyond | None:
    """The newest checkpoint anchored beyond the export, and how (whether) it is proven."""
    later = [a for a in anchored if a.tree_size > checker.size]
    if not later or checker.size == 0:
        return None
    newest = later[-1]
    if proven.get(newest.tree_size) == newest.root:
        return Beyond(newest, "export")
    if prover is None or not checker.clean:
        return Beyond(newest, None)
    proof = list(prover(checker.size, newest.tree_size))
    try:
        verify_consistency(
            checker.hasher, checker.size, newest.tree_size, proof, checker.tree.root(), newest.root
        )
    except MerkleError as exc:
        checker.findings.append(
            Finding(
                "consistency",
                f"the export's events are not a prefix of checkpoint #{newest.index} "
                f"(block {newest.block_number}): the province's proof does not verify: {exc}",
                tree_size=newest.tree_size,
            )
        )
        return Beyond(newest, None)
    return Beyond(newest, "province")
