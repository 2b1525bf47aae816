"""Status list slots: which index of which list each credential's status lives at.

A credential carries one ``BitstringStatusListEntry`` per purpose (revocation,
suspension), both at the same index of list number N (``credentials.status_list``).
This module hands out those (list number, index) slots and remembers which
credential digest each one belongs to, in the store (component ``status_list``),
so every HTTP worker process and the writer share one allocation.

- ``reserve(db, count)`` picks ``count`` random unused indexes of the current list
  in its own write transaction (the store's write lock serialises processes; the
  primary key (list, index) makes a reuse impossible even so). Indexes are drawn
  with ``secrets`` over the whole list, so an index says nothing about when the
  credential was issued or how many were (section 2.1 asks for random indexes).
  When the current list has 3/4 of its entries reserved, the next list is opened,
  so a fresh index is never predictable from the few left: lists are numbered
  1, 2, 3...
- ``bind(tx, slots_and_digests)`` records the credential digest of each slot inside
  the caller's transaction: the issuer's transaction that stores the credentials,
  so a credential is stored with its slot or not at all.
- A crash between ``reserve`` and ``bind`` leaves reserved slots that no digest
  ever claims. They stay 0 in every list forever, which is harmless (a bit nobody
  points at) and costs at most the reserved count of indexes; they are never
  handed out again.
- ``published`` / ``publish`` keep the signed list credentials the writer makes
  (``api.province.status_lists``), one per (list, purpose), with the chain block
  they reflect.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from credentials.errors import CredentialError
from credentials.status_list import LIST_SIZE, PURPOSES
from ledger.clock import now_ms
from ledger.store.database import Database, Row, Transaction
from ledger.store.migrations import Migration, migrate

__all__ = [
    "FILL_LIMIT",
    "MAX_RESERVE",
    "MIGRATIONS",
    "PublishedList",
    "RandomSource",
    "Slot",
    "SlotError",
    "bind",
    "list_numbers",
    "prepare",
    "publish",
    "published",
    "reserve",
    "reserve_in",
    "slot_of",
]

FILL_LIMIT = LIST_SIZE * 3 // 4
"""A list takes new reservations until this many of its indexes are reserved (98,304)."""

MAX_RESERVE = 10_000
"""Most slots one ``reserve`` call hands out."""

_MAX_DRAWS = 256
"""Draws per slot before giving up; at 3/4 full the chance to need them all is 2^-106."""

MIGRATIONS = (
    Migration(
        1,
        "status list slots and published lists",
        (
            """CREATE TABLE status_list_lists (
                number INTEGER PRIMARY KEY,
                size INTEGER NOT NULL,
                reserved INTEGER NOT NULL,
                opened_at_ms INTEGER NOT NULL
            )""",
            """CREATE TABLE status_list_slots (
                list_number INTEGER NOT NULL REFERENCES status_list_lists (number),
                idx INTEGER NOT NULL,
                digest BLOB UNIQUE,
                reserved_at_ms INTEGER NOT NULL,
                bound_at_ms INTEGER,
                PRIMARY KEY (list_number, idx)
            )""",
            """CREATE TABLE status_list_published (
                list_number INTEGER NOT NULL REFERENCES status_list_lists (number),
                purpose TEXT NOT NULL,
                document BLOB NOT NULL,
                etag TEXT NOT NULL,
                block_number INTEGER NOT NULL,
                key_id TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                max_age_s INTEGER NOT NULL,
                signed_at_ms INTEGER NOT NULL,
                PRIMARY KEY (list_number, purpose)
            )""",
        ),
    ),
)
"""The schema of component ``status_list``."""


class SlotError(CredentialError):
    """A slot cannot be reserved or bound (the message names the rule, never a digest)."""

    code = "status_slot_error"


class RandomSource(Protocol):
    """Where random indexes come from (the ``secrets`` module, or a test's stand-in)."""

    def randbelow(self, exclusive_upper_bound: int, /) -> int:
        """A uniformly random integer in ``[0, exclusive_upper_bound)``."""


@dataclass(frozen=True, order=True)
class Slot:
    """One credential's place: entry ``index`` of list ``list_number`` (both purposes)."""

    list_number: int
    index: int


_prepared: weakref.WeakSet[Database] = weakref.WeakSet()


def prepare(db: Database) -> None:
    """Create or upgrade the ``status_list`` tables (safe from every process; once per ``db``)."""
    if db not in _prepared:
        migrate(db, "status_list", MIGRATIONS)
        _prepared.add(db)


def _open_list(tx: Transaction, now: int) -> tuple[int, int]:
    row = tx.fetchone("SELECT number, reserved FROM status_list_lists ORDER BY number DESC LIMIT 1")
    if row is not None and int(row[1]) < FILL_LIMIT:
        return int(row[0]), int(row[1])
    number = 1 if row is None else int(row[0]) + 1
    tx.execute(
        "INSERT INTO status_list_lists (number, size, reserved, opened_at_ms) VALUES (?, ?, 0, ?)",
        (number, LIST_SIZE, now),
    )
    return number, 0


def reserve(
    db: Database, count: int, *, rng: RandomSource = secrets, now: int | None = None
) -> list[Slot]:
    """Reserve ``count`` random unused slots, committed in their own transaction.

    Slots come from the current list, spilling into a new list when it reaches
    ``FILL_LIMIT``; a batch may thus span two lists. The caller binds each to its
    credential with ``bind`` when it stores the credentials.
    """
    _check_count(count)
    prepare(db)
    with db.write() as tx:
        return reserve_in(tx, count, rng=rng, now=now)


def _check_count(count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_RESERVE:
        raise SlotError(f"reserve between 1 and {MAX_RESERVE} status list slots at a time")


def reserve_in(
    tx: Transaction, count: int, *, rng: RandomSource = secrets, now: int | None = None
) -> list[Slot]:
    """``reserve`` inside the caller's write transaction ``tx`` (after ``prepare``).

    The issuer reserves slots and allocates 证照标识 in one transaction: one commit
    before signing instead of two.
    """
    _check_count(count)
    at = now_ms() if now is None else now
    slots: list[Slot] = []
    number, reserved = _open_list(tx, at)
    while len(slots) < count:
        if reserved >= FILL_LIMIT:
            tx.execute(
                "UPDATE status_list_lists SET reserved = ? WHERE number = ?", (reserved, number)
            )
            number, reserved = _open_list(tx, at)
        slots.append(Slot(number, _draw(tx, number, rng, at)))
        reserved += 1
    tx.execute("UPDATE status_list_lists SET reserved = ? WHERE number = ?", (reserved, number))
    return slots


def _draw(tx: Transaction, number: int, rng: RandomSource, at: int) -> int:
    for _ in range(_MAX_DRAWS):
        index = rng.randbelow(LIST_SIZE)
        taken = tx.execute(
            "INSERT INTO status_list_slots (list_number, idx, reserved_at_ms) VALUES (?, ?, ?) "
            "ON CONFLICT (list_number, idx) DO NOTHING",
            (number, index, at),
        )
        if taken == 1:
            return index
    raise SlotError("no free status list index found; the random source repeats itself")


def bind(tx: Transaction, slots_and_digests: Iterable[tuple[Slot, bytes]]) -> None:
    """Record each slot's credential digest, inside the caller's write transaction ``tx``.

    Every slot must be reserved and not yet bound, and every digest bound at most
    once (``SlotError`` otherwise, which rolls back the caller's transaction).
    """
    at = now_ms()
    for slot, digest in slots_and_digests:
        if len(digest) != 32:
            raise SlotError("a credential digest is 32 bytes")
        if tx.fetchone("SELECT 1 FROM status_list_slots WHERE digest = ?", (bytes(digest),)):
            raise SlotError("that credential already has a status list slot")
        changed = tx.execute(
            "UPDATE status_list_slots SET digest = ?, bound_at_ms = ? "
            "WHERE list_number = ? AND idx = ? AND digest IS NULL",
            (bytes(digest), at, slot.list_number, slot.index),
        )
        if changed != 1:
            raise SlotError("a status list slot was not reserved, or is bound already")


def slot_of(tx: Transaction, digest: bytes) -> Slot | None:
    """The slot bound to credential ``digest``, or None."""
    row = tx.fetchone(
        "SELECT list_number, idx FROM status_list_slots WHERE digest = ?", (bytes(digest),)
    )
    return None if row is None else Slot(int(row[0]), int(row[1]))


def list_numbers(tx: Transaction) -> list[int]:
    """Every list opened so far, in order."""
    return [int(r[0]) for r in tx.fetchall("SELECT number FROM status_list_lists ORDER BY number")]


@dataclass(frozen=True)
class PublishedList:
    """A signed list credential as stored: its bytes and what it reflects."""

    COLUMNS: ClassVar[str] = (
        "list_number, purpose, document, etag, block_number, key_id, fingerprint, "
        "max_age_s, signed_at_ms"
    )

    list_number: int
    purpose: str
    document: bytes
    etag: str
    """A strong HTTP entity tag of ``document`` (quoted)."""
    block_number: int
    """The chain index height whose statuses the bits reflect (``statusBlock``)."""
    key_id: str
    fingerprint: str
    """What the writer compares to notice a status change (see ``api.province.status_lists``)."""
    max_age_s: int
    signed_at_ms: int

    @classmethod
    def from_row(cls, row: Row) -> PublishedList:
        """Build from a row of ``COLUMNS``."""
        number, purpose, document, etag, block, key_id, fingerprint, max_age, signed = row
        return cls(
            int(number),
            str(purpose),
            bytes(document),
            str(etag),
            int(block),
            str(key_id),
            str(fingerprint),
            int(max_age),
            int(signed),
        )


def published(tx: Transaction, list_number: int, purpose: str) -> PublishedList | None:
    """The stored list credential of (``list_number``, ``purpose``), or None."""
    row = tx.fetchone(
        f"SELECT {PublishedList.COLUMNS} FROM status_list_published "  # noqa: S608
        "WHERE list_number = ? AND purpose = ?",
        (list_number, purpose),
    )
    return None if row is None else PublishedList.from_row(row)


def publish(tx: Transaction, lists: Sequence[PublishedList]) -> None:
    """Store (replace) signed list credentials, all in the caller's transaction."""
    for item in lists:
        if item.purpose not in {p.value for p in PURPOSES}:
            raise SlotError("a published list's purpose is revocation or suspension")
        tx.execute(
            f"INSERT INTO status_list_published ({PublishedList.COLUMNS}) "  # noqa: S608
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (list_number, purpose) DO UPDATE SET "
            "document = excluded.document, etag = excluded.etag, "
            "block_number = excluded.block_number, key_id = excluded.key_id, "
            "fingerprint = excluded.fingerprint, max_age_s = excluded.max_age_s, "
            "signed_at_ms = excluded.signed_at_ms",
            (
                item.list_number,
                item.purpose,
                item.document,
                item.etag,
                item.block_number,
                item.key_id,
                item.fingerprint,
                item.max_age_s,
                item.signed_at_ms,
            ),
        )
