"""The province's append-only access log, kept in the store, with group commit.

Appends from any thread of any process go through ``AuditLog.append`` /
``append_many``. Within a process, concurrent appends are grouped: one store
transaction (one fsync) and one SM2 signature per group. Across processes,
``BEGIN IMMEDIATE`` orders the groups, and each group re-reads the tree's
right border from the store if another process appended meanwhile.

The calling thread validates and builds its events (ids, pseudonyms, canonical
JSON, leaf hashes) in ``submit``; the group-commit thread only hashes the
receipt trees, signs, and inserts under the store's write lock, so concurrent
callers prepare their events while a group is being committed.

A submission may carry a *guard*, run inside the group's transaction before its
events are stored: if it refuses, that submission stores nothing and fails with
``GuardRefusedError``, and whatever the guard wrote commits or rolls back with
the events. That is how a presentation's challenge is used up in the same
transaction (one fsync) as its access event.

Stored per event: its canonical JSON, its leaf hash (level 0 of the tree) and
its batch; per group: the signed batch statement (see ``receipts``); per
completed subtree above the leaves: its hash (``audit_nodes``). So proofs at
any size cost O(log n) reads, and nothing held in memory grows with the log.
The tables are ``ledger.audit.tables``'.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from ledger.audit.errors import AuditError
from ledger.audit.events import (
    AccessEvent,
    Caller,
    EventInput,
    Uuid7Factory,
    build_events,
    validate_many,
)
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.audit.receipts import BatchStatement, Receipt, SignedBatch, batch_paths, sign_batch
from ledger.audit.tables import (
    MAX_SIGNED_BATCH,
    MIGRATIONS,
    StoreNodes,
    batch_leaves,
    event_json,
    signed_chunks,
    subject_key,
)
from ledger.clock import now_ms
from ledger.crypto.signer import Signer
from ledger.crypto.sm3 import sm3_many
from ledger.merkle import tree as merkle
from ledger.merkle.hasher import SM3_TREE, TreeHasher
from ledger.merkle.tree import CompactRange
from ledger.store.database import Database, Transaction
from ledger.store.migrations import migrate

__all__ = [
    "MAX_SIGNED_BATCH",
    "MIGRATIONS",
    "AppendResult",
    "AuditLog",
    "Guard",
    "GuardRefusedError",
    "StoreNodes",
    "subject_key",
]

log = logging.getLogger(__name__)

_EVENT_COLUMNS = (
    "event_id, time_ms, actor, subject_key, subject_pseudonym, idempotency_key, body, leaf_hash"
)
_INSERT_EVENT = (
    f"INSERT INTO audit_events ({_EVENT_COLUMNS}, seq, batch_id) "  # noqa: S608 - constants
    f"VALUES ({', '.join('?' * 10)})"
)

Guard = Callable[[Transaction], bool]
"""Run in the commit transaction before a submission's events are stored; False refuses them.

A guard that refuses must leave the transaction as it found it (e.g. an ``UPDATE``
that matched no row); one that raises fails its submission alone.
"""


class GuardRefusedError(AuditError):
    """A submission's guard refused it inside the commit: none of its events was stored."""

    def __init__(self) -> None:
        """The one message: the guard's caller knows what it guarded."""
        super().__init__("the append's guard refused it; nothing was appended")


@dataclass(frozen=True)
class AppendResult:
    """An accepted event, its index in the log and its receipt.

    ``replayed`` is true when an earlier append with the same idempotency key
    already stored the event: the stored event and its original receipt are returned.
    """

    index: int
    event: AccessEvent
    receipt: Receipt
    replayed: bool = False


@dataclass
class _Pending:
    """One submission, built by its caller: events, their leaf hashes and stored columns.

    ``rows`` hold each event's ``audit_events`` columns but the two known only
    at commit (``seq``, ``batch_id``), in ``_EVENT_COLUMNS`` order.
    """

    events: list[AccessEvent]
    rows: list[tuple[object, ...]]
    leaves: list[bytes]
    guard: Guard | None = None
    future: Future[list[AppendResult]] = field(default_factory=Future)
    keyed: bool = False  # some event has an idempotency key


