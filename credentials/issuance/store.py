"""The issuer's tables: schema, the store's issuer binding, and typed rows read from them.

Each row type keeps its SELECT column list next to its fields, and builds itself
from a row of exactly those columns (``from_row``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from credentials.errors import ConfigurationError, UnknownCredentialError
from credentials.issuance.records import (
    AnchoringState,
    AnchoringStatus,
    IssuerConfig,
    StatusRequest,
    StatusRequestState,
)
from credentials.status import DigestStatus, StatusAction
from ledger.chain import outbox
from ledger.store.database import Database, Row, Transaction
from ledger.store.migrations import Migration, migrate

MIGRATIONS = (
    Migration(
        1,
        "credentials",
        (
            "CREATE TABLE cred_meta (issuer_id INTEGER NOT NULL, chain_id INTEGER NOT NULL)",
            """CREATE TABLE cred_batches (
                id INTEGER PRIMARY KEY,
                root BLOB NOT NULL UNIQUE,
                tree_size INTEGER NOT NULL,
                sealed_at_ms INTEGER NOT NULL,
                state TEXT NOT NULL,
                block_number INTEGER,
                block_time INTEGER
            )""",
            """CREATE TABLE cred_issued (
                seq INTEGER PRIMARY KEY,
                digest BLOB NOT NULL UNIQUE,
                key_id TEXT NOT NULL,
                template TEXT NOT NULL,
                issued_at_ms INTEGER NOT NULL,
                document BLOB NOT NULL,
                batch_id INTEGER REFERENCES cred_batches (id),
                leaf_index INTEGER,
                audit_path BLOB,
                status INTEGER NOT NULL DEFAULT 0,
                replaced_by BLOB
            )""",
            "CREATE INDEX cred_issued_pending ON cred_issued (seq) WHERE batch_id IS NULL",
            "CREATE INDEX cred_issued_batch ON cred_issued (batch_id)",
            "CREATE INDEX cred_issued_key ON cred_issued (key_id)",
            """CREATE TABLE cred_status_requests (
                id INTEGER PRIMARY KEY,
                action TEXT NOT NULL,
                reason INTEGER NOT NULL,
                digests BLOB NOT NULL,
                created_at_ms INTEGER NOT NULL,
                state TEXT NOT NULL,
                block_number INTEGER
            )""",
        ),
    ),
    Migration(
        2,
        "idempotency keys",
        (
            """CREATE TABLE cred_idempotency (
                scope TEXT NOT NULL,
                idem_key TEXT NOT NULL,
                request_hash BLOB NOT NULL,
                digests BLOB NOT NULL,
                created_at_ms INTEGER NOT NULL,
                PRIMARY KEY (scope, idem_key)
            )""",
            "CREATE INDEX cred_idempotency_age ON cred_idempotency (created_at_ms)",
        ),
    ),
    Migration(
        3,
        "credential ids",
        (
            # The VC API names a credential by its credentialId (or its id) in
            # POST /credentials/status; earlier credentials are found by digest only.
            """CREATE TABLE cred_ids (
                credential_id TEXT PRIMARY KEY,
                digest BLOB NOT NULL
            )""",
        ),
    ),
    Migration(
        4,
        "zhengzhao identifiers",
        (
            # The 证照标识 of each certificate that has one (credentials.issuance.zhengzhao_ids).
            """CREATE TABLE cred_zhengzhao (
                identifier TEXT PRIMARY KEY,
                digest BLOB NOT NULL UNIQUE
            )""",
        ),
    ),
)
"""The issuer's schema (component ``credentials``): ``cred_idempotency`` is version 2,
``cred_ids`` version 3, ``cred_zhengzhao`` version 4."""


def prepare(db: Database, config: IssuerConfig) -> None:
    """Migrate the outbox and the issuer's tables, and bind the store to ``config``'s issuer.

    Raises ``ConfigurationError`` if the store already holds another issuer's or
    chain's credentials.
    """
    outbox.prepare(db)
    migrate(db, "credentials", MIGRATIONS)
    with db.write() as tx:
        row = tx.fetchone("SELECT issuer_id, chain_id FROM cred_meta")
        if row is None:
            tx.execute(
                "INSERT INTO cred_meta (issuer_id, chain_id) VALUES (?, ?)",
                (config.issuer_id, config.chain_id),
            )
            return
        issuer_id, chain_id = row
        if (int(issuer_id), int(chain_id)) != (config.issuer_id, config.chain_id):
            raise ConfigurationError(
                "this store holds the credentials of another issuer or chain; use its own store"
            )


def split_hashes(raw: bytes) -> tuple[bytes, ...]:
    """The 32-byte hashes stored back to back in ``raw`` (audit paths, digest lists)."""
    return tuple(raw[i : i + 32] for i in range(0, len(raw), 32))


@dataclass(frozen=True)
class BatchPlacement:
    """Where a sealed credential sits in its batch, and the batch's block once anchored."""

    batch_id: int
    leaf_index: int
    audit_path: tuple[bytes, ...]
    root: bytes
    tree_size: int
    anchored: bool
    block_number: int | None
    block_time: int | None

    def anchored_at(self, indexed: int | None) -> bool:
        """Final on chain and, unless ``indexed`` is None, within the chain index's height.

        The outbox and the index follow the chain separately: a batch can be final a
        moment before the index syncs its block, and verifiers read the index.
        """
        if not self.anchored or self.block_number is None:
            return False
        return indexed is None or self.block_number <= indexed


