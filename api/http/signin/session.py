"""The sign-in parts of one app, and the interface pages use: sessions, roles, CSRF."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from api.errors import ProblemCode
from api.http.problems import Problem
from api.http.signin.config import SigninConfig
from api.http.signin.provider import Provider
from api.http.signin.store import SigninStore
from api.province.clients import Role
from ledger.audit.log import AuditLog

SESSION_COOKIE = "tb_session"
PRELOGIN_COOKIE = "tb_signin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
TOUCH_EVERY_MS = 60_000


@dataclass(frozen=True)
class StaffSession:
    """A signed-in staff member, as pages see them.

    ``subject`` is the identity provider's ``sub`` (pseudonymous); ``actor`` is
    what the audit log records for them (a keyed digest of it, ``staff:...``).
    """

    session_id: str
    subject: str
    display_name: str
    roles: frozenset[str]
    csrf_token: str
    expires_at: float
    actor: str
    organisation: str


@dataclass
class Signin:
    """What the sign-in routes and dependencies of one app share."""

    config: SigninConfig
    store: SigninStore
    audit_log: AuditLog
    provider: Provider
    clock: Callable[[], float] = time.time

    def now_ms(self) -> int:
        """The clock, in milliseconds."""
        return int(self.clock() * 1000)

    def cookie_name(self, base: str) -> str:
        """``__Host-`` prefixed when cookies are Secure (TLS); the bare name over plain HTTP."""
        return f"__Host-{base}" if self.config.secure_cookies else base


class SigninRequired(Exception):  # noqa: N818 - a signal the handler turns into a redirect
    """A page needs a signed-in staff member; the handler redirects to ``/signin``."""

    def __init__(self, next_path: str) -> None:
        """Remember where to come back to."""
        super().__init__("sign-in required")
        self.next_path = next_path


def signin_of(request: Request) -> Signin | None:
    """The app's sign-in parts, if it was built with them."""
    found = getattr(request.app.state, "signin", None)
    return found if isinstance(found, Signin) else None


def staff_session(request: Request) -> StaffSession | None:
    """The request's live staff session from its cookie, or None (reads only)."""
    found = _lookup(request)
    return None if found is None else found[0]


def _lookup(request: Request) -> tuple[StaffSession, int] | None:
    signin = signin_of(request)
    if signin is None:
        return None
    session_id = request.cookies.get(signin.cookie_name(SESSION_COOKIE))
    if not session_id or len(session_id) > 128:
        return None
    row = signin.store.session(session_id, signin.now_ms())
    if row is None:
        return None
    session = StaffSession(
        session_id=session_id,
        subject=row.subject,
        display_name=row.display_name,
        roles=frozenset(row.roles),
        csrf_token=row.csrf_token,
        expires_at=min(row.expires_at_ms, row.idle_until_ms) / 1000,
        actor=signin.config.actor(row.subject),
        organisation=signin.config.organisation,
    )
    return session, row.last_seen_ms


def _wants_page(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def require_staff(*roles: Role | str) -> Callable[[Request], StaffSession]:
    """A FastAPI dependency: the staff session holding one of ``roles`` (none: any).

    Without a session a page request (GET accepting HTML) is redirected (303) to
    ``/signin?next=<path>``, anything else gets the 401 problem; a session
    without the role gets the 403 problem; an app without sign-in, 503. Each
    use extends the idle deadline.
    """
    wanted = frozenset(str(r) for r in roles)

    def dependency(request: Request) -> StaffSession:
        if signin_of(request) is None:
            # No handler for SigninRequired either: say what is missing instead.
            raise Problem(ProblemCode.UNAVAILABLE, "staff sign-in is not configured")
        found = _lookup(request)
        if found is None:
            if _wants_page(request):
                raise SigninRequired(request.url.path)
            raise Problem(ProblemCode.UNAUTHENTICATED, "staff sign-in required")
        session, last_seen_ms = found
        if wanted and not wanted & session.roles:
            raise Problem(ProblemCode.FORBIDDEN, "your roles do not allow this page")
        signin = signin_of(request)
        if signin is not None:
            now = signin.now_ms()
            if now - last_seen_ms >= TOUCH_EVERY_MS:
                signin.store.touch(session.session_id, now, signin.config.idle_seconds * 1000)
        return session

    return dependency


def check_csrf(session: StaffSession, submitted: str | None) -> None:
    """Raise the 403 problem unless ``submitted`` is the session's CSRF token (constant time)."""
    if submitted is None or not hmac.compare_digest(
        submitted.encode(), session.csrf_token.encode()
    ):
        raise Problem(ProblemCode.FORBIDDEN, "the form's CSRF token is missing or wrong")
