"""Leases: exactly one process at a time owns a named role (e.g. the province's writer).

A lease has a holder and an expiry; the holder renews it well before expiry.
Whoever takes over an expired lease gets a higher ``token`` (a fencing token):
work tagged with an older token is from a holder that lost the lease.

Time is in milliseconds since the epoch. Leave ``now_ms`` out and it is the
database's clock, read inside the lease's own transaction: on PostgreSQL the
server's, the one clock every host sharing the store agrees on (hosts' own
clocks drift apart, and a lease judged by two clocks can have two holders);
on SQLite, one host's. Tests pass ``now_ms`` so they need no clock tricks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar, Protocol

from ledger.store.database import Database, Row, Transaction
from ledger.store.migrations import Migration, migrate

MIGRATIONS = (
    Migration(
        1,
        "leases",
        (
            """CREATE TABLE leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                token INTEGER NOT NULL,
                expires_at_ms INTEGER NOT NULL
            )""",
        ),
    ),
)


@dataclass(frozen=True)
class Lease:
    """A held lease."""

    COLUMNS: ClassVar[str] = "name, holder, token, expires_at_ms"

    name: str
    holder: str
    token: int
    expires_at_ms: int

    @classmethod
    def from_row(cls, row: Row) -> Lease:
        """Build from a ``leases`` row of ``COLUMNS``."""
        name, holder, token, expires_at_ms = row
        return cls(str(name), str(holder), int(token), int(expires_at_ms))


class LeaseLostError(Exception):
    """The lease is held by someone else (or expired and was taken over)."""


class Fence(Protocol):
    """Called inside a store transaction that commits a holder's work.

    Raises ``LeaseLostError`` (rolling the transaction back) unless the lease
    is still the caller's, so work of a holder that lost its lease never
    commits. ``lock`` False: only look (inside a read-only transaction).
    """

    def __call__(self, tx: Transaction, *, lock: bool = True) -> None:
        """Raise ``LeaseLostError`` unless the lease is still ours."""


_SERVER_NOW_MS = "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"


def database_now_ms(db: Database, tx: Transaction) -> int:
    """The store's clock in ``tx``: the PostgreSQL server's, or this host's for SQLite."""
    if db.dialect == "postgresql":
        row = tx.fetchone(_SERVER_NOW_MS)
        if row is not None:
            return int(row[0])
    return time.time_ns() // 1_000_000


class Leases:
    """Acquire, renew and release named leases in the store."""

    def __init__(self, db: Database) -> None:
        """Use ``db``, creating the lease table if needed."""
        self.db = db
        migrate(db, "leases", MIGRATIONS)

    def now_ms(self) -> int:
        """The clock leases are judged by (the database's): a holder times its renewals by it."""
        with self.db.read() as tx:
            return database_now_ms(self.db, tx)

    def acquire(
        self, name: str, holder: str, ttl_ms: int, now_ms: int | None = None
    ) -> Lease | None:
        """Take ``name`` for ``holder`` if it is free, expired, or already ours; else None."""
        with self.db.write() as tx:
            if now_ms is None:
                now_ms = database_now_ms(self.db, tx)
            row = tx.fetchone(
                f"SELECT {Lease.COLUMNS} FROM leases WHERE name = ?",  # noqa: S608
                (name,),
            )
            held = None if row is None else Lease.from_row(row)
            if held is None:
                token = 1
                tx.execute(
                    "INSERT INTO leases (name, holder, token, expires_at_ms) VALUES (?, ?, ?, ?)",
                    (name, holder, token, now_ms + ttl_ms),
                )
            elif held.holder == holder or held.expires_at_ms <= now_ms:
                token = held.token if held.holder == holder else held.token + 1
                tx.execute(
                    "UPDATE leases SET holder = ?, token = ?, expires_at_ms = ? WHERE name = ?",
                    (holder, token, now_ms + ttl_ms, name),
                )
            else:
                return None
        return Lease(name, holder, token, now_ms + ttl_ms)

    def renew(self, lease: Lease, ttl_ms: int, now_ms: int | None = None) -> Lease:
        """Extend a held lease; raises ``LeaseLostError`` if it is no longer ours."""
        with self.db.write() as tx:
            if now_ms is None:
                now_ms = database_now_ms(self.db, tx)
            changed = tx.execute(
                "UPDATE leases SET expires_at_ms = ? "
                "WHERE name = ? AND holder = ? AND token = ? AND expires_at_ms > ?",
                (now_ms + ttl_ms, lease.name, lease.holder, lease.token, now_ms),
            )
        if changed != 1:
            raise LeaseLostError(f"lease {lease.name!r} is no longer held by {lease.holder!r}")
        return Lease(lease.name, lease.holder, lease.token, now_ms + ttl_ms)

    def release(self, lease: Lease) -> None:
        """Give the lease up at once (expire it), if it is still ours."""
        with self.db.write() as tx:
            tx.execute(
                "UPDATE leases SET expires_at_ms = 0 WHERE name = ? AND holder = ? AND token = ?",
                (lease.name, lease.holder, lease.token),
            )

    def current(self, name: str) -> Lease | None:
        """The lease record for ``name``, expired or not; None if never taken."""
        with self.db.read() as tx:
            row = tx.fetchone(
                f"SELECT {Lease.COLUMNS} FROM leases WHERE name = ?",  # noqa: S608
                (name,),
            )
        return None if row is None else Lease.from_row(row)


class LeaseFence:
    """The fencing check of one lease holder: its token, checked inside the holder's writes.

    ``lease`` is the holder's current lease (the writer loop sets it on taking,
    renewing and losing the lease). ``check(tx)``, called in the transaction
    that commits a duty's effect, raises ``LeaseLostError`` unless the stored
    lease still has this holder and token and has not expired by the store's
    clock, so a holder that was paused past its lease, then resumed, commits
    nothing. Store writes are serialized (SQLite's one writer, PostgreSQL's
    advisory write lock), so no takeover commits between the check and the
    fenced commit; on PostgreSQL the row is read ``FOR SHARE`` as well, which
    keeps that true should writes ever stop being serialized.
    """

    def __init__(self, db: Database, name: str) -> None:
        """Fence the work of the holder of lease ``name`` in ``db``."""
        self.db = db
        self.name = name
        self.lease: Lease | None = None

    def check(self, tx: Transaction, *, lock: bool = True) -> None:
        """Raise ``LeaseLostError`` unless ``self.lease`` is still the stored, live lease.

        ``lock`` False reads without locking the row (a read-only transaction).
        """
        lease = self.lease
        if lease is None:
            raise LeaseLostError(f"lease {self.name!r} is not held by this process")
        share = " FOR SHARE" if lock and self.db.dialect == "postgresql" else ""
        row = tx.fetchone(
            f"SELECT {Lease.COLUMNS} FROM leases WHERE name = ?{share}",  # noqa: S608
            (self.name,),
        )
        stored = None if row is None else Lease.from_row(row)
        if (
            stored is None
            or (stored.holder, stored.token) != (lease.holder, lease.token)
            or stored.expires_at_ms <= database_now_ms(self.db, tx)
        ):
            raise LeaseLostError(
                f"lease {self.name!r} (token {lease.token}) is no longer held by "
                f"{lease.holder!r}: its work is refused"
            )

    def __call__(self, tx: Transaction, *, lock: bool = True) -> None:
        """``check``: a ``LeaseFence`` is a ``Fence``."""
        self.check(tx, lock=lock)
