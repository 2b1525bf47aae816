"""Asking the citizen to present (OpenID4VP direct_post, docs/oid4vp.md) over HTTP.

The clerk asks on ``/ask``; the request object is public and names no person; the
wallet's ``direct_post`` answer is verified once, its one access event the clerk's; the
clerk's page then shows the verdict and exactly the disclosed claims; a replay, a
request of another session and a POST without its CSRF token are refused; the two
public OpenID4VP routes are rate-limited per client address (429, ``Retry-After``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from api.http.app import create_app
from api.http.ratelimit import RateLimiter, RatePolicy
from api.http.routes.table import ROUTE_TABLE
from api.portal.ask import WALLET_RATE
from api.portal.ask_text import ASK_TEXT
from api.portal.labels import PAGE_TEXT
from api.province.clients import Role
from credentials.holder import Holder
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue
from tests.helpers.server import ApiServer, Reply
from tests.portal.helpers import ACTOR, CSRF, LEGAL_BASIS, PURPOSE, portal, staff, visible_text

ZH = PAGE_TEXT["zh"]
ASK = ASK_TEXT["zh"]
LICENCE = "business-licence"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path) as served:
        yield served


def _credential(province: ServedProvince, holder: Holder) -> dict[str, Any]:
    claims = dict(CLAIMS_BY_TEMPLATE[LICENCE])
    digest = issue(province, holder.did, template=LICENCE, claims=claims)["digest"]
    province.anchor_all()
    reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    assert reply.status == 200, reply.text
    credential: dict[str, Any] = reply.json()["credential"]
    return credential


def _ask(server: ApiServer, claims: str, csrf: str = CSRF) -> Reply:
    body = urlencode(
        {
            "csrf_token": csrf,
            "lang": "zh",
            "claims": claims,
            "purpose": PURPOSE,
            "legal_basis": LEGAL_BASIS,
        }
    ).encode()
    return server.request("POST", "/ask", body=body, headers=FORM)


def _request_id(reply: Reply) -> str:
    assert reply.status == 303, reply.text
    location = reply.header("Location")
    assert location is not None
    return urlsplit(location).path.removeprefix("/ask/")


def _respond(server: ApiServer, request_id: str, token: str, state: str) -> Reply:
    body = urlencode({"vp_token": token, "state": state}).encode()
    return server.request("POST", f"/oid4vp/responses/{request_id}", body=body, headers=FORM)


def test_the_clerk_asks_the_wallet_answers_and_the_page_shows_the_verdict_and_claims(
    province: ServedProvince,
) -> None:
    holder = Holder.generate()
    credential = _credential(province, holder)
    log = province.parts.audit_log
    with portal(province) as server:
        assert server.request("GET", "/ask").status == 200
        request_id = _request_id(_ask(server, "registeredCapital, legalRepresentative"))
        waiting = server.request("GET", f"/ask/{request_id}")
        assert waiting.status == 200
        assert ASK["waiting"] in visible_text(waiting.text)
        assert f'src="/ask/{request_id}/qr.svg"' in waiting.text
        qr = server.request("GET", f"/ask/{request_id}/qr.svg")
        assert qr.header("Content-Type") == "image/svg+xml"
        assert b"<svg" in qr.body
        link = next(a for a in waiting.text.split('"') if a.startswith("openid4vp://"))
        query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
        request_uri = query["request_uri"][0]
        assert request_uri.endswith(f"/oid4vp/requests/{request_id}")
        shown = server.request("GET", urlsplit(request_uri).path).json()
        assert query["client_id"] == [shown["client_id"]]
        assert ACTOR not in json.dumps(shown)
        presentation = holder.present(
            [(credential, ["registeredCapital", "legalRepresentative"])],
            challenge=shown["nonce"],
            domain=shown["client_metadata"]["tongban_domain"],
        )
        token = json.dumps({"credential": [presentation]}, ensure_ascii=False)
        before = log.size()
        answered = _respond(server, request_id, token, shown["state"])
        assert answered.status == 200, answered.text
        assert answered.json() == {"tongban_verdict": "VALID"}
        appended = [r.event for r in log.iterate(before)]
        replay = _respond(server, request_id, token, shown["state"])
        polled = server.request("GET", f"/oid4vp/requests/{request_id}/result").json()
        page = server.request("GET", f"/ask/{request_id}")
    assert [(e.action, e.actor, e.purpose) for e in appended] == [
        ("presentation.verify", ACTOR, PURPOSE)
    ]
    assert appended[0].request_id == answered.header("X-Request-Id")
    assert ROUTE_TABLE[("POST", "/oid4vp/responses/{request_id}")].access_events == (
        "presentation.verify",
    )
    assert replay.status == 400
    assert replay.json()["error"] == "invalid_request"
    assert log.size() == before + 1
    assert polled == {"answered": True}
    text = visible_text(page.text)
    assert ZH["verdict_valid"] in text
    assert "注册资本" in text
    assert "法定代表人" in text
    assert "经营范围" not in text  # not asked for, not disclosed


def test_another_session_cannot_see_the_request_and_a_post_needs_its_csrf_token(
    province: ServedProvince,
) -> None:
    with portal(province) as server:
        assert _ask(server, "registeredCapital", csrf="wrong").status == 403
        assert _ask(server, "not a name!").status == 422
        request_id = _request_id(_ask(server, "registeredCapital"))
    other = staff()
    other = type(other)(**{**other.__dict__, "session_id": "s-other"})
    with portal(province, other) as server:
        assert server.request("GET", f"/ask/{request_id}").status == 404
        assert server.request("GET", f"/oid4vp/requests/{request_id}/result").status == 404
        assert server.request("GET", f"/ask/{request_id}/qr.svg").status == 404
        assert server.request("GET", f"/oid4vp/requests/{request_id}").status == 200


def test_bad_answers_are_refused_in_openid4vp_error_form(province: ServedProvince) -> None:
    with portal(province) as server:
        request_id = _request_id(_ask(server, "registeredCapital"))
        as_json = server.request(
            "POST", f"/oid4vp/responses/{request_id}", json_body={"vp_token": "x"}
        )
        missing = _respond(server, request_id, "", "s")
        unknown = _respond(server, "no-such-request", "{}", "s")
        wrong_state = _respond(server, request_id, "{}", "another")
        not_json = server.request("GET", f"/oid4vp/requests/{request_id}")
        state = not_json.json()["state"]
        garbage = _respond(server, request_id, "not json", state)
    assert (as_json.status, as_json.json()["error"]) == (400, "invalid_request")
    assert missing.status == 400
    assert unknown.status == 404
    assert wrong_state.json()["error_description"] == "refused: state_mismatch"
    assert garbage.json()["error_description"] == "refused: vp_token_not_json"
    assert "not json" not in garbage.text
    assert [e for e in events(province) if e.action == "presentation.verify"] == []


def test_the_ask_pages_have_the_same_words_in_both_languages_and_render_in_english(
    province: ServedProvince,
) -> None:
    assert ASK_TEXT["zh"].keys() == ASK_TEXT["en"].keys()
    with portal(province) as server:
        english = server.request("GET", "/ask?lang=en")
        chinese = server.request("GET", "/")
    assert english.status == 200
    assert ASK_TEXT["en"]["ask_title"] in visible_text(english.text)
    assert 'href="/ask"' in chinese.text  # the verifier page leads to 请出示
    assert ZH["nav_ask"] in visible_text(chinese.text)


def test_the_public_openid4vp_routes_are_rate_limited_per_address_with_retry_after(
    province: ServedProvince,
) -> None:
    now = [1000.0]
    app = create_app(province.context)
    limiter = RateLimiter(RatePolicy(rate=1.0, burst=3), clock=lambda: now[0])
    app.state.oid4vp_rate = limiter  # the policy of the test; the clock the test's
    server = ApiServer(app)
    server.start()
    try:
        within = [server.request("GET", "/oid4vp/requests/no-such-request") for _ in range(3)]
        over = server.request("GET", "/oid4vp/requests/no-such-request")
        # The wallet's answer takes from the same address's bucket.
        over_post = _respond(server, "no-such-request", "{}", "s")
        now[0] += 1.0  # one token back
        again = server.request("GET", "/oid4vp/requests/no-such-request")
        metrics = server.request("GET", "/metrics").text
    finally:
        server.stop()
    assert [r.status for r in within] == [404, 404, 404]
    for refused in (over, over_post):
        assert refused.status == 429
        assert refused.header("Retry-After") == "1"
        assert refused.json() == {
            "error": "temporarily_unavailable",
            "error_description": "too many requests from this address; "
            "retry after the time in Retry-After",
        }
    assert again.status == 404
    assert len(limiter) == 1  # one bucket: the loopback address, not one per request
    assert 'tongban_rate_limited_total{bucket="wallet"} 2.0' in metrics


def test_by_default_the_wallet_routes_take_from_one_bucket_per_address_of_wallet_rate(
    province: ServedProvince,
) -> None:
    app = create_app(province.context)
    server = ApiServer(app)
    server.start()
    try:
        assert server.request("GET", "/oid4vp/requests/no-such-request").status == 404
        assert _respond(server, "no-such-request", "{}", "s").status == 404
    finally:
        server.stop()
    limiter = app.state.oid4vp_rate
    assert isinstance(limiter, RateLimiter)
    assert limiter.policy == WALLET_RATE
    assert len(limiter) == 1
