"""``POST /scan`` (``api.portal.scan``): one camera frame's QR, over a real province and chain.

A webcam frame of a printed certificate (the QR turned, soft, on a desk) answers
``{"found": true, "text": "TB1:..."}`` with the printed text; a frame without a
code ``{"found": false}``; a body over the cap 413; a body that is not a JPEG/PNG
frame 422 (415 for another media type); no session 401 (the real sign-in package,
no override), a session without the verifier role 403; a missing or wrong CSRF
token 403. No call records an event, and neither the frame's text nor a claim
reaches a log record.
"""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from api.http.app import create_app
from api.http.signin import CSRF_HEADER, Provider, Signin, SigninConfig, SigninStore, install_signin
from api.http.signin.session import SESSION_COOKIE
from api.http.signin.store import SessionRow
from api.portal.scan import SCAN_BODY_CAP, SCAN_MAX_PIXELS
from api.province.clients import Role
from credentials.holder import Holder
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import issue
from tests.helpers.server import ApiServer, Reply
from tests.portal.camera import blank_frame, camera_frame, jpeg, printed_qr_text
from tests.portal.helpers import CSRF, portal

LICENCE = "business-licence"
JSON = {"Accept": "application/json"}


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path) as served:
        yield served


def _printed(province: ServedProvince) -> bytes:
    claims = dict(CLAIMS_BY_TEMPLATE[LICENCE])
    digest = issue(province, Holder.generate().did, template=LICENCE, claims=claims)["digest"]
    province.anchor_all()
    pdf = province.request(
        "GET", f"/credentials/{digest}/certificate.pdf", Role.ISSUER, headers=PERSONAL
    )
    assert pdf.status == 200, pdf.text
    return pdf.body


def _scan(
    server: ApiServer,
    body: bytes,
    *,
    csrf: str | None = CSRF,
    media_type: str = "image/jpeg",
) -> Reply:
    headers = {"Content-Type": media_type, **JSON}
    if csrf is not None:
        headers[CSRF_HEADER] = csrf
    return server.request("POST", "/scan", body=body, headers=headers)


def _png(size: tuple[int, int]) -> bytes:
    stored = io.BytesIO()
    Image.new("L", size, 255).save(stored, "PNG")
    return stored.getvalue()


def test_a_webcam_frame_of_a_printed_certificate_answers_its_tb1_text_and_records_nothing(
    province: ServedProvince, caplog: pytest.LogCaptureFixture
) -> None:
    pdf = _printed(province)
    frame = jpeg(camera_frame(pdf))
    assert len(frame) < SCAN_BODY_CAP
    log = province.parts.audit_log
    with caplog.at_level(logging.DEBUG), portal(province) as server:
        before = log.size()
        found = _scan(server, frame)
        as_png = io.BytesIO()
        camera_frame(pdf).save(as_png, "PNG")
        found_png = _scan(server, as_png.getvalue(), media_type="image/png")
        appended = log.size() - before
    assert found.status == 200, found.text
    answer = found.json()
    printed = printed_qr_text(pdf)
    assert answer == {"found": True, "text": printed}
    assert printed.startswith("TB1:")
    assert found_png.json() == answer
    assert found.header("Cache-Control") == "no-store"
    assert appended == 0, "a scan verifies nothing and records no event"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert printed not in logged
    assert printed[4:40] not in logged
    for value in CLAIMS_BY_TEMPLATE[LICENCE].values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in logged, "a claim in the logs"


def test_a_frame_without_a_code_answers_not_found(province: ServedProvince) -> None:
    with portal(province) as server:
        reply = _scan(server, jpeg(blank_frame()))
    assert reply.status == 200, reply.text
    assert reply.json() == {"found": False}


def test_a_frame_over_the_cap_is_refused_with_413(province: ServedProvince) -> None:
    oversized = b"\xff\xd8\xff" + secrets.token_bytes(SCAN_BODY_CAP)
    with portal(province) as server:
        reply = _scan(server, oversized)
    assert reply.status == 413
    assert reply.json()["code"] == "body-too-large"


