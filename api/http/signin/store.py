"""Sign-in state in the store, shared by every worker: pending logins, sessions, seen ID tokens.

Cookie values are never stored: rows are keyed by their SHA-256, so a copy of
the store does not let anyone sign in. Time is passed in (milliseconds).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from ledger.store.database import Database
from ledger.store.migrations import Migration, migrate

MIGRATIONS = (
    Migration(
        1,
        "staff sign-in",
        (
            """CREATE TABLE signin_pending (
                handle_hash TEXT PRIMARY KEY,
                state TEXT NOT NULL,
                nonce TEXT NOT NULL,
                verifier TEXT NOT NULL,
                next_path TEXT NOT NULL,
                expires_at_ms INTEGER NOT NULL
            )""",
            """CREATE TABLE staff_sessions (
                session_hash TEXT PRIMARY KEY,
                subject TEXT NOT NULL,
                display_name TEXT NOT NULL,
                roles TEXT NOT NULL,
                csrf_token TEXT NOT NULL,
                last_seen_ms INTEGER NOT NULL,
                idle_until_ms INTEGER NOT NULL,
                expires_at_ms INTEGER NOT NULL
            )""",
            """CREATE TABLE signin_seen_tokens (
                token_hash TEXT PRIMARY KEY,
                expires_at_ms INTEGER NOT NULL
            )""",
            "CREATE INDEX staff_sessions_expiry ON staff_sessions (expires_at_ms)",
        ),
    ),
)


def digest(value: str) -> str:
    """SHA-256 hex of a cookie value or token: what the store keys rows by."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    """256 random bits, base64url: cookie values, CSRF tokens, state, nonce, PKCE verifier."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Pending:
    """A sign-in started by ``GET /signin`` and not yet finished."""

    state: str
    nonce: str
    verifier: str
    next_path: str


@dataclass(frozen=True)
class SessionRow:
    """A stored staff session."""

    subject: str
    display_name: str
    roles: tuple[str, ...]
    csrf_token: str
    last_seen_ms: int
    idle_until_ms: int
    expires_at_ms: int


class SigninStore:
    """The three sign-in tables over ``db`` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        """Use ``db``, creating the tables if needed."""
        self.db = db
        migrate(db, "signin", MIGRATIONS)

    def start(self, handle: str, pending: Pending, expires_at_ms: int) -> None:
        """Remember ``pending`` under the pre-login cookie value ``handle``."""
        with self.db.write() as tx:
            tx.execute(
                "INSERT INTO signin_pending (handle_hash, state, nonce, verifier, next_path, "
                "expires_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    digest(handle),
                    pending.state,
                    pending.nonce,
                    pending.verifier,
                    pending.next_path,
                    expires_at_ms,
                ),
            )

    def take(self, handle: str, now_ms: int) -> Pending | None:
        """The pending sign-in of ``handle``, used up (single use); None if unknown or expired."""
        key = digest(handle)
        with self.db.write() as tx:
            row = tx.fetchone(
                "SELECT state, nonce, verifier, next_path, expires_at_ms FROM signin_pending "
                "WHERE handle_hash = ?",
                (key,),
            )
            tx.execute("DELETE FROM signin_pending WHERE handle_hash = ?", (key,))
        if row is None or int(row[4]) <= now_ms:
            return None
        return Pending(str(row[0]), str(row[1]), str(row[2]), str(row[3]))

    def first_use(self, token_hash: str, expires_at_ms: int, now_ms: int) -> bool:
        """Record an ID token as used; False if it was seen before (a replay)."""
        with self.db.write() as tx:
            seen = tx.fetchone(
                "SELECT expires_at_ms FROM signin_seen_tokens WHERE token_hash = ?", (token_hash,)
            )
            if seen is not None:
                return False
            tx.execute(
                "INSERT INTO signin_seen_tokens (token_hash, expires_at_ms) VALUES (?, ?)",
                (token_hash, max(expires_at_ms, now_ms)),
            )
        return True

    def create_session(self, session_id: str, row: SessionRow) -> None:
        """Store a new session under the (fresh) cookie value ``session_id``."""
        with self.db.write() as tx:
            tx.execute(
                "INSERT INTO staff_sessions (session_hash, subject, display_name, roles, "
                "csrf_token, last_seen_ms, idle_until_ms, expires_at_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    digest(session_id),
                    row.subject,
                    row.display_name,
                    " ".join(row.roles),
                    row.csrf_token,
                    row.last_seen_ms,
                    row.idle_until_ms,
                    row.expires_at_ms,
                ),
            )

    def session(self, session_id: str, now_ms: int) -> SessionRow | None:
        """The live session of cookie value ``session_id`` (None if unknown, idle or expired)."""
        with self.db.read() as tx:
            row = tx.fetchone(
                "SELECT subject, display_name, roles, csrf_token, last_seen_ms, idle_until_ms, "
                "expires_at_ms FROM staff_sessions WHERE session_hash = ?",
                (digest(session_id),),
            )
        if row is None:
            return None
        found = SessionRow(
            str(row[0]),
            str(row[1]),
            tuple(str(row[2]).split()),
            str(row[3]),
            int(row[4]),
            int(row[5]),
            int(row[6]),
        )
        if found.expires_at_ms <= now_ms or found.idle_until_ms <= now_ms:
            return None
        return found

    def touch(self, session_id: str, now_ms: int, idle_ms: int) -> None:
        """Push the idle deadline of ``session_id`` to ``now + idle`` (never past its expiry)."""
        with self.db.write() as tx:
            tx.execute(
                "UPDATE staff_sessions SET last_seen_ms = ?, idle_until_ms = "
                "CASE WHEN expires_at_ms < ? THEN expires_at_ms ELSE ? END "
                "WHERE session_hash = ?",
                (now_ms, now_ms + idle_ms, now_ms + idle_ms, digest(session_id)),
            )

    def end(self, session_id: str) -> bool:
        """Delete the session of ``session_id``; whether there was one."""
        with self.db.write() as tx:
            return (
                tx.execute(
                    "DELETE FROM staff_sessions WHERE session_hash = ?", (digest(session_id),)
                )
                == 1
            )

    def purge(self, now_ms: int) -> int:
        """Delete expired pending logins, sessions and seen tokens; how many rows."""
        with self.db.write() as tx:
            count = tx.execute("DELETE FROM signin_pending WHERE expires_at_ms <= ?", (now_ms,))
            count += tx.execute(
                "DELETE FROM staff_sessions WHERE expires_at_ms <= ? OR idle_until_ms <= ?",
                (now_ms, now_ms),
            )
            count += tx.execute(
                "DELETE FROM signin_seen_tokens WHERE expires_at_ms <= ?", (now_ms,)
            )
        return count
