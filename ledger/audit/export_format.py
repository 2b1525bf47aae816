"""What an audit-log export is made of, and what checking one reports.

The lines of ``tongban-audit-export/v2`` (JSON Lines, one object a line):

1. ``{"type": "header", "format", "logId", "origin", "hash": "sm3", "treeSize", "root"}``:
   the snapshot's size N and the root of its first N events;
2. one ``{"type": "event", "index", "event", "receipt"}`` per event, 0 to N - 1;
3. one ``{"type": "checkpoint", "treeSize", "root", "note", "blockNumber"}`` per
   checkpoint the province signed of at most N events, and of every larger one
   the log could no longer extend the snapshot to (a claim: the log was once
   that large);
4. one ``{"type": "consistency", "treeSize", "root", "note", "blockNumber",
   "proof"}`` per checkpoint larger than N that the province signed by the
   time the export ended, with the RFC 9162 consistency proof from (N, root)
   to it.

``tongban-audit-export/v1`` (no ``root``, no ``consistency`` lines; checkpoint
lines may be newer than the header) is still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ledger.audit.errors import AuditError
from ledger.crypto.sm2 import Sm2PublicKey

EXPORT_FORMAT = "tongban-audit-export/v2"
"""The format ``write_export`` writes."""
EXPORT_FORMAT_V1 = "tongban-audit-export/v1"
"""The previous format, still accepted by ``verify_export``."""
READABLE_FORMATS = (EXPORT_FORMAT, EXPORT_FORMAT_V1)
"""Every format ``verify_export`` reads."""


@dataclass(frozen=True)
class AnchoredRoot:
    """A checkpoint as the chain holds it."""

    index: int
    tree_size: int
    root: bytes
    block_number: int


class ChainView(Protocol):
    """What an auditor reads from the chain (through its own configured contracts)."""

    def anchored_roots(self, log_id: int, *, block: int | None = None) -> list[AnchoredRoot]:
        """Every checkpoint anchored for ``log_id`` as of ``block`` (None: the newest block)."""

    def log_key(self, log_id: int, key_id: str) -> Sm2PublicKey:
        """The public key ``key_id`` the registry lists for issuer ``log_id``."""


@dataclass(frozen=True)
class Finding:
    """One problem found, naming the event (index, id) or checkpoint (tree size) it concerns.

    ``message`` says what is wrong without repeating ``kind`` or the place, so
    a printer can put both in front of it.
    """

    kind: str
    message: str
    index: int | None = None
    event_id: str | None = None
    tree_size: int | None = None


@dataclass(frozen=True)
class Beyond:
    """The newest checkpoint anchored for a larger tree than the export's.

    ``proven_by`` says where the consistency proof from the export's tree to
    it came from (``"export"`` or ``"province"``); None when there was none.
    """

    checkpoint: AnchoredRoot
    proven_by: str | None


@dataclass
class ExportReport:
    """The outcome of ``verify_export``: valid only when nothing was found."""

    log_id: int | None = None
    tree_size: int | None = None
    events: int = 0
    checkpoints_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    beyond: Beyond | None = None
    as_of_block: int | None = None

    @property
    def valid(self) -> bool:
        """Whether the export matched its receipts and the chain up to its own size."""
        return not self.findings and self.log_id is not None

    @property
    def proven(self) -> bool:
        """Whether it is valid and also shown a prefix of the newest anchored checkpoint."""
        return self.valid and (self.beyond is None or self.beyond.proven_by is not None)

    def unproven_note(self) -> str | None:
        """One line saying what is not proven, or None when nothing is left unproven."""
        if self.beyond is None or self.beyond.proven_by is not None:
            return None
        anchored = self.beyond.checkpoint
        return (
            f"not proven beyond size {self.tree_size}: the chain anchors checkpoint "
            f"#{anchored.index} of {anchored.tree_size} events (block {anchored.block_number}) "
            "and no consistency proof to it was given"
        )


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


def checkpoint_line(tree_size: int, root: bytes, note: str, block: int | None) -> dict[str, Any]:
    """The export line of a signed checkpoint."""
    return {
        "type": "checkpoint",
        "treeSize": tree_size,
        "root": root.hex(),
        "note": note,
        "blockNumber": block,
    }


def hex_bytes(value: object, what: str) -> bytes:
    """``value`` as bytes from lowercase or uppercase hex; ``AuditError`` naming ``what``."""
    if not isinstance(value, str):
        raise AuditError(f"{what} is not a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise AuditError(f"{what} is not a hex string") from None


def proof_nodes(value: object, what: str) -> list[bytes]:
    """A list of hex hashes (a consistency proof) as bytes; ``AuditError`` naming ``what``."""
    if not isinstance(value, list):
        raise AuditError(f"{what} is not a list of hex hashes")
    return [hex_bytes(node, what) for node in value]
