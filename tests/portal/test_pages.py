"""The verifier page (``GET /``, ``POST /``) over a real province and the test chain.

The page renders in both languages with the security headers; static files have
their types and cache headers; a POST without its CSRF token is refused; a pasted
credential, a printed certificate's PDF (QR decoded on the server) and a
certificate file are verified and audited as the API's calls, the access event's
actor the signed-in staff member, nothing personal in the service's logs.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.http.routes.table import ROUTE_TABLE
from api.portal.labels import PAGE_TEXT
from api.portal.pages import CONTENT_SECURITY_POLICY, STATIC_FILES
from api.province.clients import Role
from credentials.file_binding import describe_file
from credentials.holder import Holder
from tests.helpers.certificate_files import sample_pdf
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue
from tests.helpers.server import Reply
from tests.portal.helpers import ACTOR, CSRF, PURPOSE, SUBJECT, form, portal, post, visible_text

ZH = PAGE_TEXT["zh"]
LICENCE = "business-licence"


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path) as served:
        yield served


def _headers_locked_down(reply: Reply) -> None:
    assert reply.header("Content-Security-Policy") == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Referrer-Policy") == "no-referrer"


def _issue_licence(province: ServedProvince, holder: str) -> str:
    claims = dict(CLAIMS_BY_TEMPLATE[LICENCE])
    digest: str = issue(province, holder, template=LICENCE, claims=claims)["digest"]
    return digest


def _read(province: ServedProvince, digest: str) -> dict[str, Any]:
    reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    assert reply.status == 200, reply.text
    credential: dict[str, Any] = reply.json()["credential"]
    return credential


def test_the_page_renders_in_chinese_by_default_and_in_english_on_request(
    province: ServedProvince,
) -> None:
    with portal(province) as server:
        zh = server.request("GET", "/")
        assert zh.status == 200, zh.text
        _headers_locked_down(zh)
        assert zh.header("Cache-Control") == "no-store"
        assert '<html lang="zh-CN">' in zh.text
        assert "核验电子证照" in zh.text
        assert 'name="csrf_token" value="' + CSRF in zh.text
        # Every purpose a staff member may declare is offered, grouped by category, and
        # none is chosen for them.
        assert '<option value="">' + ZH["purpose_choose"] in zh.text
        assert 'value="audit.review"' in zh.text
        assert "<optgroup" in zh.text
        assert " selected" not in zh.text
        en = server.request("GET", "/?lang=en")
        assert en.status == 200
        assert '<html lang="en">' in en.text
        assert "Verify an electronic certificate" in en.text
        assert "lang=en" in (en.header("Set-Cookie") or "")
        by_cookie = server.request("GET", "/", headers={"Cookie": "lang=en"})
        assert '<html lang="en">' in by_cookie.text


def test_pages_have_no_inline_script_or_style_and_load_only_their_own_files(
    province: ServedProvince,
) -> None:
    with portal(province) as server:
        page = server.request("GET", "/").text
    assert not re.search(r"<script(?![^>]*\ssrc=)", page), "no inline script"
    assert "<style" not in page
    assert not re.search(r"\sstyle\s*=", page)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", page), "no inline event handlers"
    for link in re.findall(r'\s(?:src|href|action)="([^"]*)"', page):
        assert link.startswith(("/", "#")), link
        assert not link.startswith("//"), link


def test_static_files_have_their_types_hashed_names_and_long_cache(
    province: ServedProvince,
) -> None:
    with portal(province) as server:
        for source, expected in (
            ("portal.css", "text/css"),
            ("portal.js", "text/javascript"),
            ("favicon.svg", "image/svg+xml"),
        ):
            served = STATIC_FILES[source]
            assert re.fullmatch(r"(portal|favicon)\.[0-9a-f]{16}\.(css|js|svg)", served.name)
            reply = server.request("GET", f"/static/{served.name}")
            assert reply.status == 200
            assert (reply.header("Content-Type") or "").startswith(expected)
            assert "immutable" in (reply.header("Cache-Control") or "")
            _headers_locked_down(reply)
            assert reply.body == served.data
        assert server.request("GET", "/static/portal.css").status == 404
        assert server.request("GET", "/static/..%2Fpages.py").status == 404


def test_without_staff_sign_in_configured_the_page_is_refused(province: ServedProvince) -> None:
    # An app without an identity provider: no staff page, whatever the request accepts.
    with portal(province, signed_in=False) as server:
        page = server.request("GET", "/", headers={"Accept": "text/html"})
        api = server.request("GET", "/")
        posted = post(server, form(text="{}"))
    for reply in (page, api, posted):
        assert reply.status == 503, reply.text
        assert "csrf_token" not in reply.text
    assert not [e for e in events(province) if e.action == "credential.verify"]


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(province: ServedProvince) -> None:
    credential = _read(province, issue(province, Holder.generate().did)["digest"])
    text = json.dumps(credential)
    with portal(province) as server:
        missing = post(server, form(text=text, csrf=None))
        empty = post(server, form(text=text, csrf=""))
        wrong = post(server, form(text=text, csrf=CSRF[:-1] + "0"))
        not_a_form = server.request(
            "POST", "/", body=text.encode(), headers={"Content-Type": "application/json"}
        )
    assert missing.status == 400  # the form's CSRF part is missing: not the page's form
    assert ZH["error_bad_form"] in missing.text
    for refused in (empty, wrong):
        assert refused.status == 403
        assert ZH["error_csrf"] in refused.text
        assert (refused.header("Content-Type") or "").startswith("text/html")
    assert not_a_form.status == 415
    assert ZH["error_bad_form"] in not_a_form.text
    assert credential["credentialSubject"]["id"] not in not_a_form.text
    assert not [e for e in events(province) if e.action == "credential.verify"]


def test_a_pasted_credential_is_verified_audited_and_shown_with_its_face(
    province: ServedProvince, caplog: pytest.LogCaptureFixture
) -> None:
    holder = Holder.generate().did
    digest = _issue_licence(province, holder)
    province.anchor_all()
    credential = _read(province, digest)
    with caplog.at_level(logging.DEBUG), portal(province) as server:
        reply = post(server, form(text=json.dumps(credential)))
        english = post(server, form(text=json.dumps(credential), lang="en"))
    assert reply.status == 200, reply.text
    _headers_locked_down(reply)
    page = visible_text(reply.text)
    assert ZH["verdict_valid"] in page
    assert "verdict-valid" in reply.text
    for number in range(8):
        assert f"({number})" in page
    assert "代码: ok" in page
    assert "统一社会信用代码" in page  # the face's Chinese label of a claim
    assert credential["zhengzhao"]["identifier"] in page
    block = credential["anchor"]["blockNumber"]
    assert re.search(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d \(UTC\+8\), 区块 {block}\b", page), page
    assert "Valid: every check passed" in visible_text(english.text)
    [event, _] = [e for e in events(province) if e.action == "credential.verify"]
    assert event.actor == ACTOR
    assert event.purpose == PURPOSE
    assert event.outcome == "success"
    name = credential["credentialSubject"].get("enterpriseName")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert SUBJECT not in logged
    if isinstance(name, str):
        assert name not in logged


def test_a_printed_certificate_pdf_is_decoded_on_the_server_and_verified(
    province: ServedProvince,
) -> None:
    holder = Holder.generate().did
    digest = _issue_licence(province, holder)
    province.anchor_all()
    pdf = province.request(
        "GET", f"/credentials/{digest}/certificate.pdf", Role.ISSUER, headers=PERSONAL
    )
    assert pdf.status == 200, pdf.text
    with portal(province) as server:
        reply = post(server, form(upload=pdf.body))
        not_a_code = post(server, form(upload=sample_pdf()))
    assert reply.status == 200, reply.text
    page = visible_text(reply.text)
    assert ZH["verdict_valid"] in page
    assert ZH["paper"] in page
    assert not_a_code.status == 422
    assert "图片中未找到通办二维码" in not_a_code.text


def test_a_certificate_file_is_checked_and_a_changed_byte_makes_the_verdict_invalid(
    province: ServedProvince,
) -> None:
    data = sample_pdf()
    holder = Holder.generate().did
    digest = issue(province, holder, certificateFile=describe_file(data).to_request_json())[
        "digest"
    ]
    province.anchor_all()
    text = json.dumps(_read(province, digest))
    changed = data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]
    with portal(province) as server:
        same = post(server, form(text=text, certificate=data))
        other = post(server, form(text=text, certificate=changed))
    assert ZH["file_match"] in visible_text(same.text)
    assert ZH["verdict_valid"] in visible_text(same.text)
    assert ZH["verdict_invalid"] in visible_text(other.text)
    assert "file_digest_mismatch" in other.text
    outcomes = [str(e.outcome) for e in events(province) if e.action == "credential.verify"]
    assert outcomes == ["success", "invalid"]


def test_bad_input_is_answered_on_the_page_without_echo(province: ServedProvince) -> None:
    with portal(province) as server:
        nothing = post(server, form())
        not_json = post(server, form(text="张三 110101199003070000"))
        bad_purpose = post(server, form(text="{}", purpose="no such purpose!"))
    assert nothing.status == 422
    assert ZH["error_no_input"] in nothing.text
    assert not_json.status == 422
    assert "110101199003070000" not in not_json.text
    assert bad_purpose.status == 422
    assert "用证事由或法律依据无效" in bad_purpose.text


def test_the_page_records_exactly_the_events_of_its_route_table_entries(
    province: ServedProvince,
) -> None:
    credential = _read(province, _issue_licence(province, Holder.generate().did))
    log = province.parts.audit_log
    with portal(province) as server:
        before = log.size()
        assert server.request("GET", "/").status == 200
        name = STATIC_FILES["portal.js"].name
        assert server.request("GET", f"/static/{name}").status == 200
        assert log.size() == before
        assert ROUTE_TABLE[("GET", "/")].access_events == ()
        reply = post(server, form(text=json.dumps(credential)))
        assert reply.status == 200
        appended = [r.event for r in log.iterate(before)]
    assert [e.action for e in appended] == ["credential.verify"]
    assert list(ROUTE_TABLE[("POST", "/")].access_events) == [
        "credential.verify",
        "presentation.verify",
    ]
    assert appended[0].request_id == reply.header("X-Request-Id")


def test_a_presentation_shows_only_what_was_disclosed_and_a_replay_is_refused_in_words(
    province: ServedProvince,
) -> None:
    holder = Holder.generate()
    digest = _issue_licence(province, holder.did)
    province.anchor_all()
    credential = _read(province, digest)
    challenge = province.request("POST", "/challenges", Role.VERIFIER).json()["challenge"]
    presentation = holder.present(
        [(credential, ["registeredCapital"])], challenge=challenge, domain=province.did
    )
    text = json.dumps(presentation)
    with portal(province) as server:
        with_file = post(server, form(text=text, certificate=sample_pdf()))
        first = post(server, form(text=text))
        replay = post(server, form(text=text))
    assert with_file.status == 422
    assert ZH["error_file_with_presentation"] in with_file.text  # and the challenge is not used
    page = visible_text(first.text)
    assert ZH["verdict_valid"] in page, page
    face = re.search(r'<dl class="face">(.*?)</dl>', first.text, re.S)
    assert face is not None
    assert "注册资本" in face.group(1)  # disclosed
    assert "名称" in face.group(1)  # a clear claim
    assert "法定代表人" not in face.group(1)  # not disclosed, not shown
    again = visible_text(replay.text)
    assert ZH["verdict_invalid"] in again
    assert "随机挑战已被使用" in again
    assert "challenge_used" in again
    actions = [e.action for e in events(province) if e.action == "presentation.verify"]
    assert actions == ["presentation.verify", "presentation.verify"]


def test_no_verdict_on_the_page_without_its_access_event(
    province: ServedProvince, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = _read(province, _issue_licence(province, Holder.generate().did))
    log = province.parts.audit_log
    before = log.size()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("the disk is full")

    with portal(province) as server:
        monkeypatch.setattr(log, "submit", refuse)
        reply = post(server, form(text=json.dumps(credential)))
        monkeypatch.undo()
    assert reply.status == 503
    assert ZH["error_unavailable"] in reply.text
    assert 'id="verdict-h"' not in reply.text
    assert log.size() == before
