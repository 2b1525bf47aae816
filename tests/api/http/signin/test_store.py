"""The sign-in tables on both engines (SQLite and PostgreSQL): keyed by digests, single use."""

from __future__ import annotations

from api.http.signin.store import Pending, SessionRow, SigninStore, digest
from ledger.store.database import Database

ROW = SessionRow("sub-1", "Name", ("verifier",), "csrf", 1_000, 901_000, 28_801_000)


def test_pending_sign_in_is_taken_once_and_not_after_expiry(any_db: Database) -> None:
    store = SigninStore(any_db)
    pending = Pending("state", "nonce", "verifier", "/")
    store.start("handle-1", pending, expires_at_ms=10_000)
    assert store.take("handle-1", now_ms=5_000) == pending
    assert store.take("handle-1", now_ms=5_000) is None
    store.start("handle-2", pending, expires_at_ms=10_000)
    assert store.take("handle-2", now_ms=10_000) is None


def test_session_rows_are_keyed_by_digest_never_the_cookie(any_db: Database) -> None:
    store = SigninStore(any_db)
    store.create_session("cookie-value", ROW)
    with any_db.read() as tx:
        keys = [r[0] for r in tx.fetchall("SELECT session_hash FROM staff_sessions")]
    assert keys == [digest("cookie-value")]
    assert store.session("cookie-value", now_ms=2_000) == ROW
    assert store.session("cookie-value", now_ms=901_000) is None  # idle
    store.touch("cookie-value", now_ms=900_000, idle_ms=900_000)
    assert store.session("cookie-value", now_ms=901_000) is not None
    assert store.session("cookie-value", now_ms=28_801_000) is None  # absolute
    assert store.end("cookie-value")
    assert store.session("cookie-value", now_ms=2_000) is None
    assert not store.end("cookie-value")


def test_an_id_token_is_used_once(any_db: Database) -> None:
    store = SigninStore(any_db)
    assert store.first_use("t-hash", expires_at_ms=5_000, now_ms=1_000)
    assert not store.first_use("t-hash", expires_at_ms=5_000, now_ms=1_000)


def test_purge_drops_only_what_expired(any_db: Database) -> None:
    store = SigninStore(any_db)
    store.create_session("live", ROW)
    store.create_session("old", SessionRow("s", "", (), "c", 0, 10, 10))
    store.first_use("t-old", expires_at_ms=10, now_ms=0)
    store.start("h-old", Pending("s", "n", "v", "/"), expires_at_ms=10)
    assert store.purge(now_ms=100) == 3
    assert store.session("live", now_ms=100) is not None
