"""A portal page's 403 and 404 are pages (the portal's layout, both languages, its headers).

A browser asking for a page it may not see (a signed-in staff member without the
verifier role; another session's presentation request) gets an HTML page with the
status kept, the strict CSP and ``no-store``; a client asking for JSON, and every
API route, keeps the JSON problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from api.errors import ProblemCode
from api.http.app import create_app
from api.http.problems import Problem
from api.portal.labels import PAGE_TEXT
from api.portal.pages import CONTENT_SECURITY_POLICY
from api.portal.staff import VERIFIER_STAFF
from api.province.clients import Role
from tests.helpers.contracts import World
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.server import ApiServer, Reply
from tests.portal.helpers import CSRF, LEGAL_BASIS, PURPOSE, portal, staff, visible_text

ZH = PAGE_TEXT["zh"]
EN = PAGE_TEXT["en"]
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path) as served:
        yield served


def _an_html_page(reply: Reply, status: int, words: dict[str, str], title: str) -> str:
    assert reply.status == status, reply.text
    assert (reply.header("Content-Type") or "").startswith("text/html")
    assert reply.header("Content-Security-Policy") == CONTENT_SECURITY_POLICY
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Referrer-Policy") == "no-referrer"
    assert reply.header("X-Frame-Options") == "DENY"
    assert reply.header("Cache-Control") == "no-store"
    html = reply.text
    assert f'<html lang="{words["html_lang"]}">' in html
    assert f"<h1>{words[title]}</h1>" in html
    assert "<script>" not in html
    assert "style=" not in html
    return unescape(visible_text(html))


def _a_json_problem(reply: Reply, status: int) -> None:
    assert reply.status == status, reply.text
    assert (reply.header("Content-Type") or "").startswith("application/problem+json")
    assert reply.json()["status"] == status


def _refused_role() -> None:
    # What require_staff("verifier") raises for a session without the role.
    raise Problem(ProblemCode.FORBIDDEN, "your roles do not allow this page")


def test_a_staff_member_without_the_role_gets_a_403_page_in_either_language(
    province: ServedProvince,
) -> None:
    app = create_app(province.context)
    app.dependency_overrides[VERIFIER_STAFF] = _refused_role
    server = ApiServer(app)
    server.start()
    try:
        shown = _an_html_page(
            server.request("GET", "/", headers=HTML), 403, ZH, "page_forbidden_title"
        )
        assert ZH["page_forbidden"] in shown
        assert "verify-form" not in server.request("GET", "/", headers=HTML).text
        english = server.request("GET", "/ask?lang=en", headers=HTML)
        assert EN["page_forbidden"] in _an_html_page(english, 403, EN, "page_forbidden_title")
        # A script's or client's request keeps the JSON problem.
        _a_json_problem(server.request("GET", "/", headers=JSON), 403)
        _a_json_problem(server.request("GET", "/oid4vp/requests/x/result", headers=JSON), 403)
    finally:
        server.stop()


def test_another_sessions_presentation_request_is_a_404_page_and_json_for_scripts(
    province: ServedProvince,
) -> None:
    body = urlencode(
        {
            "csrf_token": CSRF,
            "lang": "zh",
            "claims": "registeredCapital",
            "purpose": PURPOSE,
            "legal_basis": LEGAL_BASIS,
        }
    ).encode()
    with portal(province) as server:
        asked = server.request("POST", "/ask", body=body, headers=FORM)
        assert asked.status == 303, asked.text
        request_id = urlsplit(asked.header("Location") or "").path.removeprefix("/ask/")
        assert server.request("GET", f"/ask/{request_id}", headers=HTML).status == 200
    other = staff()
    other = type(other)(**{**other.__dict__, "session_id": "s-other"})
    with portal(province, other) as server:
        page = server.request("GET", f"/ask/{request_id}", headers=HTML)
        shown = _an_html_page(page, 404, ZH, "page_not_found_title")
        assert ZH["page_not_found"] in shown
        assert request_id not in shown
        english = server.request("GET", f"/ask/{request_id}?lang=en", headers=HTML)
        assert EN["page_not_found"] in _an_html_page(english, 404, EN, "page_not_found_title")
        _a_json_problem(server.request("GET", f"/ask/{request_id}", headers=JSON), 404)
        poll = server.request("GET", f"/oid4vp/requests/{request_id}/result", headers=JSON)
        _a_json_problem(poll, 404)


def test_api_routes_keep_their_json_problems_for_a_browser(province: ServedProvince) -> None:
    unknown = "/credentials/" + "0" * 64
    _a_json_problem(
        province.request("GET", unknown, Role.HOLDER, headers={**PERSONAL, **HTML}), 404
    )
