"""The chain-state index: consortium contract events kept in the store, read without RPC.

Verifiers must answer without a JSON-RPC round trip per request, and several
worker processes must see the same chain state. ``ChainIndex`` follows the
events of one ``IssuerRegistry`` and one ``CredentialAnchor`` into store tables:

- issuers (admitted, suspended, reinstated) and their SM2 keys (added with a
  valid-from time, retired, marked compromised from a time);
- anchored roots: (issuer, root) -> block number, block time, tree size;
- digest statuses (revoked, suspended, reinstated), latest change wins.

It knows nothing of certificates. Every answer comes with ``height``, the last
block whose events are all in the index.

Following the chain (``sync``), one writer at a time (any process; the store's
write lock serialises them, and no writer lease is needed):

1. ``head`` is the node's latest block; the index goes up to
   ``head - confirmations + 1`` (``confirmations=1``: up to the head).
2. Reorgs: the index keeps the hash of the last block it indexed and of every
   block that held an event. If the chain no longer has the stored hash at the
   indexed height, it walks back through the stored hashes until one still
   matches; everything above that block is deleted and read again. If none
   matches within ``max_reorg_walk`` stored blocks, the index is rebuilt from
   ``start_block``.
3. Logs are read in chunks of at most ``max_block_range`` blocks, and applied
   in one store transaction per chunk together with the new height, so a
   reader sees either all of a chunk's events or none.

Reads (``view()``) run in one read transaction, so all answers in a view
reflect the same height. The index is bound to one chain id and two contract
addresses; a store indexed for other ones is refused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import BoundContract, DecodedEvent
from ledger.chain.contracts.credential_anchor import DigestStatus
from ledger.chain.contracts.registry import IssuerStatus, KeyRecord, decode_key_id
from ledger.chain.errors import ChainConfigError, ChainError
from ledger.chain.node.client import ChainClient, checksum
from ledger.clock import now_ms
from ledger.store.database import Database, Transaction
from ledger.store.migrations import Migration, migrate

log = logging.getLogger(__name__)

__all__ = [
    "MIGRATIONS",
    "ChainIndex",
    "IndexView",
    "IndexedAnchor",
    "IndexedIssuer",
    "IndexedStatus",
    "SyncReport",
]

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

_KEY_RETIRED = "retired"
_KEY_COMPROMISED = "compromised"


@dataclass(frozen=True)
class IndexedAnchor:
    """A root an issuer anchored: the block, its time (Unix seconds) and the tree size."""

    issuer_id: int
    root: bytes
    block_number: int
    block_time: int
    tree_size: int
    metadata_hash: bytes


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

    status: DigestStatus
    reason: int
    block_number: int | None


_NO_STATUS = IndexedStatus(DigestStatus.NONE, 0, None)


@dataclass
class SyncReport:
    """What one ``sync`` did."""

    height_before: int
    height: int
    head: int
    rewound_to: int | None = None
    events: int = 0

    @property
    def changed(self) -> bool:
        """Whether the index moved (forward, or back after a reorg)."""
        return self.height != self.height_before or self.rewound_to is not None


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
            "SELECT division_code, did, name FROM chain_index_issuers WHERE issuer_id = ?",
            (issuer_id,),
        )
        if row is None:
            return None
        status_row = self._tx.fetchone(
            "SELECT status FROM chain_index_issuer_events WHERE issuer_id = ? "
            "ORDER BY block_number DESC, log_index DESC LIMIT 1",
            (issuer_id,),
        )
        status = IssuerStatus(int(status_row[0])) if status_row else IssuerStatus.ACTIVE
        return IndexedIssuer(issuer_id, status, int(row[0]), str(row[1]), str(row[2]))

    def key(self, issuer_id: int, key_id: str) -> KeyRecord | None:
        """The key record with its validity history, or None if the issuer has no such key."""
        row = self._tx.fetchone(
            "SELECT public_key, valid_from FROM chain_index_keys "
            "WHERE issuer_id = ? AND key_id = ?",
            (issuer_id, key_id),
        )
        if row is None:
            return None
        return self._key_record(issuer_id, key_id, bytes(row[0]), int(row[1]))

    def _key_record(
        self, issuer_id: int, key_id: str, public_key: bytes, valid_from: int
    ) -> KeyRecord:
        retired_at: int | None = None
        compromised_from: int | None = None
        for kind, at in self._tx.fetchall(
            "SELECT kind, at FROM chain_index_key_events WHERE issuer_id = ? AND key_id = ?",
            (issuer_id, key_id),
        ):
            if kind == _KEY_RETIRED:
                retired_at = int(at) if retired_at is None else min(retired_at, int(at))
            elif kind == _KEY_COMPROMISED:
                compromised_from = (
                    int(at) if compromised_from is None else min(compromised_from, int(at))
                )
        return KeyRecord(issuer_id, key_id, public_key, valid_from, retired_at, compromised_from)

    def keys(self, issuer_id: int) -> list[KeyRecord]:
        """Every key the issuer ever added, in the order they were added."""
        rows = self._tx.fetchall(
            "SELECT key_id, public_key, valid_from FROM chain_index_keys WHERE issuer_id = ? "
            "ORDER BY block_number, log_index",
            (issuer_id,),
        )
        return [self._key_record(issuer_id, str(r[0]), bytes(r[1]), int(r[2])) for r in rows]

    def anchor(self, issuer_id: int, root: bytes) -> IndexedAnchor | None:
        """Where and when ``issuer_id`` anchored ``root``, or None if it did not."""
        row = self._tx.fetchone(
            "SELECT block_number, block_time, tree_size, metadata_hash FROM chain_index_anchors "
            "WHERE issuer_id = ? AND root = ?",
            (issuer_id, bytes(root)),
        )
        if row is None:
            return None
        return IndexedAnchor(
            issuer_id, bytes(root), int(row[0]), int(row[1]), int(row[2]), bytes(row[3])
        )

    def digest_status(self, issuer_id: int, digest: bytes) -> IndexedStatus:
        """The latest status of ``digest`` under ``issuer_id`` (``NONE`` if it never changed)."""
        row = self._tx.fetchone(
            "SELECT status, reason, block_number FROM chain_index_statuses "
            "WHERE issuer_id = ? AND digest = ? ORDER BY block_number DESC, log_index DESC LIMIT 1",
            (issuer_id, bytes(digest)),
        )
        if row is None:
            return _NO_STATUS
        return IndexedStatus(DigestStatus(int(row[0])), int(row[1]), int(row[2]))


class ChainIndex:
    """Follows the consortium's registry and credential anchor into the store."""

    def __init__(
        self,
        db: Database,
        chain_id: int,
        registry: str,
        credential_anchor: str,
        *,
        client: ChainClient | None = None,
        start_block: int = 0,
        confirmations: int = 1,
        max_block_range: int = 5_000,
        max_reorg_walk: int = 256,
    ) -> None:
        """Index ``registry`` and ``credential_anchor`` on chain ``chain_id`` into ``db``.

        ``client`` is needed only to ``sync``; a reader-only process passes None.
        ``start_block`` is where the contracts were deployed (nothing earlier is read).
        Raises ``ChainConfigError`` if ``db`` already indexes another chain or contracts,
        or if ``client`` serves another chain.
        """
        if confirmations < 1:
            raise ChainConfigError("confirmations must be at least 1")
        if client is not None and client.chain_id != chain_id:
            raise ChainConfigError(
                f"the index is configured for chain {chain_id} but its client serves "
                f"chain {client.chain_id}"
            )
        self.db = db
        self.chain_id = chain_id
        self.registry_address = checksum(registry)
        self.anchor_address = checksum(credential_anchor)
        self.client = client
        self.start_block = start_block
        self.confirmations = confirmations
        self.max_block_range = max(1, max_block_range)
        self.max_reorg_walk = max_reorg_walk
        self._sync_lock = threading.Lock()
        self._contracts: tuple[BoundContract, BoundContract] | None = None
        self._checked_wiring = False
        migrate(db, "chain_index", MIGRATIONS)
        with db.write() as tx:
            row = tx.fetchone(
                "SELECT chain_id, registry, credential_anchor, start_block FROM chain_index_meta"
            )
            if row is None:
                tx.execute(
                    "INSERT INTO chain_index_meta (id, chain_id, registry, credential_anchor, "
                    "start_block, height, updated_at_ms) VALUES (1, ?, ?, ?, ?, ?, ?)",
                    (
                        chain_id,
                        self.registry_address,
                        self.anchor_address,
                        start_block,
                        start_block - 1,
                        now_ms(),
                    ),
                )
            elif (int(row[0]), str(row[1]), str(row[2])) != (
                chain_id,
                self.registry_address,
                self.anchor_address,
            ):
                raise ChainConfigError(
                    "this store's chain index follows another chain or other contracts; "
                    "use a separate store, or the configured chain id and addresses"
                )
            else:
                self.start_block = int(row[3])

    # ------------------------------------------------------------------ reads

    @property
    def height(self) -> int:
        """The last block whose events are all in the index (``start_block - 1`` if none)."""
        with self.db.read() as tx:
            return self._height(tx)

    @staticmethod
    def _height(tx: Transaction) -> int:
        row = tx.fetchone("SELECT height FROM chain_index_meta")
        if row is None:
            raise ChainConfigError("the chain index is not initialised")
        return int(row[0])

    @contextmanager
    def view(self) -> Iterator[IndexView]:
        """A consistent read-only view of the index (one read transaction)."""
        with self.db.read() as tx:
            row = tx.fetchone("SELECT height, generation FROM chain_index_meta")
            if row is None:
                raise ChainConfigError("the chain index is not initialised")
            yield IndexView(tx, int(row[0]), int(row[1]))

    # ---------------------------------------------------------------- syncing

    def _bound(self) -> tuple[BoundContract, BoundContract]:
        if self.client is None:
            raise ChainConfigError("this ChainIndex has no client: it can be read, not synced")
        if self._contracts is None:
            self._contracts = (
                BoundContract(self.client, load_artifact("IssuerRegistry"), self.registry_address),
                BoundContract(self.client, load_artifact("CredentialAnchor"), self.anchor_address),
            )
        return self._contracts

    def _check_wiring(self, anchor: BoundContract) -> None:
        if self._checked_wiring:
            return
        trusted = checksum(anchor.call("registry"))
        if trusted != self.registry_address:
            raise ChainConfigError(
                "the configured CredentialAnchor trusts another IssuerRegistry than the "
                "configured one; check the contract addresses"
            )
        self._checked_wiring = True

    def sync(self) -> SyncReport:
        """Bring the index up to ``head - confirmations + 1``, repairing reorgs first.

        Raises ``ChainUnavailableError`` if the node cannot be reached (nothing is
        half-applied: each chunk commits with its height).
        """
        with self._sync_lock:
            registry, anchor = self._bound()
            client = registry.client
            self._check_wiring(anchor)
            before = self.height
            head = client.block_number()
            report = SyncReport(before, before, head)
            base = self._fork_point(client, before, head)
            if base < before:
                report.rewound_to = base
                log.warning(
                    "chain index rewinds after a reorg",
                    extra={"from_height": before, "to_height": base},
                )
            target = head - self.confirmations + 1
            if base < before:
                with self.db.write() as tx:
                    self._rewind(tx, base)
                    self._set_height(tx, base)
                report.height = base
            start = base + 1
            while start <= target:
                end = min(target, start + self.max_block_range - 1)
                report.events += self._apply_range(registry, anchor, start, end)
                report.height = end
                start = end + 1
            return report

    def _fork_point(self, client: ChainClient, height: int, head: int) -> int:
        """The highest indexed block that is still canonical (``height`` if no reorg)."""
        if height < self.start_block:
            return height
        with self.db.read() as tx:
            rows = tx.fetchall(
                "SELECT number, hash FROM chain_index_blocks WHERE number <= ? "
                "ORDER BY number DESC LIMIT ?",
                (height, self.max_reorg_walk + 1),
            )
        for number, stored in rows:
            if int(number) > head:
                continue
            if str(client.get_block(int(number))["hash"]) == str(stored):
                return int(number)
        return self.start_block - 1

    def _apply_range(
        self, registry: BoundContract, anchor: BoundContract, start: int, end: int
    ) -> int:
        client = registry.client
        for _ in range(3):
            tip = client.get_block(end)
            logs = client.logs([registry.address, anchor.address], start, end)
            again = client.get_block(end)
            if again["hash"] == tip["hash"]:
                break
        else:
            raise ChainError("the chain kept reorganising while the index read it; retry later")
        events = sorted(
            registry.decode_logs(logs) + anchor.decode_logs(logs),
            key=lambda e: (e.block_number, e.log_index),
        )
        hashes = {int(entry["blockNumber"], 16): str(entry["blockHash"]) for entry in logs}
        times: dict[int, int] = {}
        for event in events:
            if event.name == "RootAnchored" and event.block_number not in times:
                header = tip if event.block_number == end else client.get_block(event.block_number)
                times[event.block_number] = int(header["timestamp"], 16)
        with self.db.write() as tx:
            if self._height(tx) != start - 1:
                raise ChainError("another process synced the index meanwhile; retry")
            for event in events:
                self._apply(tx, event, times)
            hashes[end] = str(tip["hash"])
            tx.executemany(
                "INSERT INTO chain_index_blocks (number, hash) VALUES (?, ?) "
                "ON CONFLICT (number) DO UPDATE SET hash = excluded.hash",
                sorted(hashes.items()),
            )
            self._set_height(tx, end)
        return len(events)

    def _apply(self, tx: Transaction, event: DecodedEvent, times: dict[int, int]) -> None:
        args: dict[str, Any] = event.args
        block, index = event.block_number, event.log_index
        name = event.name
        if name == "IssuerAdmitted":
            tx.execute(
                "INSERT INTO chain_index_issuers (issuer_id, division_code, did, name, "
                "block_number) VALUES (?, ?, ?, ?, ?) ON CONFLICT (issuer_id) DO NOTHING",
                (
                    int(args["issuerId"]),
                    int(args["divisionCode"]),
                    str(args["did"]),
                    str(args["name"]),
                    block,
                ),
            )
            self._issuer_status(tx, args, block, index, IssuerStatus.ACTIVE)
        elif name == "IssuerSuspended":
            self._issuer_status(tx, args, block, index, IssuerStatus.SUSPENDED)
        elif name == "IssuerReinstated":
            self._issuer_status(tx, args, block, index, IssuerStatus.ACTIVE)
        elif name == "KeyAdded":
            tx.execute(
                "INSERT INTO chain_index_keys (issuer_id, key_id, public_key, valid_from, "
                "block_number, log_index) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (issuer_id, key_id) DO NOTHING",
                (
                    int(args["issuerId"]),
                    decode_key_id(bytes(args["keyId"])),
                    bytes(args["publicKey"]),
                    int(args["validFrom"]),
                    block,
                    index,
                ),
            )
        elif name in ("KeyRetired", "KeyCompromised"):
            kind, at = (
                (_KEY_RETIRED, args["retiredAt"])
                if name == "KeyRetired"
                else (_KEY_COMPROMISED, args["compromisedFrom"])
            )
            tx.execute(
                "INSERT INTO chain_index_key_events (issuer_id, key_id, block_number, log_index, "
                "kind, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    int(args["issuerId"]),
                    decode_key_id(bytes(args["keyId"])),
                    block,
                    index,
                    kind,
                    int(at),
                ),
            )
        elif name == "RootAnchored":
            tx.execute(
                "INSERT INTO chain_index_anchors (issuer_id, root, block_number, block_time, "
                "tree_size, metadata_hash) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (issuer_id, root) DO NOTHING",
                (
                    int(args["issuerId"]),
                    bytes(args["root"]),
                    block,
                    times[block],
                    int(args["treeSize"]),
                    bytes(args["metadataHash"]),
                ),
            )
        elif name == "CredentialStatusChanged":
            tx.execute(
                "INSERT INTO chain_index_statuses (issuer_id, digest, block_number, log_index, "
                "status, reason) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    int(args["issuerId"]),
                    bytes(args["digest"]),
                    block,
                    index,
                    int(args["status"]),
                    int(args["reason"]),
                ),
            )

    @staticmethod
    def _issuer_status(
        tx: Transaction, args: dict[str, Any], block: int, index: int, status: IssuerStatus
    ) -> None:
        tx.execute(
            "INSERT INTO chain_index_issuer_events (issuer_id, block_number, log_index, status) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (int(args["issuerId"]), block, index, int(status)),
        )

    @staticmethod
    def _rewind(tx: Transaction, base: int) -> None:
        for table in _BLOCK_TABLES:
            column = _BLOCK_COLUMN.get(table, "block_number")
            tx.execute(f"DELETE FROM {table} WHERE {column} > ?", (base,))  # noqa: S608

    @staticmethod
    def _set_height(tx: Transaction, height: int) -> None:
        tx.execute(
            "UPDATE chain_index_meta SET height = ?, generation = generation + 1, "
            "updated_at_ms = ? WHERE id = 1",
            (height, now_ms()),
        )

    def prune_block_hashes(self, keep: int = 1024) -> int:
        """Forget stored hashes of blocks without events older than the last ``keep`` ones.

        Block hashes are only needed to find a fork point; event blocks are kept so the
        walk-back can still reach them. Returns how many rows were deleted.
        """
        with self.db.write() as tx:
            height = self._height(tx)
            return tx.execute(
                "DELETE FROM chain_index_blocks WHERE number < ? AND number NOT IN ("
                "SELECT block_number FROM chain_index_anchors UNION "
                "SELECT block_number FROM chain_index_statuses UNION "
                "SELECT block_number FROM chain_index_keys UNION "
                "SELECT block_number FROM chain_index_key_events UNION "
                "SELECT block_number FROM chain_index_issuer_events)",
                (height - keep,),
            )

    def follow(
        self,
        stop: threading.Event,
        *,
        interval: float = 1.0,
        on_sync: Sequence[Callable[[SyncReport], object]] = (),
    ) -> None:
        """Sync every ``interval`` seconds until ``stop`` is set (for a background thread).

        Errors are logged and retried at the next tick; ``on_sync`` callables get each
        ``SyncReport``.
        """
        while not stop.is_set():
            try:
                report = self.sync()
            except ChainError as exc:
                log.warning("chain index sync failed", extra={"reason": str(exc)})
            else:
                for callback in on_sync:
                    callback(report)
            stop.wait(interval)