def test_a_body_that_is_not_a_jpeg_or_png_frame_is_refused_with_422(
    province: ServedProvince,
) -> None:
    side = int(SCAN_MAX_PIXELS**0.5) + 1
    with portal(province) as server:
        text = _scan(server, b"TB1:not-an-image")
        truncated = _scan(server, jpeg(blank_frame())[:200])
        pdf = _scan(server, b"%PDF-1.7\n" + b"0" * 100)
        huge = _scan(server, _png((side, side)), media_type="image/png")
        other_type = _scan(server, jpeg(blank_frame()), media_type="application/json")
    for reply in (text, truncated, pdf, huge):
        assert reply.status == 422, reply.text
        assert reply.json()["code"] == "validation-failed"
        assert "TB1" not in reply.text
    assert other_type.status == 415


def test_a_scan_without_or_with_a_wrong_csrf_token_is_refused_with_403(
    province: ServedProvince,
) -> None:
    frame = jpeg(blank_frame())
    with portal(province) as server:
        missing = _scan(server, frame, csrf=None)
        wrong = _scan(server, frame, csrf="csrf-" + "x" * 27)
    assert missing.status == 403
    assert wrong.status == 403
    assert CSRF not in wrong.text


@contextmanager
def _signed_in_app(province: ServedProvince) -> Iterator[tuple[ApiServer, Signin]]:
    """The app with the real sign-in package (no override); sessions are stored directly."""
    app = create_app(province.context)
    config = SigninConfig(
        issuer="http://127.0.0.1:9",  # never contacted: sessions are looked up in the store
        client_id="portal",
        client_secret="s" * 40,
        redirect_uri="http://127.0.0.1/signin/callback",
        organisation="330000",
        subject_key=secrets.token_bytes(32),
        group_roles={"counter-verifiers": frozenset({Role.VERIFIER})},
        secure_cookies=False,
    )
    context = province.context
    signin = Signin(config, SigninStore(context.db), context.audit_log, Provider(config.issuer))
    install_signin(app, signin)
    server = ApiServer(app)
    server.start()
    try:
        yield server, signin
    finally:
        server.stop()


def _session(signin: Signin, role: str) -> tuple[str, str]:
    """A stored session holding ``role``: its cookie header and its CSRF token."""
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = signin.now_ms()
    row = SessionRow("idp-sub", "窗口", (role,), csrf, now, now + 600_000, now + 3_600_000)
    signin.store.create_session(session_id, row)
    return f"{signin.cookie_name(SESSION_COOKIE)}={session_id}", csrf


def test_a_scan_needs_a_staff_session_with_the_verifier_role(province: ServedProvince) -> None:
    frame = jpeg(blank_frame())
    with _signed_in_app(province) as (server, signin):
        headers = {"Content-Type": "image/jpeg", CSRF_HEADER: CSRF}
        no_session = server.request("POST", "/scan", body=frame, headers={**headers, **JSON})
        as_page = server.request(
            "POST", "/scan", body=frame, headers={**headers, "Accept": "text/html"}
        )
        cookie, csrf = _session(signin, Role.AUDITOR)
        sent = {**headers, **JSON, "Cookie": cookie, CSRF_HEADER: csrf}
        auditor = server.request("POST", "/scan", body=frame, headers=sent)
        cookie, csrf = _session(signin, Role.VERIFIER)
        sent = {**headers, **JSON, "Cookie": cookie}
        wrong_csrf = server.request("POST", "/scan", body=frame, headers=sent)
        clerk = server.request("POST", "/scan", body=frame, headers={**sent, CSRF_HEADER: csrf})
    assert no_session.status == 401
    assert no_session.json()["code"] == "unauthenticated"
    assert as_page.status == 401, "a POST is never redirected to sign-in"
    assert auditor.status == 403
    assert wrong_csrf.status == 403
    assert clerk.status == 200, clerk.text
    assert clerk.json() == {"found": False}
