"""Staff sign-in over the real oidc-provider: the code flow with PKCE and its refusals.

OpenID Connect Core 1.0 section 3.1 (code flow), RFC 7636 (PKCE S256),
RFC 9207 (``iss`` in the authorization response).
"""

from __future__ import annotations

import socket
import urllib.parse

import pytest

from api.http.signin.provider import Provider, ProviderError
from api.http.signin.routes import SIGNIN_ACTION
from ledger.audit.events import Outcome
from tests.api.http.signin.portal import RP_CLIENT, RP_SECRET, Browser, SigninWorld

API = {"Accept": "application/json"}
"""An API client's request: refusals stay problem details (a browser's are pages)."""


def _with(url: str, **changes: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update(changes)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def test_code_flow_opens_a_session_that_pages_see(world: SigninWorld) -> None:
    browser = Browser()
    answer = world.sign_in(browser)
    assert answer.status == 303
    assert answer.location == "/probe"
    session_cookie = browser.cookie("tb_session")
    assert session_cookie is not None
    page = browser.request(f"{world.base}/probe")
    assert page.status == 200
    seen = page.json()
    assert seen["roles"] == ["verifier"]
    assert seen["name"] == "Clerk One"
    assert seen["actor"].startswith("staff:")
    assert "clerk1" not in seen["actor"]


def test_session_cookie_is_httponly_lax_and_never_the_pre_login_value(world: SigninWorld) -> None:
    browser = Browser()
    callback = world.to_callback(browser, "clerk1")
    pre_login = browser.cookie("tb_signin")
    assert pre_login is not None
    answer = browser.request(callback)
    set_cookies = answer.headers.get_all("Set-Cookie") or []
    session_line = next(c for c in set_cookies if c.startswith("tb_session="))
    assert "HttpOnly" in session_line
    assert "SameSite=lax" in session_line or "SameSite=Lax" in session_line
    assert "Path=/" in session_line
    session_id = browser.cookie("tb_session")
    assert session_id is not None
    assert session_id != pre_login
    assert browser.cookie("tb_signin") is None  # the pre-login cookie is cleared


def test_sign_in_success_is_an_access_control_event_without_the_subject(world: SigninWorld) -> None:
    before = len(world.province.events())
    world.sign_in(Browser())
    events = world.province.events()[before:]
    signins = [e for e in events if e.action == SIGNIN_ACTION]
    assert len(signins) == 1
    assert signins[0].outcome == Outcome.SUCCESS
    assert signins[0].actor.startswith("staff:")
    assert "clerk1" not in repr(signins[0])


def test_page_without_session_redirects_to_signin_with_next(world: SigninWorld) -> None:
    answer = Browser().request(f"{world.base}/probe")
    assert answer.status == 303
    assert answer.location == "/signin?next=%2Fprobe"


def test_api_request_without_session_is_401_problem(world: SigninWorld) -> None:
    answer = Browser().request(f"{world.base}/probe", headers={"Accept": "application/json"})
    assert answer.status == 401
    assert answer.json()["code"] == "unauthenticated"


def test_session_without_the_role_is_403(world: SigninWorld) -> None:
    browser = Browser()
    assert world.sign_in(browser, "auditor1").status == 303
    answer = browser.request(f"{world.base}/probe")
    assert answer.status == 403
    assert answer.json()["code"] == "forbidden"


def test_account_whose_groups_map_to_no_role_is_refused(world: SigninWorld) -> None:
    browser = Browser()
    answer = browser.request(world.to_callback(browser, "nobody1"), headers=API)
    assert answer.status == 403
    assert "no Tongban role" in answer.json()["detail"]
    assert browser.cookie("tb_session") is None


def test_state_mismatch_is_refused(world: SigninWorld) -> None:
    browser = Browser()
    callback = world.to_callback(browser, "clerk1")
    answer = browser.request(_with(callback, state="forged-state-value"), headers=API)
    assert answer.status == 403
    assert answer.json()["detail"] == "sign-in refused: state mismatch"
    assert browser.cookie("tb_session") is None


def test_callback_without_a_started_sign_in_is_refused(world: SigninWorld) -> None:
    callback = world.to_callback(Browser(), "clerk1")
    answer = Browser().request(
        callback, headers=API
    )  # another browser: no pre-login cookie (login CSRF)
    assert answer.status == 403
    assert "no sign-in in progress" in answer.json()["detail"]


def test_issuer_mix_up_rfc9207_is_refused(world: SigninWorld) -> None:
    browser = Browser()
    callback = world.to_callback(browser, "clerk1")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(callback).query)["iss"] == [world.issuer]
    answer = browser.request(_with(callback, iss="http://127.0.0.1:1/other-provider"), headers=API)
    assert answer.status == 403
    assert "issuer mismatch" in answer.json()["detail"]


def test_nonce_mismatch_is_refused(world: SigninWorld) -> None:
    browser = Browser()
    start = browser.request(f"{world.base}/signin?login_hint=clerk1")
    # An attacker swaps the nonce on the way to the provider; the provider signs it.
    to_provider = _with(start.location, nonce="attacker-chosen-nonce")
    callback = browser.follow_to(to_provider, world.callback)
    answer = browser.request(callback, headers=API)
    assert answer.status == 403
    assert answer.json()["detail"] == "sign-in refused: nonce mismatch"


def test_pending_sign_in_is_single_use(world: SigninWorld) -> None:
    browser = Browser()
    callback = world.to_callback(browser, "clerk1")
    pre_login = browser.cookie("tb_signin")
    assert browser.request(callback).status == 303
    again = Browser()
    again.jar.set_cookie(next(c for c in browser.jar if c.name == "tb_session"))
    replay = again.request(callback, headers={"Cookie": f"tb_signin={pre_login}"})
    assert replay.status == 403


def test_wrong_pkce_verifier_is_refused_by_the_provider_and_reported(world: SigninWorld) -> None:
    browser = Browser()
    callback = world.to_callback(browser, "clerk1")
    with world.province.db.write() as tx:
        tx.execute("UPDATE signin_pending SET verifier = ?", ("x" * 43,))
    answer = browser.request(callback, headers=API)
    assert answer.status == 403
    assert answer.json()["detail"] == (
        "sign-in refused: code exchange failed (provider refused: invalid_grant)"
    )


def test_code_exchange_without_pkce_verifier_is_refused_by_the_provider(world: SigninWorld) -> None:
    code, _verifier = world.direct_code("n" * 20)
    with pytest.raises(ProviderError, match="invalid_grant"):
        world.signin.provider.exchange_code(code, None, world.callback, RP_CLIENT, RP_SECRET)


def test_provider_error_response_is_refused_cleanly(world: SigninWorld) -> None:
    browser = Browser()
    answer = browser.request(world.to_callback(browser, "unknown-account"), headers=API)
    assert answer.status == 403
    assert answer.json()["detail"] == "sign-in refused: the identity provider refused"


def test_unreachable_provider_is_503_not_a_traceback(world: SigninWorld) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    saved = world.signin.provider
    world.signin.provider = Provider(dead, timeout=5)
    try:
        answer = Browser().request(f"{world.base}/signin", headers=API)
    finally:
        world.signin.provider = saved
    assert answer.status == 503
    assert answer.json()["detail"] == "the identity provider is unavailable"