class AuditLog:
    """One province's access log (log id = the issuer id)."""

    def __init__(
        self,
        db: Database,
        log_id: int,
        signer: Signer,
        pseudonyms: PseudonymKeys,
        *,
        hasher: TreeHasher = SM3_TREE,
        clock: Callable[[], int] = now_ms,
        max_group_events: int = 8192,
    ) -> None:
        """Open (creating if needed) the log ``log_id`` in ``db``."""
        self.db = db
        self.log_id = log_id
        self.signer = signer
        self.pseudonyms = pseudonyms
        self.hasher = hasher
        self.clock = clock
        self.max_group_events = max_group_events
        self._ids = Uuid7Factory()
        self._range: CompactRange | None = None
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._worker_lock = threading.Lock()
        self._closed = False
        migrate(db, "audit", MIGRATIONS)
        with db.write() as tx:
            row = tx.fetchone("SELECT log_id FROM audit_meta")
            if row is None:
                tx.execute("INSERT INTO audit_meta (log_id) VALUES (?)", (log_id,))
            elif int(row[0]) != log_id:
                raise AuditError(f"this store holds the log of issuer {row[0]}, not {log_id}")

    # -- appending -------------------------------------------------------------------

    def append(self, caller: Caller, event: EventInput) -> AppendResult:
        """Append one event and wait until it is durable; returns its receipt."""
        return self.append_many(caller, [event])[0]

    def append_many(self, caller: Caller, events: Sequence[EventInput]) -> list[AppendResult]:
        """Append several events (the batch path) and wait until they are durable.

        Every event is validated first: one bad event rejects the call and
        nothing is appended.
        """
        return self.submit(caller, events).result()

    def submit(
        self, caller: Caller, events: Sequence[EventInput], *, guard: Guard | None = None
    ) -> Future[list[AppendResult]]:
        """Queue ``events`` for the next group commit without waiting (``append_many``'s core).

        Validation happens here (``EventRejectedError`` at once, nothing queued), and so
        does building the events (ids, times, pseudonyms, canonical JSON, leaf hashes),
        in the caller's thread. The future resolves once the events are durable, or with
        the commit's error. An event loop awaits it with ``asyncio.wrap_future`` instead
        of parking a thread.

        ``guard`` runs inside the commit transaction before these events are stored
        (see ``Guard``): when it refuses, the future fails with ``GuardRefusedError``
        and nothing of this submission is stored; when the commit fails, neither the
        events nor what the guard wrote are kept.
        """
        future: Future[list[AppendResult]] = Future()
        if not events and guard is None:
            future.set_result([])
            return future
        validate_many(events)
        now = self.clock()
        built, bodies = self._build(caller, events, now)
        leaves = self.hasher.hash_leaves(sm3_many(bodies))
        keys: dict[str, int] = {}
        rows: list[tuple[object, ...]] = []
        for event, body, leaf in zip(built, bodies, leaves, strict=True):
            pseudonym = None if event.subject is None else event.subject.pseudonym
            key = None
            if pseudonym is not None:
                key = keys.get(pseudonym)
                if key is None:
                    key = keys[pseudonym] = subject_key(pseudonym)
            rows.append(
                (
                    event.event_id,
                    now,
                    event.actor,
                    key,
                    pseudonym,
                    event.idempotency_key,
                    body,
                    leaf,
                )
            )
        keyed = any(event.idempotency_key is not None for event in events)
        pending = _Pending(built, rows, leaves, guard, future, keyed)
        self._ensure_worker()
        self._queue.put(pending)
        return future

    def _ensure_worker(self) -> None:
        with self._worker_lock:
            if self._closed:
                raise AuditError("the audit log is closed")
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._run, name=f"audit-log-{self.log_id}", daemon=True
                )
                self._worker.start()

    def close(self) -> None:
        """Finish queued appends and stop the group-commit thread."""
        with self._worker_lock:
            self._closed = True
            worker = self._worker
        if worker is not None:
            self._queue.put(None)
            worker.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            size = len(first.events)
            stop = False
            # Take whatever queued up while the previous group was committing.
            while size < self.max_group_events:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                group.append(nxt)
                size += len(nxt.events)
            try:
                results = self._commit(group)
            except BaseException as exc:
                log.exception("audit group commit failed", extra={"events": size})
                for pending in group:
                    pending.future.set_exception(exc)
            else:
                for pending, result in zip(group, results, strict=True):
                    if isinstance(result, BaseException):
                        pending.future.set_exception(result)
                    else:
                        pending.future.set_result(result)
            if stop:
                return

    def _build(
        self, caller: Caller, events: Sequence[EventInput], now: int
    ) -> tuple[list[AccessEvent], list[bytes]]:
        ids = self._ids.new_many(len(events), now)
        # A batch often names one subject many times: one HMAC per distinct subject.
        distinct = list(dict.fromkeys(e.subject_id for e in events if e.subject_id is not None))
        subjects = dict(zip(distinct, self.pseudonyms.subjects(distinct), strict=True))
        return build_events(self.log_id, caller, now, events, ids, subjects)

    def _commit(self, group: list[_Pending]) -> list[list[AppendResult] | BaseException]:
        now = self.clock()
        flat = [event for p in group for event in p.events]
        rows = [row for p in group for row in p.rows]
        leaves = [leaf for p in group for leaf in p.leaves]
        # Hash the receipt trees before taking the store's write lock; they are
        # redone inside only if idempotent replays or refused guards shrink the group.
        presumed = signed_chunks(self.hasher, leaves)
        keyed = any(p.keyed for p in group)

        with self.db.write() as tx:
            refused = self._guard(tx, group)
            if refused or keyed:
                out, border = self._store_some(
                    tx, group, refused, now, flat, rows, leaves, presumed
                )
            else:
                # Nothing replays and nothing is refused: every event is stored, in order.
                size = self._size(tx)
                border = self._border(tx, size)
                stored = self._store(tx, size, border, flat, rows, leaves, now, presumed)
                out = []
                position = 0
                for pending in group:
                    out.append(stored[position : position + len(pending.events)])
                    position += len(pending.events)
        self._range = border  # committed: the cached border is now the store's
        return out

    def _store_some(
        self,
        tx: Transaction,
        group: list[_Pending],
        refused: dict[int, BaseException],
        now: int,
        flat: list[AccessEvent],
        rows: list[tuple[object, ...]],
        leaves: list[bytes],
        presumed: list[tuple[bytes, list[tuple[bytes, ...]]]],
    ) -> tuple[list[list[AppendResult] | BaseException], CompactRange]:
        """Store a group with refused guards or idempotency keys: what each submission gets."""
        barred: set[int] = set()
        position = 0
        for number, pending in enumerate(group):
            if number in refused:
                barred.update(range(position, position + len(pending.events)))
            position += len(pending.events)
        replays = self._replays(tx, [e for i, e in enumerate(flat) if i not in barred])
        fresh = [
            i for i, event in enumerate(flat) if i not in barred and _idem(event) not in replays
        ]
        # Within the group, a repeated key is stored once; later copies replay it.
        first_of: dict[tuple[str, str], int] = {}
        unique: list[int] = []
        for i in fresh:
            key = _idem(flat[i])
            if key is not None and key in first_of:
                continue
            if key is not None:
                first_of[key] = i
            unique.append(i)
        size = self._size(tx)
        border = self._border(tx, size)
        results: dict[int, AppendResult] = {}
        if unique:
            stored = self._store(
                tx,
                size,
                border,
                [flat[i] for i in unique],
                [rows[i] for i in unique],
                [leaves[i] for i in unique],
                now,
                presumed if len(unique) == len(flat) else None,
            )
            results.update(zip(unique, stored, strict=True))
        for i, event in enumerate(flat):
            if i in results or i in barred:
                continue
            key = _idem(event)
            original = results.get(first_of[key]) if key in first_of else None
            if original is None and key is not None:
                original = self._load(tx, replays[key])
            if original is None:
                raise AuditError("idempotent replay lost its original event")
            results[i] = AppendResult(original.index, original.event, original.receipt, True)
        out: list[list[AppendResult] | BaseException] = []
        position = 0
        for number, pending in enumerate(group):
            count = len(pending.events)
            if number in refused:
                out.append(refused[number])
            else:
                out.append([results[position + j] for j in range(count)])
            position += count
        return out, border

    def _guard(self, tx: Transaction, group: list[_Pending]) -> dict[int, BaseException]:
        """Run the group's guards in ``tx``; the refused submissions and why."""
        refused: dict[int, BaseException] = {}
        for number, pending in enumerate(group):
            if pending.guard is None:
                continue
            try:
                allowed = pending.guard(tx)
            except Exception as exc:  # noqa: BLE001 - it fails its own submission only
                refused[number] = exc
            else:
                if not allowed:
                    refused[number] = GuardRefusedError()
        return refused

    def _store(
        self,
        tx: Transaction,
        size: int,
        border: CompactRange,
        events: list[AccessEvent],
        rows: list[tuple[object, ...]],
        leaves: list[bytes],
        now: int,
        chunks: list[tuple[bytes, list[tuple[bytes, ...]]]] | None,
    ) -> list[AppendResult]:
        trees = chunks or signed_chunks(self.hasher, leaves)
        # Frozen dataclasses set each field through object.__setattr__ in __init__;
        # filling __dict__ in one call builds the two objects per event in a third of the time.
        new = object.__new__
        results: list[AppendResult] = []
        stored: list[tuple[object, ...]] = []
        for number, (batch_root, paths) in enumerate(trees):
            first = size + number * MAX_SIGNED_BATCH
            signed = sign_batch(
                BatchStatement(self.log_id, first, len(paths), batch_root, now), self.signer
            )
            tx.execute(
                "INSERT INTO audit_batches (first_seq, count, root, time_ms, key_id, signature) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (first, len(paths), batch_root, now, signed.key_id, signed.signature),
            )
            row = tx.fetchone("SELECT id FROM audit_batches WHERE first_seq = ?", (first,))
            if row is None:
                raise AuditError("batch row vanished inside its own transaction")
            batch_id = int(row[0])
            for i, path in enumerate(paths, first - size):
                seq = size + i
                receipt = new(Receipt)
                receipt.__dict__.update(index=seq, leaf_hash=leaves[i], batch=signed, path=path)
                result = new(AppendResult)
                result.__dict__.update(index=seq, event=events[i], receipt=receipt, replayed=False)
                results.append(result)
                stored.append((*rows[i], seq, batch_id))
        tx.executemany(_INSERT_EVENT, stored)
        # Level 0 lives in audit_events; extend returns the nodes above it.
        nodes = border.extend(leaves)
        tx.executemany("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)
        return results

    def _replays(self, tx: Transaction, events: list[AccessEvent]) -> dict[tuple[str, str], int]:
        keyed = {k for k in (_idem(e) for e in events) if k is not None}
        found: dict[tuple[str, str], int] = {}
        for actor, key in keyed:
            row = tx.fetchone(
                "SELECT seq FROM audit_events WHERE actor = ? AND idempotency_key = ?", (actor, key)
            )
            if row is not None:
                found[(actor, key)] = int(row[0])
        return found

    def _size(self, tx: Transaction) -> int:
        row = tx.fetchone("SELECT MAX(seq) FROM audit_events")
        return 0 if row is None or row[0] is None else int(row[0]) + 1

    def _border(self, tx: Transaction, size: int) -> CompactRange:
        cached = self._range
        if cached is not None and cached.size == size:
            return CompactRange(self.hasher, size, list(cached.border))
        # Another process appended, or this is the first append: read the border.
        return CompactRange.resume(self.hasher, StoreNodes(tx), size)

    # -- reading ---------------------------------------------------------------------

    def size(self) -> int:
        """Number of events in the log."""
        with self.db.read() as tx:
            return self._size(tx)

    def root(self, size: int | None = None) -> tuple[int, bytes]:
        """``(size, root)`` of the log at ``size`` events (default: all)."""
        with self.db.read() as tx:
            current = self._size(tx)
            chosen = current if size is None else size
            if not 0 <= chosen <= current:
                raise AuditError(f"the log has {current} events, not {chosen}")
            return chosen, merkle.root(self.hasher, StoreNodes(tx), chosen)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Audit path of event ``index`` in the tree of ``size`` events."""
        with self.db.read() as tx:
            return merkle.inclusion_proof(self.hasher, StoreNodes(tx), index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """Proof that the log at ``size2`` extends the log at ``size1``."""
        with self.db.read() as tx:
            return merkle.consistency_proof(self.hasher, StoreNodes(tx), size1, size2)

    def event(self, index: int) -> AppendResult | None:
        """Event ``index`` with its receipt, or None."""
        with self.db.read() as tx:
            return self._load(tx, index)

    def _load(self, tx: Transaction, index: int) -> AppendResult | None:
        row = tx.fetchone(
            "SELECT e.body, e.leaf_hash, b.first_seq, b.count, b.root, b.time_ms, b.key_id, "
            "b.signature, b.id FROM audit_events e JOIN audit_batches b ON b.id = e.batch_id "
            "WHERE e.seq = ?",
            (index,),
        )
        if row is None:
            return None
        first = int(row[2])
        leaves = batch_leaves(tx, first, int(row[3]))
        _, paths = batch_paths(self.hasher, leaves)
        signed = SignedBatch(
            BatchStatement(self.log_id, first, int(row[3]), bytes(row[4]), int(row[5])),
            str(row[6]),
            bytes(row[7]),
        )
        offset = index - first
        path = paths[offset] if 0 <= offset < len(paths) else ()
        event = AccessEvent.from_json(event_json(bytes(row[0])))
        return AppendResult(index, event, Receipt(index, bytes(row[1]), signed, path))

    def events_about(self, subject_id: str, limit: int = 1000) -> list[AppendResult]:
        """The events whose subject is ``subject_id`` under any pseudonym key version."""
        pseudonyms = [s.pseudonym for s in self.pseudonyms.all_subjects(subject_id)]
        keys = [subject_key(p) for p in pseudonyms]
        marks = ",".join("?" * len(pseudonyms))
        with self.db.read() as tx:
            seqs = [
                int(r[0])
                for r in tx.fetchall(
                    f"SELECT seq FROM audit_events WHERE subject_key IN ({marks}) "  # noqa: S608
                    f"AND subject_pseudonym IN ({marks}) ORDER BY seq LIMIT ?",
                    (*keys, *pseudonyms, limit),
                )
            ]
            results = [self._load(tx, seq) for seq in seqs]
        return [r for r in results if r is not None]

    def iterate(self, start: int = 0, end: int | None = None) -> Iterator[AppendResult]:
        """Stream events ``[start, end)`` with receipts, one batch's leaves in memory at a time."""
        with self.db.read() as tx:
            stop = self._size(tx) if end is None else end
            batch_cache: tuple[int, list[tuple[bytes, ...]]] | None = None
            for row in tx.iterate(
                "SELECT e.seq, e.body, e.leaf_hash, e.batch_id, b.first_seq, b.count, b.root, "
                "b.time_ms, b.key_id, b.signature FROM audit_events e "
                "JOIN audit_batches b ON b.id = e.batch_id WHERE e.seq >= ? AND e.seq < ? "
                "ORDER BY e.seq",
                (start, stop),
            ):
                seq, batch_id, first = int(row[0]), int(row[3]), int(row[4])
                if batch_cache is None or batch_cache[0] != batch_id:
                    leaves = batch_leaves(tx, first, int(row[5]))
                    batch_cache = (batch_id, batch_paths(self.hasher, leaves)[1])
                signed = SignedBatch(
                    BatchStatement(self.log_id, first, int(row[5]), bytes(row[6]), int(row[7])),
                    str(row[8]),
                    bytes(row[9]),
                )
                offset = seq - first
                paths = batch_cache[1]
                path = paths[offset] if 0 <= offset < len(paths) else ()
                event = AccessEvent.from_json(event_json(bytes(row[1])))
                yield AppendResult(seq, event, Receipt(seq, bytes(row[2]), signed, path))


def _idem(event: AccessEvent) -> tuple[str, str] | None:
    return None if event.idempotency_key is None else (event.actor, event.idempotency_key)