def anchoring_of(digest: bytes, row: IssuedRow, indexed: int | None) -> AnchoringStatus:
    """``row``'s anchoring: pending, sealed, or anchored (``BatchPlacement.anchored_at``)."""
    batch = row.batch
    if batch is None:
        return AnchoringStatus(bytes(digest), AnchoringState.PENDING)
    anchored = batch.anchored_at(indexed)
    return AnchoringStatus(
        bytes(digest),
        AnchoringState.ANCHORED if anchored else AnchoringState.SEALED,
        batch.root,
        batch.tree_size,
        batch.leaf_index,
        batch.block_number if anchored else None,
        batch.block_time if anchored else None,
    )


@dataclass(frozen=True)
class IssuedRow:
    """A stored credential: sealed document, batch placement (None while pending), status."""

    COLUMNS: ClassVar[str] = (
        "i.document, i.batch_id, i.leaf_index, i.audit_path, b.root, b.tree_size, b.state, "
        "b.block_number, b.block_time, i.status, i.replaced_by"
    )

    document: bytes
    batch: BatchPlacement | None
    status: DigestStatus
    replaced_by: bytes | None

    @classmethod
    def from_row(cls, row: Row) -> IssuedRow:
        """Build from a row of ``COLUMNS``."""
        (
            document,
            batch_id,
            leaf_index,
            audit_path,
            root,
            tree_size,
            state,
            block_number,
            block_time,
            status,
            replaced_by,
        ) = row
        batch = None
        if batch_id is not None:
            batch = BatchPlacement(
                batch_id=int(batch_id),
                leaf_index=int(leaf_index),
                audit_path=split_hashes(bytes(audit_path)),
                root=bytes(root),
                tree_size=int(tree_size),
                anchored=state == AnchoringState.ANCHORED,
                block_number=None if block_number is None else int(block_number),
                block_time=None if block_time is None else int(block_time),
            )
        return cls(
            document=bytes(document),
            batch=batch,
            status=DigestStatus(int(status)),
            replaced_by=None if replaced_by is None else bytes(replaced_by),
        )

    @classmethod
    def read(cls, tx: Transaction, digest: bytes) -> IssuedRow:
        """The credential issued here with ``digest``; ``UnknownCredentialError`` if none."""
        row = tx.fetchone(
            f"SELECT {cls.COLUMNS} FROM cred_issued i "  # noqa: S608
            "LEFT JOIN cred_batches b ON b.id = i.batch_id WHERE i.digest = ?",
            (bytes(digest),),
        )
        if row is None:
            raise UnknownCredentialError("no credential with that digest was issued here")
        return cls.from_row(row)


@dataclass(frozen=True)
class PendingRow:
    """A credential waiting for a batch."""

    COLUMNS: ClassVar[str] = "seq, digest, issued_at_ms"

    seq: int
    digest: bytes
    issued_at_ms: int

    @classmethod
    def from_row(cls, row: Row) -> PendingRow:
        """Build from a row of ``COLUMNS``."""
        seq, digest, issued_at_ms = row
        return cls(int(seq), bytes(digest), int(issued_at_ms))

    @classmethod
    def oldest(cls, tx: Transaction, limit: int) -> list[PendingRow]:
        """The ``limit`` oldest pending credentials, oldest first."""
        rows = tx.fetchall(
            f"SELECT {cls.COLUMNS} FROM cred_issued WHERE batch_id IS NULL "  # noqa: S608
            "ORDER BY seq LIMIT ?",
            (limit,),
        )
        return [cls.from_row(row) for row in rows]


@dataclass(frozen=True)
class StatusRequestRow:
    """A stored status request and its state as this issuer recorded it."""

    COLUMNS: ClassVar[str] = "action, reason, digests, state, block_number"

    request: StatusRequest
    state: StatusRequestState
    block_number: int | None

    @classmethod
    def from_row(cls, request_id: int, row: Row) -> StatusRequestRow:
        """Build request ``request_id`` from a row of ``COLUMNS``."""
        action, reason, digests, state, block_number = row
        request = StatusRequest(
            request_id, StatusAction(action), int(reason), split_hashes(bytes(digests))
        )
        block = None if block_number is None else int(block_number)
        return cls(request, StatusRequestState(state), block)

    @classmethod
    def read(cls, tx: Transaction, request_id: int) -> StatusRequestRow | None:
        """Status request ``request_id``, or None if there is none."""
        row = tx.fetchone(
            f"SELECT {cls.COLUMNS} FROM cred_status_requests WHERE id = ?",  # noqa: S608
            (request_id,),
        )
        return None if row is None else cls.from_row(request_id, row)
