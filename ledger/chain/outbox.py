"""The durable anchoring outbox: every transaction the province must get on chain once.

Life of an item (one row in the store):

    queued ──send──▶ submitted ──mined──▶ confirmed ──N blocks, same block hash──▶ final
       ▲                 │  ▲                 │
       └─ nonce taken ───┘  └──── reorged ────┘
    (a revert named in ``done_errors`` is read as "already done": final)
    (any other revert: failed, kept for the operator)

- ``enqueue`` records the intent inside the caller's own store transaction,
  so a state change and the promise to anchor it commit together. Any
  process (API workers too) may enqueue.
- ``OutboxProcessor.step`` runs only in the writer process (the lease holder)
  and only for its one EVM account (an item may be pinned to one account;
  unpinned items go to the default, ``shared`` processor). It signs through
  a ``NonceManager`` whose journal *is* this table: the signed raw
  transaction is stored before it is broadcast and rebroadcast byte for
  byte after a crash, a drop or a reorg.
- A handler registered per kind runs in the same store transaction that marks
  an item final, so follow-up state (e.g. a checkpoint's anchor block) is
  never lost or applied twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ledger import clock
from ledger.chain.errors import ChainUnavailableError, ContractRevertError
from ledger.chain.node.client import checksum
from ledger.chain.node.transactions import JournalEntry, NonceManager, NonceTooLowError
from ledger.store.database import Database, Row, Transaction
from ledger.store.lease import Fence
from ledger.store.migrations import Migration, migrate

log = logging.getLogger(__name__)

MIGRATIONS = (
    Migration(
        1,
        "outbox",
        (
            """CREATE TABLE outbox (
                id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                item_key TEXT NOT NULL,
                to_address TEXT NOT NULL,
                calldata BLOB NOT NULL,
                done_errors TEXT NOT NULL,
                state TEXT NOT NULL,
                account TEXT,
                nonce INTEGER,
                tx_hash TEXT,
                raw_tx BLOB,
                block_number INTEGER,
                block_hash TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                error TEXT,
                created_at_ms INTEGER NOT NULL,
                updated_at_ms INTEGER NOT NULL,
                UNIQUE (kind, item_key)
            )""",
            "CREATE INDEX outbox_open ON outbox (state, account, nonce)",
        ),
    ),
)

_COLUMNS = (
    "id, kind, item_key, to_address, calldata, done_errors, state, account, nonce, "
    "tx_hash, raw_tx, block_number, block_hash, attempts, error, created_at_ms, updated_at_ms"
)


class OutboxState(StrEnum):
    """Where an outbox item is in its life."""

    QUEUED = "queued"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    FINAL = "final"
    FAILED = "failed"


@dataclass(frozen=True)
class OutboxItem:
    """One outbox row."""

    id: int
    kind: str
    key: str
    to_address: str
    calldata: bytes
    done_errors: tuple[str, ...]
    state: OutboxState
    account: str | None
    nonce: int | None
    tx_hash: str | None
    raw_tx: bytes | None
    block_number: int | None
    block_hash: str | None
    attempts: int
    error: str | None
    created_at_ms: int
    updated_at_ms: int

    @property
    def already_done(self) -> bool:
        """Final without a transaction of ours: the chain already held the result."""
        return self.state is OutboxState.FINAL and self.block_number is None

    @classmethod
    def from_row(cls, row: Row) -> OutboxItem:
        """Build an item from a ``SELECT {_COLUMNS}`` row."""
        return cls(
            id=int(row[0]),
            kind=str(row[1]),
            key=str(row[2]),
            to_address=str(row[3]),
            calldata=bytes(row[4]),
            done_errors=tuple(e for e in str(row[5]).split(",") if e),
            state=OutboxState(row[6]),
            account=row[7],
            nonce=row[8],
            tx_hash=row[9],
            raw_tx=None if row[10] is None else bytes(row[10]),
            block_number=row[11],
            block_hash=row[12],
            attempts=int(row[13]),
            error=row[14],
            created_at_ms=int(row[15]),
            updated_at_ms=int(row[16]),
        )


FinalHandler = Callable[[Transaction, OutboxItem], None]
"""Called in the store transaction that makes an item final."""


def prepare(db: Database) -> None:
    """Create or migrate the outbox table."""
    migrate(db, "outbox", MIGRATIONS)


def enqueue(
    tx: Transaction,
    kind: str,
    key: str,
    to_address: str,
    calldata: bytes,
    *,
    done_errors: Sequence[str] = (),
    account: str | None = None,
    now_ms: int | None = None,
) -> int:
    """Record, inside ``tx``, that ``calldata`` must be sent to ``to_address`` once.

    ``(kind, key)`` is unique: enqueueing the same key again returns the
    existing item's id and changes nothing. ``done_errors`` are revert names
    that mean the chain already holds the result (our own earlier attempt).
    ``account`` pins the item to the processor of that EVM account (e.g. a
    governor's); None leaves it to the writer's default (shared) processor.
    """
    existing = tx.fetchone("SELECT id FROM outbox WHERE kind = ? AND item_key = ?", (kind, key))
    if existing is not None:
        return int(existing[0])
    now = clock.now_ms() if now_ms is None else now_ms
    pinned = None if account is None else checksum(account)
    tx.execute(
        "INSERT INTO outbox (kind, item_key, to_address, calldata, done_errors, state, "
        "account, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            kind,
            key,
            to_address,
            calldata,
            ",".join(done_errors),
            OutboxState.QUEUED,
            pinned,
            now,
            now,
        ),
    )
    row = tx.fetchone("SELECT id FROM outbox WHERE kind = ? AND item_key = ?", (kind, key))
    if row is None:
        raise RuntimeError("outbox row vanished inside its own transaction")
    return int(row[0])


def item(db: Database, kind: str, key: str) -> OutboxItem | None:
    """The outbox item ``(kind, key)``, or None."""
    with db.read() as tx:
        row = tx.fetchone(
            f"SELECT {_COLUMNS} FROM outbox WHERE kind = ? AND item_key = ?",  # noqa: S608
            (kind, key),
        )
    return None if row is None else OutboxItem.from_row(row)


def item_by_id(db: Database, item_id: int) -> OutboxItem | None:
    """The outbox item with id ``item_id``, or None."""
    with db.read() as tx:
        row = tx.fetchone(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (item_id,))  # noqa: S608
    return None if row is None else OutboxItem.from_row(row)


@dataclass(frozen=True)
class OutboxLag:
    """How far behind the outbox is: items not yet final, and the oldest one's age."""

    open_items: int
    failed_items: int
    oldest_open_age_ms: int


def lag(db: Database, now_ms: int | None = None) -> OutboxLag:
    """Current outbox lag (for ``/readyz`` and metrics)."""
    now = clock.now_ms() if now_ms is None else now_ms
    with db.read() as tx:
        row = tx.fetchone(
            "SELECT COUNT(*), MIN(created_at_ms) FROM outbox WHERE state IN (?, ?, ?)",
            (OutboxState.QUEUED, OutboxState.SUBMITTED, OutboxState.CONFIRMED),
        )
        failed = tx.fetchone("SELECT COUNT(*) FROM outbox WHERE state = ?", (OutboxState.FAILED,))
    count = int(row[0]) if row else 0
    oldest = int(row[1]) if row and row[1] is not None else now
    return OutboxLag(count, int(failed[0]) if failed else 0, max(0, now - oldest) if count else 0)


class OutboxJournal:
    """The ``TxJournal`` of the writer's ``NonceManager``: the outbox rows themselves."""

    def __init__(self, db: Database, account: str, *, fence: Fence | None = None) -> None:
        """Journal for ``account``'s transactions in ``db`` (creates the outbox table).

        With ``fence`` (the writer lease's), recording a signed transaction
        commits only while the lease is ours; a refusal raises before the
        ``NonceManager`` broadcasts, so a writer that lost its lease sends nothing.
        """
        prepare(db)
        self.db = db
        self.account = account
        self.fence = fence

    def record(self, entry: JournalEntry) -> None:
        """Store the signed transaction on its outbox row (``label`` is the row id)."""
        with self.db.write() as tx:
            if self.fence is not None:
                self.fence(tx)
            tx.execute(
                "UPDATE outbox SET state = ?, account = ?, nonce = ?, tx_hash = ?, raw_tx = ?, "
                "attempts = attempts + 1, updated_at_ms = ? WHERE id = ?",
                (
                    OutboxState.SUBMITTED,
                    self.account,
                    entry.nonce,
                    entry.tx_hash,
                    entry.raw,
                    clock.now_ms(),
                    int(entry.label),
                ),
            )

    def forget(self, nonce: int) -> None:
        """Nothing to do: the processor decides each row's fate from the chain."""

    def entries(self) -> list[JournalEntry]:
        """Signed transactions not yet final, in nonce order."""
        with self.db.read() as tx:
            rows = tx.fetchall(
                "SELECT nonce, tx_hash, raw_tx, id FROM outbox "
                "WHERE account = ? AND state IN (?, ?) ORDER BY nonce",
                (self.account, OutboxState.SUBMITTED, OutboxState.CONFIRMED),
            )
        return [JournalEntry(int(r[0]), str(r[1]), bytes(r[2]), str(r[3])) for r in rows]


@dataclass
class StepReport:
    """What one ``OutboxProcessor.step`` did, by item id."""

    submitted: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    final: list[int] = field(default_factory=list)
    already_done: list[int] = field(default_factory=list)
    rebroadcast: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    reorged: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    chain_unavailable: bool = False


class OutboxProcessor:
    """Moves outbox items along; runs only in the writer process, for one EVM account."""

    def __init__(
        self,
        db: Database,
        sender: NonceManager,
        *,
        confirmations: int = 1,
        batch_limit: int = 200,
        shared: bool = True,
    ) -> None:
        """Process ``db``'s outbox with ``sender``, whose journal must be an ``OutboxJournal``.

        A ``shared`` processor (the writer's default account) takes unpinned items
        and those pinned to its account; any other (``shared=False``, e.g. a
        governor's) takes only the items pinned to its account.
        """
        if not isinstance(sender.journal, OutboxJournal):
            raise TypeError("the outbox's NonceManager must journal into the outbox")
        self.db = db
        self.sender = sender
        self.shared = shared
        self.confirmations = max(1, confirmations)
        self.batch_limit = batch_limit
        self._handlers: dict[str, FinalHandler] = {}
        self._outage = False
        self.fence: Fence | None = sender.journal.fence
        """The writer lease's fence (the journal's): every state change and send checks it."""

    def on_final(self, kind: str, handler: FinalHandler) -> None:
        """Call ``handler`` when an item of ``kind`` becomes final (once per item)."""
        self._handlers[kind] = handler

    def _rows(self, states: Sequence[OutboxState], order: str) -> list[OutboxItem]:
        marks = ", ".join("?" for _ in states)
        mine = "(account IS NULL OR account = ?)" if self.shared else "account = ?"
        with self.db.read() as tx:
            rows = tx.fetchall(
                f"SELECT {_COLUMNS} FROM outbox WHERE state IN ({marks}) "  # noqa: S608
                f"AND {mine} ORDER BY {order} LIMIT ?",
                (*states, self.sender.address, self.batch_limit),
            )
        return [OutboxItem.from_row(r) for r in rows]

    def _update(self, item_id: int, **values: object) -> None:
        with self.db.write() as tx:
            self._set(tx, item_id, **values)

    def _set(self, tx: Transaction, item_id: int, **values: object) -> None:
        if self.fence is not None:
            self.fence(tx)
        values["updated_at_ms"] = clock.now_ms()
        assignments = ", ".join(f"{column} = ?" for column in values)
        tx.execute(
            f"UPDATE outbox SET {assignments} WHERE id = ?",  # noqa: S608 - fixed column names
            (*values.values(), item_id),
        )

    def _finish(self, item: OutboxItem, **values: object) -> None:
        with self.db.write() as tx:
            self._set(tx, item.id, state=OutboxState.FINAL, **values)
            handler = self._handlers.get(item.kind)
            if handler is not None:
                row = tx.fetchone(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (item.id,))  # noqa: S608
                if row is None:
                    raise RuntimeError("outbox row vanished inside its own transaction")
                handler(tx, OutboxItem.from_row(row))

    def step(self) -> StepReport:
        """One pass: track what is on chain, then send what is queued.

        A node that cannot be reached ends the pass early (``chain_unavailable``);
        nothing is lost, the next pass resumes. An outage is logged once when it
        starts and once when it ends, not at every pass.
        """
        report = StepReport()
        if self.fence is not None:
            # Before rebroadcasting anything: a writer that lost its lease sends nothing.
            with self.db.read() as tx:
                self.fence(tx, lock=False)
        try:
            self._track(report)
            self._submit(report)
        except ChainUnavailableError as exc:
            report.chain_unavailable = True
            if not self._outage:
                log.warning("outbox paused: chain unavailable", extra={"reason": str(exc)})
            self._outage = True
            return report
        if self._outage:
            log.info("outbox resumed: chain reachable again")
            self._outage = False
        return report

    def _track(self, report: StepReport) -> None:
        client = self.sender.client
        open_items = self._rows((OutboxState.SUBMITTED, OutboxState.CONFIRMED), "nonce")
        if not open_items:
            return
        head = client.block_number()
        mined_nonce = client.nonce(self.sender.address, "latest")
        for item in open_items:
            if item.tx_hash is None:
                continue  # submitted rows always carry a hash; nothing to track otherwise
            receipt = client.receipt(item.tx_hash)
            if receipt is None or receipt.get("blockNumber") is None:
                self._not_on_chain(item, mined_nonce, report)
                continue
            block = int(receipt["blockNumber"], 16)
            if int(receipt["status"], 16) != 1:
                self._reverted(item, report)
                continue
            if head - block + 1 >= self.confirmations:
                canonical = client.get_block(block)["hash"]
                if canonical == receipt["blockHash"]:
                    self._finish(item, block_number=block, block_hash=receipt["blockHash"])
                    report.final.append(item.id)
                    continue
            if item.state is not OutboxState.CONFIRMED or item.block_hash != receipt["blockHash"]:
                self._update(
                    item.id,
                    state=OutboxState.CONFIRMED,
                    block_number=block,
                    block_hash=receipt["blockHash"],
                )
                report.confirmed.append(item.id)

    def _not_on_chain(self, item: OutboxItem, mined_nonce: int, report: StepReport) -> None:
        if item.state is OutboxState.CONFIRMED:
            report.reorged.append(item.id)
            log.warning("anchoring transaction reorged out", extra={"outbox_id": item.id})
        if item.nonce is None or item.raw_tx is None or item.nonce < mined_nonce:
            # Another transaction took this nonce (or the row lost its signed
            # bytes): sign the intent again with a fresh nonce.
            self._requeue(item, report)
            return
        entry = JournalEntry(item.nonce, str(item.tx_hash), item.raw_tx, str(item.id))
        try:
            self.sender.rebroadcast(entry)
        except NonceTooLowError:
            self._requeue(item, report)
            return
        if item.state is OutboxState.CONFIRMED:
            self._update(item.id, state=OutboxState.SUBMITTED, block_number=None, block_hash=None)
        report.rebroadcast.append(item.id)

    def _requeue(self, item: OutboxItem, report: StepReport) -> None:
        self._update(
            item.id,
            state=OutboxState.QUEUED,
            nonce=None,
            tx_hash=None,
            raw_tx=None,
            block_number=None,
            block_hash=None,
        )
        report.requeued.append(item.id)

    def _reverted(self, item: OutboxItem, report: StepReport) -> None:
        try:
            self.sender.wait(str(item.tx_hash), timeout=0)
        except ContractRevertError as exc:
            self._revert_outcome(item, exc, report)

    def _revert_outcome(
        self, item: OutboxItem, exc: ContractRevertError, report: StepReport
    ) -> None:
        if exc.error_name and exc.error_name in item.done_errors:
            self._finish(item, block_number=None, block_hash=None, error=exc.error_name)
            report.already_done.append(item.id)
            return
        self._update(item.id, state=OutboxState.FAILED, error=exc.error_name or "reverted")
        report.failed.append(item.id)
        log.error(
            "anchoring transaction reverted",
            extra={"outbox_id": item.id, "kind": item.kind, "error": exc.error_name},
        )

    def _submit(self, report: StepReport) -> None:
        for item in self._rows((OutboxState.QUEUED,), "id"):
            try:
                self.sender.send(item.to_address, item.calldata, label=str(item.id))
            except ContractRevertError as exc:
                self._revert_outcome(item, exc, report)
                continue
            report.submitted.append(item.id)

    def run_until_final(self, timeout: float = 60.0, poll: float = 0.1) -> StepReport:
        """Step until nothing is open (tests, tools); returns the last report."""
        deadline = time.monotonic() + timeout
        while True:
            report = self.step()
            if lag(self.db).open_items == 0:
                return report
            if time.monotonic() > deadline:
                raise TimeoutError(f"outbox still has open items after {timeout:g} s")
            time.sleep(poll)
