"""Server challenges: random, single use, expiring, kept in the store.

A verifier (or the citizen view) issues a challenge bound to a purpose (and,
optionally, an audience such as the verifier's DID); the caller signs it; the
server consumes it exactly once before it expires. Because challenges live in
the store, any worker process can issue one and any other can consume it.
Time is passed in (milliseconds) so tests need no clock tricks.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import ClassVar

from ledger.store.database import Database, Row
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
            changed = tx.execute(
                "UPDATE challenges SET used_at_ms = ? WHERE challenge = ? AND purpose = ? "
                "AND audience = ? AND used_at_ms IS NULL AND expires_at_ms > ?",
                (now_ms, value, purpose, audience, now_ms),
            )
            if changed == 1:
                return
            row = tx.fetchone(
                f"SELECT {_ChallengeRow.COLUMNS} FROM challenges WHERE challenge = ?",  # noqa: S608
                (value,),
            )
        if row is None:
            raise ChallengeError("unknown")
        found = _ChallengeRow.from_row(row)
        if found.used_at_ms is not None:
            raise ChallengeError("already used")
        if found.expires_at_ms <= now_ms:
            raise ChallengeError("expired")
        raise ChallengeError("issued for another purpose or audience")

    def purge(self, now_ms: int, keep_ms: int = 86_400_000) -> int:
        """Delete challenges that expired more than ``keep_ms`` ago; returns how many."""
        with self.db.write() as tx:
            return tx.execute("DELETE FROM challenges WHERE expires_at_ms < ?", (now_ms - keep_ms,))
