"""The audit log's tables: schema migrations, tree-node reads and row helpers.

``ledger.audit.log`` appends and reads through these; they hold no state.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ledger.audit.errors import LogCorruptedError
from ledger.audit.receipts import batch_paths
from ledger.merkle.hasher import TreeHasher
from ledger.merkle.tree import NodeKey
from ledger.store.database import Transaction
from ledger.store.migrations import Migration

__all__ = [
    "MAX_SIGNED_BATCH",
    "MIGRATIONS",
    "StoreNodes",
    "batch_leaves",
    "event_json",
    "signed_chunks",
    "subject_key",
]

MIGRATIONS = (
    Migration(
        1,
        "audit log",
        (
            "CREATE TABLE audit_meta (log_id INTEGER NOT NULL)",
            """CREATE TABLE audit_batches (
                id INTEGER PRIMARY KEY,
                first_seq INTEGER NOT NULL UNIQUE,
                count INTEGER NOT NULL,
                root BLOB NOT NULL,
                time_ms INTEGER NOT NULL,
                key_id TEXT NOT NULL,
                signature BLOB NOT NULL
            )""",
            """CREATE TABLE audit_events (
                seq INTEGER PRIMARY KEY,
                event_id TEXT NOT NULL UNIQUE,
                time_ms INTEGER NOT NULL,
                actor TEXT NOT NULL,
                subject_key INTEGER,
                subject_pseudonym TEXT,
                idempotency_key TEXT,
                body BLOB NOT NULL,
                leaf_hash BLOB NOT NULL,
                batch_id INTEGER NOT NULL REFERENCES audit_batches (id)
            )""",
            "CREATE UNIQUE INDEX audit_events_idempotency ON audit_events (actor, idempotency_key)"
            " WHERE idempotency_key IS NOT NULL",
            # Indexing 8 bytes of the pseudonym instead of its 64 hex characters
            # makes appends twice as fast; lookups filter on the full pseudonym.
            "CREATE INDEX audit_events_subject ON audit_events (subject_key)"
            " WHERE subject_key IS NOT NULL",
            """CREATE TABLE audit_nodes (
                level INTEGER NOT NULL,
                idx INTEGER NOT NULL,
                hash BLOB NOT NULL,
                PRIMARY KEY (level, idx)
            ) WITHOUT ROWID""",
        ),
    ),
)


MAX_SIGNED_BATCH = 256
"""Most events under one receipt signature. A commit group larger than this is
signed in several batches, so reading one event's receipt rebuilds a tree of at
most 256 leaves (its path has at most 8 nodes) however large the group was."""


class StoreNodes:
    """``NodeReader`` over the log's tables: level 0 from events, higher levels from nodes."""

    def __init__(self, tx: Transaction) -> None:
        """Read inside ``tx``."""
        self._tx = tx

    def read_nodes(self, keys: Sequence[NodeKey]) -> list[bytes]:
        """Hashes of ``keys`` in order; ``LogCorruptedError`` if one is missing."""
        found: dict[NodeKey, bytes] = {}
        leaves = [index for level, index in keys if level == 0]
        inner = [(level, index) for level, index in keys if level > 0]
        if leaves:
            marks = ",".join("?" * len(leaves))
            for seq, leaf in self._tx.fetchall(
                f"SELECT seq, leaf_hash FROM audit_events WHERE seq IN ({marks})",  # noqa: S608
                leaves,
            ):
                found[(0, int(seq))] = bytes(leaf)
        if inner:
            # One point lookup per node, OR-ed: both SQLite and PostgreSQL use the
            # primary key for this, where a row-value IN (VALUES ...) scans the table.
            condition = " OR ".join("(level = ? AND idx = ?)" for _ in inner)
            flat = [value for key in inner for value in key]
            for level, index, node in self._tx.fetchall(
                f"SELECT level, idx, hash FROM audit_nodes WHERE {condition}",  # noqa: S608
                flat,
            ):
                found[(int(level), int(index))] = bytes(node)
        try:
            return [found[key] for key in keys]
        except KeyError as missing:
            raise LogCorruptedError(f"the store lacks tree node {missing.args[0]}") from None


def batch_leaves(tx: Transaction, first: int, count: int) -> list[bytes]:
    """The leaf hashes of the signed batch of ``count`` events from ``first``."""
    # A signed batch is a run of sequence numbers: a primary-key range, never a scan.
    return [
        bytes(r[0])
        for r in tx.fetchall(
            "SELECT leaf_hash FROM audit_events WHERE seq >= ? AND seq < ? ORDER BY seq",
            (first, first + count),
        )
    ]


def signed_chunks(
    hasher: TreeHasher, leaves: list[bytes]
) -> list[tuple[bytes, list[tuple[bytes, ...]]]]:
    """The receipt tree (root, paths) of each signed batch of at most ``MAX_SIGNED_BATCH``."""
    return [
        batch_paths(hasher, leaves[i : i + MAX_SIGNED_BATCH])
        for i in range(0, len(leaves), MAX_SIGNED_BATCH)
    ]


def subject_key(pseudonym: str) -> int:
    """The indexed part of a pseudonym: its first 8 bytes as a signed 64-bit integer."""
    value = int(pseudonym[:16], 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def event_json(body: bytes) -> dict[str, Any]:
    """A stored event's canonical JSON, decoded; ``LogCorruptedError`` if not an object."""
    document = json.loads(body)
    if not isinstance(document, dict):
        raise LogCorruptedError("a stored event is not a JSON object")
    return document
