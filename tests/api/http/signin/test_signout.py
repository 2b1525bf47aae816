"""Sign-out: the Tongban session ends on the server, then the provider's (RP-Initiated Logout).

OpenID Connect RP-Initiated Logout 1.0 section 2 (the logout request: ``client_id``,
``post_logout_redirect_uri``, ``state``) and section 3 (the redirect back, ``state``
echoed), over the real oidc-provider (``idp/server.mjs``). The provider's session
is shown gone by OpenID Connect Core 1.0 section 3.1.2.6: an authorization request
with ``prompt=none`` is answered ``login_required``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import socket
import urllib.parse

from api.http.signin.provider import Provider
from tests.api.http.signin.minted import MintingIssuer
from tests.api.http.signin.portal import RP_CLIENT, Browser, SigninWorld


def _signed_in(world: SigninWorld, account: str = "clerk1") -> tuple[Browser, str]:
    browser = Browser()
    assert world.sign_in(browser, account).status == 303
    row = world.store.session(browser.cookie("tb_session") or "", world.signin.now_ms())
    assert row is not None
    return browser, row.csrf_token


def _sign_out(world: SigninWorld, browser: Browser, csrf: str) -> str:
    answer = browser.request(
        f"{world.base}/signout",
        data=urllib.parse.urlencode({"csrf_token": csrf}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 303, answer.body[:300]
    return answer.location


def _silent_authorization(world: SigninWorld, browser: Browser) -> dict[str, list[str]]:
    """An authorization request with ``prompt=none`` in ``browser``: the callback's query."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": RP_CLIENT,
            "redirect_uri": world.callback,
            "scope": "openid profile",
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            "prompt": "none",
        }
    )
    url = browser.follow_to(f"{world.issuer}/auth?{query}", world.callback)
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)


def _confirm_at_provider(browser: Browser, logout_url: str) -> str:
    """Submit the provider's logout confirmation ("sign out"); where it sends the browser."""
    page = browser.request(logout_url)
    assert page.status == 200, page.body[:300]
    html = page.body.decode()
    action = re.search(r'<form id="op.logoutForm" method="post" action="([^"]+)"', html)
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', html)
    assert action is not None, html[:500]
    assert xsrf is not None
    assert 'name="logout" value="yes"' in html
    answer = browser.request(
        urllib.parse.urljoin(logout_url, action.group(1)),
        data=urllib.parse.urlencode({"xsrf": xsrf.group(1), "logout": "yes"}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 303, answer.body[:300]
    return answer.location


def test_signout_redirects_to_the_end_session_endpoint_rp_initiated_logout_2(
    world: SigninWorld,
) -> None:
    browser, csrf = _signed_in(world)
    location = _sign_out(world, browser, csrf)
    endpoint = world.signin.provider.metadata().end_session_endpoint
    assert endpoint is not None
    assert endpoint.startswith(world.issuer)
    parts = urllib.parse.urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == endpoint
    query = urllib.parse.parse_qs(parts.query)
    assert query["client_id"] == [RP_CLIENT]
    assert query["post_logout_redirect_uri"] == [f"{world.base}/signed-out"]
    assert len(query["state"][0]) >= 43
    # The ID token names the staff member: it never goes into a URL.
    assert "id_token_hint" not in query
    assert "Clerk" not in location
    assert "clerk1" not in location
    assert browser.request(f"{world.base}/probe").status == 303  # Tongban's session is gone


def test_provider_session_ends_after_its_confirmation_prompt_none_gets_login_required(
    world: SigninWorld,
) -> None:
    browser, csrf = _signed_in(world)
    before = _silent_authorization(world, browser)
    assert "error" not in before, before
    assert "code" in before  # signed in at the provider: answered silently
    location = _sign_out(world, browser, csrf)
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["state"][0]
    back = _confirm_at_provider(browser, location)
    parts = urllib.parse.urlsplit(back)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{world.base}/signed-out"
    assert urllib.parse.parse_qs(parts.query)["state"] == [state]  # section 3: echoed
    landed = browser.request(back)
    assert landed.status == 200
    after = _silent_authorization(world, browser)
    assert after.get("error") == ["login_required"], after
    assert "code" not in after


def test_providers_logout_confirmation_is_a_plain_form_under_a_strict_csp(
    world: SigninWorld,
) -> None:
    browser, csrf = _signed_in(world)
    page = browser.request(_sign_out(world, browser, csrf))
    assert page.status == 200
    policy = page.headers.get("Content-Security-Policy") or ""
    assert "default-src 'none'" in policy
    html = page.body.decode()
    # Nothing the policy would block: no script, no style, nothing from elsewhere.
    assert "<script" not in html
    assert "<style" not in html
    assert "@import" not in html
    assert page.headers.get("Cache-Control") == "no-store"


def test_without_an_end_session_endpoint_signout_lands_on_the_signed_out_page(
    world: SigninWorld,
) -> None:
    browser, csrf = _signed_in(world)
    minting = MintingIssuer()  # its discovery document names no end_session_endpoint
    saved = world.signin.provider
    world.signin.provider = Provider(minting.issuer)
    try:
        location = _sign_out(world, browser, csrf)
    finally:
        world.signin.provider = saved
        minting.close()
    assert location == "/signed-out"
    assert browser.request(f"{world.base}/probe").status == 303
    page = browser.request(f"{world.base}{location}")
    assert page.status == 200
    assert "您已退出通办" in page.body.decode()


def test_signing_in_again_rotates_the_session_and_ends_the_previous_one(
    world: SigninWorld,
) -> None:
    browser, _csrf = _signed_in(world)
    first = browser.cookie("tb_session")
    assert world.sign_in(browser).status == 303
    second = browser.cookie("tb_session")
    assert second is not None
    assert second != first
    old = Browser().request(f"{world.base}/probe", headers={"Cookie": f"tb_session={first}"})
    assert old.status == 303, "the browser's previous session ended at login"
    assert browser.request(f"{world.base}/probe").status == 200


def test_with_the_provider_unreachable_signout_still_ends_the_session(world: SigninWorld) -> None:
    browser, csrf = _signed_in(world)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    saved = world.signin.provider
    world.signin.provider = Provider(dead, timeout=5)
    try:
        location = _sign_out(world, browser, csrf)
    finally:
        world.signin.provider = saved
    assert location == "/signed-out"
    assert browser.request(f"{world.base}/probe").status == 303


def test_sign_in_with_another_account_makes_the_provider_ask_again(world: SigninWorld) -> None:
    browser = Browser()
    assert world.sign_in(browser, "nobody1").status == 403  # signed in at the provider, no role
    silent = browser.request(f"{world.base}/signin")
    assert browser.follow_to(silent.location, world.callback)  # passes the provider silently
    again = browser.request(f"{world.base}/signin?prompt=login")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(again.location).query)["prompt"] == ["login"]
    url = again.location
    for _ in range(10):  # to the provider's login step, not back to Tongban
        answer = browser.request(url)
        if answer.status not in (302, 303):
            break
        url = urllib.parse.urljoin(url, answer.location)
    assert answer.status == 200
    assert url.startswith(f"{world.issuer}/interaction/")
    assert "clerk1" in answer.body.decode()  # the demo provider's account list
