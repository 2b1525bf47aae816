"""The province's append-only access log, kept in the store, with group commit.

Appends from any thread of any process go through ``AuditLog.append`` /
``append_many``. Within a process, concurrent appends are grouped: one store
transaction (one fsync) and one SM2 signature per group. Across processes,
``BEGIN IMMEDIATE`` orders the groups, and each group re-reads the tree's
right border from the store if another process appended meanwhile.

Stored per event: its canonical JSON, its leaf hash (level 0 of the tree) and
its batch; per group: the signed batch statement (see ``receipts``); per
completed subtree above the leaves: its hash (``audit_nodes``). So proofs at
any size cost O(log n) reads, and nothing held in memory grows with the log.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ledger.audit.errors import AuditError, LogCorruptedError
from ledger.audit.events import AccessEvent, Caller, EventInput, Uuid7Factory
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.audit.receipts import BatchStatement, Receipt, SignedBatch, batch_paths, sign_batch
from ledger.clock import now_ms
from ledger.crypto.signer import Signer
from ledger.crypto.sm3 import sm3
from ledger.merkle import tree as merkle
from ledger.merkle.hasher import SM3_TREE, TreeHasher
from ledger.merkle.tree import CompactRange, NodeKey
from ledger.store.database import Database, Transaction
from ledger.store.migrations import Migration, migrate

log = logging.getLogger(__name__)

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
    caller: Caller
    inputs: Sequence[EventInput]
    future: Future[list[AppendResult]] = field(default_factory=Future)


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

    def submit(self, caller: Caller, events: Sequence[EventInput]) -> Future[list[AppendResult]]:
        """Queue ``events`` for the next group commit without waiting (``append_many``'s core).

        Validation happens here (``EventRejectedError`` at once, nothing queued); the
        future resolves once the events are durable, or with the commit's error. An
        event loop awaits it with ``asyncio.wrap_future`` instead of parking a thread.
        """
        future: Future[list[AppendResult]] = Future()
        if not events:
            future.set_result([])
            return future
        for event in events:
            event.validate()
        pending = _Pending(caller, list(events), future)
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
            size = len(first.inputs)
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
                size += len(nxt.inputs)
            try:
                results = self._commit(group)
            except BaseException as exc:
                log.exception("audit group commit failed", extra={"events": size})
                for pending in group:
                    pending.future.set_exception(exc)
            else:
                for pending, result in zip(group, results, strict=True):
                    pending.future.set_result(result)
            if stop:
                return

    def _build(self, caller: Caller, event: EventInput, now: int) -> AccessEvent:
        subject = None if event.subject_id is None else self.pseudonyms.subject(event.subject_id)
        return AccessEvent(
            log_id=self.log_id,
            event_id=self._ids.new(now),
            time_ms=now,
            actor=caller.actor,
            actor_org=caller.org,
            action=event.action,
            resource=event.resource,
            purpose=event.purpose,
            legal_basis=event.legal_basis,
            subject=subject,
            request_id=event.request_id,
            idempotency_key=event.idempotency_key,
            outcome=str(event.outcome),
        )

    def _commit(self, group: list[_Pending]) -> list[list[AppendResult]]:
        now = self.clock()
        built = [[self._build(p.caller, e, now) for e in p.inputs] for p in group]
        flat = [event for events in built for event in events]
        bodies = [event.canonical_bytes() for event in flat]
        leaves = [self.hasher.hash_leaf(sm3(body)) for body in bodies]
        # Hash the receipt trees before taking the store's write lock; they are
        # redone inside only if idempotent replays shrink the group.
        presumed = _signed_chunks(self.hasher, leaves)

        with self.db.write() as tx:
            replays = self._replays(tx, flat)
            fresh = [i for i, event in enumerate(flat) if _idem(event) not in replays]
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
                results.update(
                    self._store(
                        tx,
                        size,
                        border,
                        [flat[i] for i in unique],
                        [bodies[i] for i in unique],
                        [leaves[i] for i in unique],
                        unique,
                        now,
                        presumed if len(unique) == len(flat) else None,
                    )
                )
            for i, event in enumerate(flat):
                if i in results:
                    continue
                key = _idem(event)
                original = results.get(first_of[key]) if key in first_of else None
                if original is None and key is not None:
                    original = self._load(tx, replays[key])
                if original is None:
                    raise AuditError("idempotent replay lost its original event")
                results[i] = AppendResult(original.index, original.event, original.receipt, True)
        self._range = border  # committed: the cached border is now the store's
        out: list[list[AppendResult]] = []
        position = 0
        for events in built:
            out.append([results[position + j] for j in range(len(events))])
            position += len(events)
        return out

    def _store(
        self,
        tx: Transaction,
        size: int,
        border: CompactRange,
        events: list[AccessEvent],
        bodies: list[bytes],
        leaves: list[bytes],
        positions: list[int],
        now: int,
        chunks: list[tuple[bytes, list[tuple[bytes, ...]]]] | None,
    ) -> dict[int, AppendResult]:
        trees = chunks or _signed_chunks(self.hasher, leaves)
        receipts: list[Receipt] = []
        batch_ids: list[int] = []
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
            for offset, path in enumerate(paths):
                index = first + offset
                receipts.append(Receipt(index, leaves[index - size], signed, path))
                batch_ids.append(int(row[0]))
        tx.executemany(
            "INSERT INTO audit_events (seq, event_id, time_ms, actor, subject_key, "
            "subject_pseudonym, idempotency_key, body, leaf_hash, batch_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    size + i,
                    event.event_id,
                    event.time_ms,
                    event.actor,
                    None if event.subject is None else subject_key(event.subject.pseudonym),
                    None if event.subject is None else event.subject.pseudonym,
                    event.idempotency_key,
                    bodies[i],
                    leaves[i],
                    batch_ids[i],
                )
                for i, event in enumerate(events)
            ),
        )
        nodes: list[tuple[int, int, bytes]] = []
        for leaf in leaves:
            for (level, index), node in border.append(leaf):
                if level > 0:  # level 0 lives in audit_events
                    nodes.append((level, index, node))
        tx.executemany("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)
        return {
            positions[i]: AppendResult(size + i, event, receipts[i])
            for i, event in enumerate(events)
        }

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
        leaves = _batch_leaves(tx, first, int(row[3]))
        _, paths = batch_paths(self.hasher, leaves)
        signed = SignedBatch(
            BatchStatement(self.log_id, first, int(row[3]), bytes(row[4]), int(row[5])),
            str(row[6]),
            bytes(row[7]),
        )
        offset = index - first
        path = paths[offset] if 0 <= offset < len(paths) else ()
        event = AccessEvent.from_json(_json(bytes(row[0])))
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
                    leaves = _batch_leaves(tx, first, int(row[5]))
                    batch_cache = (batch_id, batch_paths(self.hasher, leaves)[1])
                signed = SignedBatch(
                    BatchStatement(self.log_id, first, int(row[5]), bytes(row[6]), int(row[7])),
                    str(row[8]),
                    bytes(row[9]),
                )
                offset = seq - first
                paths = batch_cache[1]
                path = paths[offset] if 0 <= offset < len(paths) else ()
                event = AccessEvent.from_json(_json(bytes(row[1])))
                yield AppendResult(seq, event, Receipt(seq, bytes(row[2]), signed, path))


def _batch_leaves(tx: Transaction, first: int, count: int) -> list[bytes]:
    # A signed batch is a run of sequence numbers: a primary-key range, never a scan.
    return [
        bytes(r[0])
        for r in tx.fetchall(
            "SELECT leaf_hash FROM audit_events WHERE seq >= ? AND seq < ? ORDER BY seq",
            (first, first + count),
        )
    ]


def _signed_chunks(
    hasher: TreeHasher, leaves: list[bytes]
) -> list[tuple[bytes, list[tuple[bytes, ...]]]]:
    """The receipt tree (root, paths) of each signed batch of at most ``MAX_SIGNED_BATCH``."""
    return [
        batch_paths(hasher, leaves[i : i + MAX_SIGNED_BATCH])
        for i in range(0, len(leaves), MAX_SIGNED_BATCH)
    ]


def subject_key(pseudonym: str) -> int:
    """The indexed part of a pseudonym: its first 8 bytes as a signed 64-bit integer."""
    return int.from_bytes(bytes.fromhex(pseudonym[:16]), "big", signed=True)


def _idem(event: AccessEvent) -> tuple[str, str] | None:
    return None if event.idempotency_key is None else (event.actor, event.idempotency_key)


def _json(body: bytes) -> dict[str, Any]:
    document = json.loads(body)
    if not isinstance(document, dict):
        raise LogCorruptedError("a stored event is not a JSON object")
    return document
