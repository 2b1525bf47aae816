"""Staff sessions: ID token replay, sign-out with CSRF, idle and absolute expiry."""

from __future__ import annotations

import dataclasses
import urllib.parse

import pytest
from fastapi import FastAPI, Request

from api.errors import ProblemCode
from api.http.problems import Problem
from api.http.signin import StaffSession, check_csrf, require_staff
from api.http.signin.routes import SIGNOUT_ACTION, open_session
from api.http.signin.store import Pending
from api.province.clients import Role
from tests.api.http.signin.portal import Browser, SigninWorld


def _request(world: SigninWorld) -> Request:
    return Request(
        {"type": "http", "app": world.app, "method": "GET", "path": "/", "headers": [], "state": {}}
    )


def _signed_in(world: SigninWorld) -> tuple[Browser, str]:
    browser = Browser()
    assert world.sign_in(browser).status == 303
    assert browser.request(f"{world.base}/probe").status == 200
    csrf = world.store.session(browser.cookie("tb_session") or "", world.signin.now_ms())
    assert csrf is not None
    return browser, csrf.csrf_token


def test_replayed_id_token_is_refused(world: SigninWorld) -> None:
    token = world.real_id_token(nonce="replay-nonce")
    pending = Pending("state", "replay-nonce", "verifier", "/probe")
    now = world.signin.now_ms()
    first = open_session(world.signin, _request(world), token, pending, now)
    assert first.status_code == 303
    with pytest.raises(Problem) as raised:
        open_session(world.signin, _request(world), token, pending, now)
    assert raised.value.detail == "sign-in refused: ID token replayed"


def test_signout_without_csrf_token_is_refused_and_the_session_lives(world: SigninWorld) -> None:
    browser, _csrf = _signed_in(world)
    answer = browser.request(f"{world.base}/signout", data=b"")
    assert answer.status == 403
    assert answer.json()["code"] == "forbidden"
    wrong = browser.request(
        f"{world.base}/signout",
        data=b"csrf_token=wrong",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert wrong.status == 403
    assert browser.request(f"{world.base}/probe").status == 200


def test_signout_ends_the_session_on_the_server(world: SigninWorld) -> None:
    browser, csrf = _signed_in(world)
    old_cookie = browser.cookie("tb_session")
    before = len(world.province.events())
    answer = browser.request(
        f"{world.base}/signout",
        data=urllib.parse.urlencode({"csrf_token": csrf}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 303
    # Replaying the old cookie (as a copy kept elsewhere would) no longer works.
    replay = Browser().request(
        f"{world.base}/probe", headers={"Cookie": f"tb_session={old_cookie}"}
    )
    assert replay.status == 303
    assert replay.location.startswith("/signin")
    actions = [e.action for e in world.province.events()[before:]]
    assert SIGNOUT_ACTION in actions


def test_signout_with_csrf_header_works_for_scripts(world: SigninWorld) -> None:
    browser, csrf = _signed_in(world)
    answer = browser.request(f"{world.base}/signout", data=b"", headers={"X-CSRF-Token": csrf})
    assert answer.status == 303
    assert browser.request(f"{world.base}/probe").status == 303


def test_idle_session_expires(world: SigninWorld) -> None:
    browser, _csrf = _signed_in(world)
    world.clock_offset = world.config.idle_seconds + 1
    assert browser.request(f"{world.base}/probe").status == 303


def test_use_extends_the_idle_deadline_but_not_the_absolute_one(world: SigninWorld) -> None:
    browser, _csrf = _signed_in(world)
    step = world.config.idle_seconds - 60
    elapsed = 0
    while elapsed + step < world.config.absolute_seconds:
        elapsed += step
        world.clock_offset = elapsed
        assert browser.request(f"{world.base}/probe").status == 200, elapsed
    world.clock_offset = world.config.absolute_seconds + 1
    assert browser.request(f"{world.base}/probe").status == 303


def test_check_csrf_compares_the_token() -> None:
    session = StaffSession("sid", "sub", "", frozenset({"verifier"}), "t" * 43, 0.0, "staff:a", "1")
    check_csrf(session, "t" * 43)
    for bad in (None, "", "t" * 42, "u" * 43):
        with pytest.raises(Problem) as raised:
            check_csrf(session, bad)
        assert raised.value.code == ProblemCode.FORBIDDEN


def test_signin_next_must_be_a_local_path(world: SigninWorld) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil"):
        browser = Browser()
        query = urllib.parse.urlencode({"next": target, "login_hint": "clerk1"})
        start = browser.request(f"{world.base}/signin?{query}")
        callback = browser.follow_to(start.location, world.callback)
        assert browser.request(callback).location == "/"


def test_over_tls_cookies_are_host_prefixed_and_secure(world: SigninWorld) -> None:
    saved = world.signin.config
    world.signin.config = dataclasses.replace(saved, secure_cookies=True)
    try:
        answer = Browser().request(f"{world.base}/signin?login_hint=clerk1")
    finally:
        world.signin.config = saved
    line = next(c for c in answer.headers.get_all("Set-Cookie") or [] if "tb_signin=" in c)
    assert line.startswith("__Host-tb_signin=")
    attributes = {part.strip().split("=")[0].lower() for part in line.split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite"} <= attributes
    assert "domain" not in attributes


def test_require_staff_on_an_app_without_sign_in_is_503() -> None:
    app = FastAPI()
    app.state.signin = None
    with pytest.raises(Problem) as raised:
        require_staff(Role.VERIFIER)(Request({"type": "http", "app": app, "headers": []}))
    assert raised.value.code == ProblemCode.UNAVAILABLE
