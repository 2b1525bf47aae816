"""Reading the chain index: one view per read transaction, and the records it answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ledger.chain.contracts.credential_anchor import DigestStatus
from ledger.chain.contracts.registry import IssuerStatus, KeyRecord
from ledger.chain.index.schema import KEY_COMPROMISED, KEY_RETIRED
from ledger.store.database import Row, Transaction


@dataclass(frozen=True)
class IndexedAnchor:
    """A root an issuer anchored: the block, its time (Unix seconds) and the tree size."""

    COLUMNS: ClassVar[str] = "issuer_id, root, block_number, block_time, tree_size, metadata_hash"

    issuer_id: int
    root: bytes
    block_number: int
    block_time: int
    tree_size: int
    metadata_hash: bytes

    @classmethod
    def from_row(cls, row: Row) -> IndexedAnchor:
        """Build from a ``chain_index_anchors`` row of ``COLUMNS``."""
        issuer_id, root, block_number, block_time, tree_size, metadata_hash = row
        return cls(
            int(issuer_id),
            bytes(root),
            int(block_number),
            int(block_time),
            int(tree_size),
            bytes(metadata_hash),
        )


@dataclass(frozen=True)
class IndexedIssuer:
    """An admitted issuer and its current status."""

    issuer_id: int
    status: IssuerStatus
    division_code: int
    did: str
    name: str


@dataclass(frozen=True)
class IndexedStatus:
    """A digest's latest status, its reason code, and the block of that change (None: never)."""

    COLUMNS: ClassVar[str] = "status, reason, block_number"

    status: DigestStatus
    reason: int
    block_number: int | None

    @classmethod
    def from_row(cls, row: Row) -> IndexedStatus:
        """Build from a ``chain_index_statuses`` row of ``COLUMNS``."""
        status, reason, block_number = row
        return cls(DigestStatus(int(status)), int(reason), int(block_number))


_NO_STATUS = IndexedStatus(DigestStatus.NONE, 0, None)


@dataclass(frozen=True)
class _IssuerRow:
    COLUMNS: ClassVar[str] = "division_code, did, name"

    division_code: int
    did: str
    name: str

    @classmethod
    def from_row(cls, row: Row) -> _IssuerRow:
        division_code, did, name = row
        return cls(int(division_code), str(did), str(name))


@dataclass(frozen=True)
class _KeyRow:
    COLUMNS: ClassVar[str] = "key_id, public_key, valid_from"

    key_id: str
    public_key: bytes
    valid_from: int

    @classmethod
    def from_row(cls, row: Row) -> _KeyRow:
        key_id, public_key, valid_from = row
        return cls(str(key_id), bytes(public_key), int(valid_from))


class IndexView:
    """Answers from one read transaction: every result reflects ``height``.

    ``generation`` grows with every change the index commits (forward or, after a
    reorg, back), so two views with the same generation saw the same content even
    when a reorg brought the index back to an earlier height number.
    """

    def __init__(self, tx: Transaction, height: int, generation: int = 0) -> None:
        """Read inside ``tx``; ``height`` and ``generation`` are what ``tx`` sees."""
        self._tx = tx
        self.height = height
        self.generation = generation

    def issuer(self, issuer_id: int) -> IndexedIssuer | None:
        """The issuer, or None if it was never admitted (as of ``height``)."""
        row = self._tx.fetchone(
            f"SELECT {_IssuerRow.COLUMNS} FROM chain_index_issuers "  # noqa: S608
            "WHERE issuer_id = ?",
            (issuer_id,),
        )
        if row is None:
            return None
        found = _IssuerRow.from_row(row)
        status_row = self._tx.fetchone(
            "SELECT status FROM chain_index_issuer_events WHERE issuer_id = ? "
            "ORDER BY block_number DESC, log_index DESC LIMIT 1",
            (issuer_id,),
        )
        status = IssuerStatus(int(status_row[0])) if status_row else IssuerStatus.ACTIVE
        return IndexedIssuer(issuer_id, status, found.division_code, found.did, found.name)

    def key(self, issuer_id: int, key_id: str) -> KeyRecord | None:
        """The key record with its validity history, or None if the issuer has no such key."""
        row = self._tx.fetchone(
            f"SELECT {_KeyRow.COLUMNS} FROM chain_index_keys "  # noqa: S608
            "WHERE issuer_id = ? AND key_id = ?",
            (issuer_id, key_id),
        )
        return None if row is None else self._key_record(issuer_id, _KeyRow.from_row(row))

    def _key_record(self, issuer_id: int, key: _KeyRow) -> KeyRecord:
        retired_at: int | None = None
        compromised_from: int | None = None
        for kind, at in self._tx.fetchall(
            "SELECT kind, at FROM chain_index_key_events WHERE issuer_id = ? AND key_id = ?",
            (issuer_id, key.key_id),
        ):
            if kind == KEY_RETIRED:
                retired_at = int(at) if retired_at is None else min(retired_at, int(at))
            elif kind == KEY_COMPROMISED:
                compromised_from = (
                    int(at) if compromised_from is None else min(compromised_from, int(at))
                )
        return KeyRecord(
            issuer_id, key.key_id, key.public_key, key.valid_from, retired_at, compromised_from
        )

    def keys(self, issuer_id: int) -> list[KeyRecord]:
        """Every key the issuer ever added, in the order they were added."""
        rows = self._tx.fetchall(
            f"SELECT {_KeyRow.COLUMNS} FROM chain_index_keys WHERE issuer_id = ? "  # noqa: S608
            "ORDER BY block_number, log_index",
            (issuer_id,),
        )
        return [self._key_record(issuer_id, _KeyRow.from_row(r)) for r in rows]

    def anchor(self, issuer_id: int, root: bytes) -> IndexedAnchor | None:
        """Where and when ``issuer_id`` anchored ``root``, or None if it did not."""
        row = self._tx.fetchone(
            f"SELECT {IndexedAnchor.COLUMNS} FROM chain_index_anchors "  # noqa: S608
            "WHERE issuer_id = ? AND root = ?",
            (issuer_id, bytes(root)),
        )
        return None if row is None else IndexedAnchor.from_row(row)

    def digest_status(self, issuer_id: int, digest: bytes) -> IndexedStatus:
        """The latest status of ``digest`` under ``issuer_id`` (``NONE`` if it never changed)."""
        row = self._tx.fetchone(
            f"SELECT {IndexedStatus.COLUMNS} FROM chain_index_statuses "  # noqa: S608
            "WHERE issuer_id = ? AND digest = ? ORDER BY block_number DESC, log_index DESC LIMIT 1",
            (issuer_id, bytes(digest)),
        )
        return _NO_STATUS if row is None else IndexedStatus.from_row(row)
