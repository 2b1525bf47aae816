"""``GET /signin``, ``GET /signin/callback``, ``POST /signout``: the code flow with PKCE.

Browser endpoints, not API operations: plain Starlette routes, outside the
OpenAPI document and the API route table (they touch no personal data; the
ID token's claims go into the session row only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import urllib.parse

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from api.errors import ProblemCode
from api.http.auth import ANONYMOUS
from api.http.problems import Problem, request_id_of
from api.http.signin.config import SIGNED_OUT_PATH
from api.http.signin.provider import ProviderError
from api.http.signin.refusal import RefusalKind, SigninRefused, answer_refusal
from api.http.signin.session import (
    CSRF_FIELD,
    CSRF_HEADER,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    Signin,
    SigninRequired,
    check_csrf,
    signin_of,
    staff_session,
)
from api.http.signin.store import Pending, SessionRow, digest, new_secret
from api.http.signin.tokens import TokenRefusedError, check_id_token
from api.province.audited import ACCESS_CONTROL_PURPOSE, record_administrative
from ledger.audit.events import Caller, Outcome

log = logging.getLogger(__name__)

SIGNIN_ACTION = "staff.signin"
SIGNOUT_ACTION = "staff.signout"
SESSION_RESOURCE = "record:staff_session"
SCOPE = "openid profile"


def safe_next(value: str | None) -> str:
    """A local path to return to after sign-in; anything else (other sites, ``//x``) is ``/``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(c) < 0x21 for c in value) or len(value) > 512:
        return "/"
    return value


def _challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    raw = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _parts(request: Request) -> Signin:
    signin = signin_of(request)
    if signin is None:
        raise Problem(ProblemCode.NOT_FOUND, "staff sign-in is not configured")
    return signin


def _audit(signin: Signin, request: Request, caller: Caller, action: str, outcome: Outcome) -> None:
    record_administrative(
        signin.audit_log,
        caller,
        action,
        SESSION_RESOURCE,
        request_id_of(request) or "signin",
        purpose=ACCESS_CONTROL_PURPOSE,
        outcome=outcome,
    )


def _set_cookie(response: Response, signin: Signin, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        signin.cookie_name(name),
        value,
        max_age=max_age,
        path="/",
        secure=signin.config.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def _clear_cookie(response: Response, signin: Signin, name: str) -> None:
    response.delete_cookie(
        signin.cookie_name(name),
        path="/",
        secure=signin.config.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def begin(request: Request) -> Response:
    """``GET /signin``: a fresh state, nonce and PKCE verifier; redirect to the provider."""
    signin = _parts(request)
    config = signin.config
    try:
        endpoint = signin.provider.metadata().authorization_endpoint
    except ProviderError as exc:
        log.warning("sign-in: identity provider unavailable (%s)", exc)
        raise SigninRefused(
            RefusalKind.UNAVAILABLE, "the identity provider is unavailable", ProblemCode.UNAVAILABLE
        ) from None
    now = signin.now_ms()
    signin.store.purge(now)
    handle = new_secret()
    pending = Pending(
        new_secret(), new_secret(), new_secret(), safe_next(request.query_params.get("next"))
    )
    signin.store.start(handle, pending, now + config.login_seconds * 1000)
    params = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": config.redirect_uri,
        "scope": SCOPE,
        "state": pending.state,
        "nonce": pending.nonce,
        "code_challenge": _challenge(pending.verifier),
        "code_challenge_method": "S256",
    }
    hint = request.query_params.get("login_hint")
    if hint and len(hint) <= 64:
        params["login_hint"] = hint
    if request.query_params.get("prompt") == "login":
        params["prompt"] = "login"  # "sign in with another account" after a refusal
    response = RedirectResponse(f"{endpoint}?{urllib.parse.urlencode(params)}", status_code=303)
    _set_cookie(response, signin, PRELOGIN_COOKIE, handle, config.login_seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refuse(
    signin: Signin, request: Request, reason: str, kind: RefusalKind = RefusalKind.UNTRUSTED
) -> SigninRefused:
    log.info("sign-in refused: %s", reason)
    _audit(signin, request, ANONYMOUS, SIGNIN_ACTION, Outcome.DENIED)
    return SigninRefused(kind, f"sign-in refused: {reason}")


def finish(request: Request) -> Response:
    """``GET /signin/callback``: check the response, redeem the code, open a fresh session."""
    signin = _parts(request)
    config = signin.config
    now = signin.now_ms()
    query = request.query_params
    handle = request.cookies.get(signin.cookie_name(PRELOGIN_COOKIE))
    pending = signin.store.take(handle, now) if handle and len(handle) <= 128 else None
    if pending is None:
        raise _refuse(
            signin, request, "no sign-in in progress (start again)", RefusalKind.NOT_STARTED
        )
    state = query.get("state")
    if state is None or not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise _refuse(signin, request, "state mismatch")
    # RFC 9207: the response names its issuer; a response from another provider is refused.
    if query.get("iss") != config.issuer:
        raise _refuse(signin, request, "issuer mismatch in the authorization response")
    if "error" in query:
        raise _refuse(
            signin, request, "the identity provider refused", RefusalKind.PROVIDER_REFUSED
        )
    code = query.get("code")
    if not code:
        raise _refuse(signin, request, "no authorization code")
    try:
        tokens = signin.provider.exchange_code(
            code, pending.verifier, config.redirect_uri, config.client_id, config.client_secret
        )
    except ProviderError as exc:
        raise _refuse(signin, request, f"code exchange failed ({exc})") from None
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise _refuse(signin, request, "no ID token")
    return open_session(signin, request, id_token, pending, now)


def open_session(
    signin: Signin, request: Request, id_token: str, pending: Pending, now_ms: int
) -> Response:
    """Check ``id_token`` for ``pending`` and answer with a new session cookie."""
    config = signin.config
    try:
        claims = check_id_token(
            id_token,
            signin.provider,
            client_id=config.client_id,
            nonce=pending.nonce,
            now=now_ms // 1000,
            leeway=config.leeway_seconds,
            algorithms=config.algorithms,
        )
    except TokenRefusedError as exc:
        raise _refuse(signin, request, exc.reason) from None
    if not signin.store.first_use(digest(id_token), int(claims["exp"]) * 1000, now_ms):
        raise _refuse(signin, request, "ID token replayed")
    roles = config.roles_for_groups(claims.get(config.groups_claim))
    if not roles:
        raise _refuse(signin, request, "no Tongban role for this account", RefusalKind.NO_ROLE)
    name = claims.get("name")
    # The session rotates at login: a fresh id (never the pre-login value), and a
    # session this browser already had ends here, so a planted or stolen id dies too.
    previous = request.cookies.get(signin.cookie_name(SESSION_COOKIE))
    if previous and len(previous) <= 128:
        signin.store.end(previous)
    session_id = new_secret()
    idle = now_ms + config.idle_seconds * 1000
    expires = now_ms + config.absolute_seconds * 1000
    signin.store.create_session(
        session_id,
        SessionRow(
            subject=str(claims["sub"]),
            display_name=name[:64] if isinstance(name, str) else "",
            roles=tuple(sorted(roles)),
            csrf_token=new_secret(),
            last_seen_ms=now_ms,
            idle_until_ms=min(idle, expires),
            expires_at_ms=expires,
        ),
    )
    _audit(
        signin,
        request,
        Caller(config.actor(str(claims["sub"])), config.organisation),
        SIGNIN_ACTION,
        Outcome.SUCCESS,
    )
    response = RedirectResponse(pending.next_path, status_code=303)
    _clear_cookie(response, signin, PRELOGIN_COOKIE)
    _set_cookie(response, signin, SESSION_COOKIE, session_id, config.absolute_seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


async def signout(request: Request) -> Response:
    """``POST /signout``: CSRF-checked; ends the session on the server, clears the cookie."""
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    # The store is blocking: off the event loop, like the API's sync routes.
    return await run_in_threadpool(_signout, request, submitted)


def _signout(request: Request, submitted: str | None) -> Response:
    signin = _parts(request)
    session = staff_session(request)
    if session is None:
        response = RedirectResponse(SIGNED_OUT_PATH, status_code=303)
        _clear_cookie(response, signin, SESSION_COOKIE)
        return response
    check_csrf(session, submitted)
    signin.store.end(session.session_id)
    _audit(
        signin,
        request,
        Caller(session.actor, session.organisation),
        SIGNOUT_ACTION,
        Outcome.SUCCESS,
    )
    response = RedirectResponse(provider_logout(signin) or SIGNED_OUT_PATH, status_code=303)
    _clear_cookie(response, signin, SESSION_COOKIE)
    response.headers["Cache-Control"] = "no-store"
    return response


def provider_logout(signin: Signin) -> str | None:
    """The provider's ``end_session_endpoint`` request (RP-Initiated Logout 1.0 section 2).

    ``client_id``, not ``id_token_hint``: the ID token carries the staff member's
    name and groups, and this URL passes through the browser (history, the
    provider's access log); nothing personal goes into a URL. None when the
    provider offers no ``end_session_endpoint`` or cannot be reached: the
    Tongban session has ended either way.
    """
    try:
        endpoint = signin.provider.metadata().end_session_endpoint
    except ProviderError as exc:
        log.warning("sign-out: identity provider unavailable (%s)", exc)
        return None
    if endpoint is None:
        return None
    params = {
        "client_id": signin.config.client_id,
        "post_logout_redirect_uri": signin.config.signed_out_uri,
        "state": new_secret(),
    }
    separator = "&" if urllib.parse.urlsplit(endpoint).query else "?"
    return f"{endpoint}{separator}{urllib.parse.urlencode(params)}"


def _to_signin(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SigninRequired)  # noqa: S101 - registered for this class only
    query = urllib.parse.urlencode({"next": safe_next(exc.next_path)})
    return RedirectResponse(f"/signin?{query}", status_code=303)


def install_signin(app: FastAPI, signin: Signin) -> None:
    """Register the sign-in routes and the redirect of ``SigninRequired`` on ``app``."""
    app.state.signin = signin
    app.router.routes.extend(
        [
            Route("/signin", begin, methods=["GET"]),
            Route("/signin/callback", finish, methods=["GET"]),
            Route("/signout", signout, methods=["POST"]),
        ]
    )
    app.add_exception_handler(SigninRequired, _to_signin)
    app.add_exception_handler(SigninRefused, answer_refusal)
