"""Following the chain into the index: sync, reorg repair, the background loop.

One writer at a time (any process; the store's write lock serialises them, and
no writer lease is needed). The index goes up to ``head - confirmations + 1``;
a reorg is found by comparing stored block hashes with the chain's and undone
down to the fork point; logs are read in chunks of at most ``max_block_range``
blocks, each applied in one store transaction together with the new height.

``sync_new`` syncs only when the node has blocks the index has not looked at
(``NewBlocks``: a block filter, one cheap poll), so a caller can poll often
without paying a full sync each time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import BoundContract
from ledger.chain.errors import ChainConfigError, ChainError, ChainUnavailableError
from ledger.chain.index.events import apply_event
from ledger.chain.index.schema import MIGRATIONS, MetaRow, insert_meta, rewind, set_height
from ledger.chain.index.view import IndexView
from ledger.chain.node.backoff import ChainOutage
from ledger.chain.node.blocks import NewBlocks
from ledger.chain.node.client import ChainClient, checksum
from ledger.store.database import Database, Transaction
from ledger.store.migrations import migrate

log = logging.getLogger(__name__)


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
        self._new_blocks: NewBlocks | None = None
        self._behind = True
        """Whether a sync is owed whatever the node says (none yet, or the last one failed)."""
        migrate(db, "chain_index", MIGRATIONS)
        with db.write() as tx:
            meta = MetaRow.read(tx)
            if meta is None:
                insert_meta(tx, chain_id, self.registry_address, self.anchor_address, start_block)
            elif (meta.chain_id, meta.registry, meta.credential_anchor) != (
                chain_id,
                self.registry_address,
                self.anchor_address,
            ):
                raise ChainConfigError(
                    "this store's chain index follows another chain or other contracts; "
                    "use a separate store, or the configured chain id and addresses"
                )
            else:
                self.start_block = meta.start_block

    # ------------------------------------------------------------------ reads

    @property
    def height(self) -> int:
        """The last block whose events are all in the index (``start_block - 1`` if none)."""
        with self.db.read() as tx:
            return self._height(tx)

    @staticmethod
    def _height(tx: Transaction) -> int:
        return MetaRow.require(tx).height

    @contextmanager
    def view(self) -> Iterator[IndexView]:
        """A consistent read-only view of the index (one read transaction)."""
        with self.db.read() as tx:
            meta = MetaRow.require(tx)
            yield IndexView(tx, meta.height, meta.generation)

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
                    rewind(tx, base)
                    set_height(tx, base)
                report.height = base
            start = base + 1
            while start <= target:
                end = min(target, start + self.max_block_range - 1)
                report.events += self._apply_range(registry, anchor, start, end)
                report.height = end
                start = end + 1
            return report

    def sync_new(self) -> SyncReport | None:
        """``sync`` if the node has blocks since the last look, or the last sync failed.

        None when there was nothing new (one ``eth_getFilterChanges``, or one
        ``eth_blockNumber`` on a node without filters). Raises as ``sync`` does.
        """
        if self.client is None:
            raise ChainConfigError("this ChainIndex has no client: it can be read, not synced")
        if self._new_blocks is None:
            self._new_blocks = NewBlocks(self.client)
        arrived = self._new_blocks.arrived()
        if not (arrived or self._behind):
            return None
        self._behind = True
        report = self.sync()
        self._behind = False
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
                apply_event(tx, event, times)
            hashes[end] = str(tip["hash"])
            tx.executemany(
                "INSERT INTO chain_index_blocks (number, hash) VALUES (?, ?) "
                "ON CONFLICT (number) DO UPDATE SET hash = excluded.hash",
                sorted(hashes.items()),
            )
            set_height(tx, end)
        return len(events)

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

        Errors are logged and retried at the next tick, except an unreachable node:
        that is logged once and retried with backoff (``ChainOutage``) until it
        answers again. ``on_sync`` callables get each ``SyncReport``.
        """
        outage = ChainOutage("chain index")
        while not stop.is_set():
            try:
                report = self.sync()
            except ChainUnavailableError as exc:
                stop.wait(outage.failed(exc))
                continue
            except ChainError as exc:
                log.warning("chain index sync failed", extra={"reason": str(exc)})
            else:
                outage.succeeded()
                for callback in on_sync:
                    callback(report)
            stop.wait(interval)
