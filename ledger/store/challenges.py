"""Server challenges: random, single use, expiring, kept in the store.

A verifier (or the citizen view) issues a challenge bound to a purpose (and,
optionally, an audience such as the verifier's DID); the caller signs it; the
server consumes it exactly once before it expires. Because challenges live in
the store, any worker process can issue one and any other can consume it.
Time is passed in (milliseconds) so tests need no clock tricks.

Using a challenge up can also be *deferred* into another component's write:
``check`` says now whether it could be used (reading only), and the
``PendingUse`` it returns uses it up inside a transaction the caller commits
anyway (the audit log's group commit, as the access event's guard), so a
presentation costs one durable write. The ``UPDATE ... WHERE used_at_ms IS NULL``
keeps it single-use: of two transactions using one challenge, the second matches
no row and is refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import ClassVar

from ledger.store.database import Database, Row, Transaction
from ledger.store.migrations import Migration, migrate

MIGRATIONS = (
    Migration(
        1,
        "challenges",
        (
            """CREATE TABLE challenges (
                challenge TEXT PRIMARY KEY,
                purpose TEXT NOT NULL,
                audience TEXT NOT NULL,
                expires_at_ms INTEGER NOT NULL,
                used_at_ms INTEGER
            )""",
            "CREATE INDEX challenges_expiry ON challenges (expires_at_ms)",
        ),
    ),
)

CHALLENGE_BYTES = 24  # 192 bits, base64url: 32 characters


class ChallengeError(Exception):
    """A challenge is unknown, expired, already used, or for another purpose."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"challenge {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Challenge:
    """An issued challenge."""

    value: str
    purpose: str
    audience: str
    expires_at_ms: int


@dataclass(frozen=True)
class _ChallengeRow:
    COLUMNS: ClassVar[str] = "purpose, audience, expires_at_ms, used_at_ms"

    purpose: str
    audience: str
    expires_at_ms: int
    used_at_ms: int | None

    @classmethod
    def from_row(cls, row: Row) -> _ChallengeRow:
        purpose, audience, expires_at_ms, used_at_ms = row
        used = None if used_at_ms is None else int(used_at_ms)
        return cls(str(purpose), str(audience), int(expires_at_ms), used)


@dataclass(frozen=True)
class PendingUse:
    """A challenge found usable by ``Challenges.check``, to be used up in a later transaction."""

    value: str
    purpose: str
    audience: str
    now_ms: int

    def use(self, tx: Transaction) -> bool:
        """Use the challenge up inside ``tx``; False (nothing written) if it no longer can be."""
        return _use(tx, self.value, self.purpose, self.audience, self.now_ms)


def _use(tx: Transaction, value: str, purpose: str, audience: str, now_ms: int) -> bool:
    changed = tx.execute(
        "UPDATE challenges SET used_at_ms = ? WHERE challenge = ? AND purpose = ? "
        "AND audience = ? AND used_at_ms IS NULL AND expires_at_ms > ?",
        (now_ms, value, purpose, audience, now_ms),
    )
    return changed == 1


def _refusal(row: Row | None, now_ms: int) -> ChallengeError:
    """Why a challenge that could not be used (``row``: its stored row, if any) is refused."""
    if row is None:
        return ChallengeError("unknown")
    found = _ChallengeRow.from_row(row)
    if found.used_at_ms is not None:
        return ChallengeError("already used")
    if found.expires_at_ms <= now_ms:
        return ChallengeError("expired")
    return ChallengeError("issued for another purpose or audience")


class Challenges:
    """Issue and consume challenges in the store."""

    def __init__(self, db: Database) -> None:
        """Use ``db``, creating the table if needed."""
        self.db = db
        migrate(db, "challenges", MIGRATIONS)

    def issue(self, purpose: str, now_ms: int, ttl_ms: int, audience: str = "") -> Challenge:
        """A new random challenge for ``purpose`` valid for ``ttl_ms``."""
        value = secrets.token_urlsafe(CHALLENGE_BYTES)
        with self.db.write() as tx:
            tx.execute(
                "INSERT INTO challenges (challenge, purpose, audience, expires_at_ms) "
                "VALUES (?, ?, ?, ?)",
                (value, purpose, audience, now_ms + ttl_ms),
            )
        return Challenge(value, purpose, audience, now_ms + ttl_ms)

    def consume(self, value: str, purpose: str, now_ms: int, audience: str = "") -> None:
        """Use ``value`` up, or raise ``ChallengeError`` saying why it cannot be used."""
        with self.db.write() as tx:
            if _use(tx, value, purpose, audience, now_ms):
                return
            row = tx.fetchone(
                f"SELECT {_ChallengeRow.COLUMNS} FROM challenges WHERE challenge = ?",  # noqa: S608
                (value,),
            )
        raise _refusal(row, now_ms)

    def check(self, value: str, purpose: str, now_ms: int, audience: str = "") -> PendingUse:
        """Whether ``value`` could be used up now, reading only: its ``PendingUse``, or why not.

        Raises ``ChallengeError`` exactly as ``consume`` would. The challenge stays
        unused until ``PendingUse.use`` runs in a committed transaction, which is
        refused if another use came first.
        """
        with self.db.read() as tx:
            row = tx.fetchone(
                f"SELECT {_ChallengeRow.COLUMNS} FROM challenges WHERE challenge = ?",  # noqa: S608
                (value,),
            )
        if row is not None:
            found = _ChallengeRow.from_row(row)
            if (
                found.used_at_ms is None
                and found.expires_at_ms > now_ms
                and (found.purpose, found.audience) == (purpose, audience)
            ):
                return PendingUse(value, purpose, audience, now_ms)
        raise _refusal(row, now_ms)

    def purge(self, now_ms: int, keep_ms: int = 86_400_000) -> int:
        """Delete challenges that expired more than ``keep_ms`` ago; returns how many."""
        with self.db.write() as tx:
            return tx.execute("DELETE FROM challenges WHERE expires_at_ms < ?", (now_ms - keep_ms,))
