"""The chain index's tables: schema, the store's binding to one chain, height bookkeeping.

Every table but ``chain_index_meta`` holds rows that came from one block, so a
reorg is undone by deleting the rows above the fork point (``rewind``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ledger.chain.errors import ChainConfigError
from ledger.clock import now_ms
from ledger.store.database import Row, Transaction
from ledger.store.migrations import Migration

MIGRATIONS = (
    Migration(
        1,
        "chain index",
        (
            """CREATE TABLE chain_index_meta (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                chain_id INTEGER NOT NULL,
                registry TEXT NOT NULL,
                credential_anchor TEXT NOT NULL,
                start_block INTEGER NOT NULL,
                height INTEGER NOT NULL,
                generation INTEGER NOT NULL DEFAULT 0,
                updated_at_ms INTEGER NOT NULL
            )""",
            """CREATE TABLE chain_index_blocks (
                number INTEGER PRIMARY KEY,
                hash TEXT NOT NULL
            )""",
            """CREATE TABLE chain_index_issuers (
                issuer_id INTEGER PRIMARY KEY,
                division_code INTEGER NOT NULL,
                did TEXT NOT NULL,
                name TEXT NOT NULL,
                block_number INTEGER NOT NULL
            )""",
            """CREATE TABLE chain_index_issuer_events (
                issuer_id INTEGER NOT NULL,
                block_number INTEGER NOT NULL,
                log_index INTEGER NOT NULL,
                status INTEGER NOT NULL,
                PRIMARY KEY (issuer_id, block_number, log_index)
            )""",
            """CREATE TABLE chain_index_keys (
                issuer_id INTEGER NOT NULL,
                key_id TEXT NOT NULL,
                public_key BLOB NOT NULL,
                valid_from INTEGER NOT NULL,
                block_number INTEGER NOT NULL,
                log_index INTEGER NOT NULL,
                PRIMARY KEY (issuer_id, key_id)
            )""",
            """CREATE TABLE chain_index_key_events (
                issuer_id INTEGER NOT NULL,
                key_id TEXT NOT NULL,
                block_number INTEGER NOT NULL,
                log_index INTEGER NOT NULL,
                kind TEXT NOT NULL,
                at INTEGER NOT NULL,
                PRIMARY KEY (issuer_id, key_id, block_number, log_index)
            )""",
            """CREATE TABLE chain_index_anchors (
                issuer_id INTEGER NOT NULL,
                root BLOB NOT NULL,
                block_number INTEGER NOT NULL,
                block_time INTEGER NOT NULL,
                tree_size INTEGER NOT NULL,
                metadata_hash BLOB NOT NULL,
                PRIMARY KEY (issuer_id, root)
            )""",
            "CREATE INDEX chain_index_anchors_block ON chain_index_anchors (block_number)",
            """CREATE TABLE chain_index_statuses (
                issuer_id INTEGER NOT NULL,
                digest BLOB NOT NULL,
                block_number INTEGER NOT NULL,
                log_index INTEGER NOT NULL,
                status INTEGER NOT NULL,
                reason INTEGER NOT NULL,
                PRIMARY KEY (issuer_id, digest, block_number, log_index)
            )""",
            "CREATE INDEX chain_index_statuses_block ON chain_index_statuses (block_number)",
        ),
    ),
)
"""The chain index's schema (component ``chain_index``)."""

# Tables whose rows carry the block they came from (rewound on a reorg).
_BLOCK_TABLES = (
    "chain_index_blocks",
    "chain_index_issuers",
    "chain_index_issuer_events",
    "chain_index_keys",
    "chain_index_key_events",
    "chain_index_anchors",
    "chain_index_statuses",
)
_BLOCK_COLUMN = {"chain_index_blocks": "number"}

KEY_RETIRED = "retired"
"""``chain_index_key_events.kind`` of a retirement (``at``: retired from)."""

KEY_COMPROMISED = "compromised"
"""``chain_index_key_events.kind`` of a compromise mark (``at``: compromised from)."""


@dataclass(frozen=True)
class MetaRow:
    """What the index follows (chain, contracts, first block) and how far it got."""

    COLUMNS: ClassVar[str] = (
        "chain_id, registry, credential_anchor, start_block, height, generation"
    )

    chain_id: int
    registry: str
    credential_anchor: str
    start_block: int
    height: int
    generation: int

    @classmethod
    def from_row(cls, row: Row) -> MetaRow:
        """Build from a row of ``COLUMNS``."""
        chain_id, registry, credential_anchor, start_block, height, generation = row
        return cls(
            int(chain_id),
            str(registry),
            str(credential_anchor),
            int(start_block),
            int(height),
            int(generation),
        )

    @classmethod
    def read(cls, tx: Transaction) -> MetaRow | None:
        """The index's one meta row, or None before the index is initialised."""
        row = tx.fetchone(f"SELECT {cls.COLUMNS} FROM chain_index_meta")  # noqa: S608
        return None if row is None else cls.from_row(row)

    @classmethod
    def require(cls, tx: Transaction) -> MetaRow:
        """The meta row; ``ChainConfigError`` if the index is not initialised."""
        meta = cls.read(tx)
        if meta is None:
            raise ChainConfigError("the chain index is not initialised")
        return meta


def insert_meta(
    tx: Transaction, chain_id: int, registry: str, credential_anchor: str, start_block: int
) -> None:
    """Bind an empty index to one chain and two contracts; nothing is indexed yet."""
    tx.execute(
        "INSERT INTO chain_index_meta (id, chain_id, registry, credential_anchor, "
        "start_block, height, updated_at_ms) VALUES (1, ?, ?, ?, ?, ?, ?)",
        (chain_id, registry, credential_anchor, start_block, start_block - 1, now_ms()),
    )


def set_height(tx: Transaction, height: int) -> None:
    """Record ``height`` as indexed, and count one more change (``generation``)."""
    tx.execute(
        "UPDATE chain_index_meta SET height = ?, generation = generation + 1, "
        "updated_at_ms = ? WHERE id = 1",
        (height, now_ms()),
    )


def rewind(tx: Transaction, base: int) -> None:
    """Delete every row that came from a block above ``base``."""
    for table in _BLOCK_TABLES:
        column = _BLOCK_COLUMN.get(table, "block_number")
        tx.execute(f"DELETE FROM {table} WHERE {column} > ?", (base,))  # noqa: S608
