"""A refused sign-in is a page for a browser (the portal's layout), a problem for an API client.

Over the real provider where it is involved (an account without a role, a
forged ``state``); the pages themselves by ``GET /signin/refused`` for every
``RefusalKind`` in both languages. Nothing personal on the page or in the log.
"""

from __future__ import annotations

import logging
import socket
import urllib.parse

import pytest
from markupsafe import escape

from api.http.signin.provider import Provider
from api.http.signin.refusal import RefusalKind
from api.portal.pages import CONTENT_SECURITY_POLICY
from api.portal.signin_text import SIGNIN_TEXT
from tests.api.http.signin.portal import ACCOUNTS, Browser, SigninWorld

ZH, EN = SIGNIN_TEXT["zh"], SIGNIN_TEXT["en"]


def _text(body: bytes) -> str:
    return body.decode()


def _shown(words: str) -> str:
    """``words`` as the autoescaped page holds them (an apostrophe is ``&#39;``)."""
    return str(escape(words))


def test_account_without_a_role_gets_a_403_page_saying_what_to_do(
    world: SigninWorld, caplog: pytest.LogCaptureFixture
) -> None:
    browser = Browser()
    with caplog.at_level(logging.DEBUG):
        answer = world.sign_in(browser, "nobody1")  # Accept: text/html, as a browser sends
    assert answer.status == 403
    assert (answer.headers.get("Content-Type") or "").startswith("text/html")
    html = _text(answer.body)
    assert '<html lang="zh-CN">' in html
    assert f"<h1>{ZH['no-role_title']}</h1>" in html
    assert ZH["no-role_what"] in html
    assert ZH["no-role_do"] in html  # ask the administrator for a role, sign in again
    assert 'href="/signin"' in html
    assert 'href="/signin?prompt=login"' in html  # another account
    assert 'href="/signin/refused?reason=no-role&amp;lang=en"' in html  # the English switch
    policy = answer.headers.get("Content-Security-Policy") or ""
    assert policy.startswith(CONTENT_SECURITY_POLICY.split(" form-action")[0])
    assert answer.headers.get("Cache-Control") == "no-store"
    assert browser.cookie("tb_session") is None
    # Nobody named: not on the page, not in the log (neither sub nor name).
    assert ACCOUNTS["nobody1"] == {"name": "No Role", "groups": ["visitors"]}
    for personal in ("nobody1", "No Role", "visitors"):
        assert personal not in html
        assert personal not in caplog.text


def test_api_client_keeps_the_problem_json_for_the_same_refusal(world: SigninWorld) -> None:
    browser = Browser()
    callback = world.to_callback(browser, "nobody1")
    answer = browser.request(callback, headers={"Accept": "application/json"})
    assert answer.status == 403
    assert answer.headers.get("Content-Type") == "application/problem+json"
    assert answer.json()["detail"] == "sign-in refused: no Tongban role for this account"


def test_forged_state_is_a_403_page_with_the_request_id_to_report(world: SigninWorld) -> None:
    browser = Browser()
    callback = world.to_callback(browser, "clerk1")
    parts = urllib.parse.urlsplit(callback)
    query = dict(urllib.parse.parse_qsl(parts.query)) | {"state": "forged"}
    answer = browser.request(parts._replace(query=urllib.parse.urlencode(query)).geturl())
    assert answer.status == 403
    html = _text(answer.body)
    assert f"<h1>{ZH['untrusted_title']}</h1>" in html
    request_id = answer.headers.get("X-Request-Id")
    assert request_id
    assert f"<code>{request_id}</code>" in html
    assert "forged" not in html  # nothing sent is echoed


@pytest.mark.parametrize("kind", list(RefusalKind))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_refusal_kind_has_its_page_in_both_languages(
    world: SigninWorld, kind: RefusalKind, lang: str
) -> None:
    query = urllib.parse.urlencode({"reason": kind.value, "lang": lang})
    answer = Browser().request(f"{world.base}/signin/refused?{query}")
    assert answer.status == (503 if kind is RefusalKind.UNAVAILABLE else 403)
    words = SIGNIN_TEXT[lang]
    html = _text(answer.body)
    for part in ("title", "what", "do"):
        assert _shown(words[f"{kind.value}_{part}"]) in html
    other = "zh" if lang == "en" else "en"
    assert f"reason={kind.value}&amp;lang={other}" in html


def test_unknown_refusal_reason_is_a_404_page(world: SigninWorld) -> None:
    answer = Browser().request(f"{world.base}/signin/refused?reason=made-up")
    assert answer.status == 404
    assert (answer.headers.get("Content-Type") or "").startswith("text/html")


def test_unreachable_provider_is_a_503_page_for_a_browser(world: SigninWorld) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    saved = world.signin.provider
    world.signin.provider = Provider(dead, timeout=5)
    try:
        answer = Browser().request(f"{world.base}/signin")
    finally:
        world.signin.provider = saved
    assert answer.status == 503
    assert f"<h1>{ZH['unavailable_title']}</h1>" in _text(answer.body)


def test_signed_out_page_is_public_and_names_nobody(world: SigninWorld) -> None:
    answer = Browser().request(f"{world.base}/signed-out?lang=en")
    assert answer.status == 200
    html = _text(answer.body)
    assert f"<h1>{EN['signed_out_title']}</h1>" in html
    assert _shown(EN["signed_out_what"]) in html
    assert 'action="/signout"' not in html  # no sign-out form: nobody is signed in here
