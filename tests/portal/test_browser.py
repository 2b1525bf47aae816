"""The verifier page in headless Chromium over the real service, chain and identity provider.

A clerk signs in through the province's OpenID provider (authorization code with
PKCE, H9's relying party), lands on ``/``, pastes an anchored credential or uploads
a printed certificate's PDF, and reads the verdict, the checks and the certificate
face. On every page: no console error (CSP violations are console errors), no
uncaught script error, no serious or critical axe-core violation (WCAG 2.2 A/AA
rules), no personal data in any URL the browser asked for. Screenshots at desktop
(1366x768) and phone (390x844) widths go to docs/images/portal-*.png.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from PIL import Image, ImageFilter
from playwright.sync_api import FilePayload, Page

from api.portal.labels import PAGE_TEXT
from api.province.clients import Role
from credentials.holder import Holder
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue
from tests.portal.browser import (
    DESKTOP,
    PHONE,
    PageWatch,
    PortalServer,
    axe_violations,
    chromium,
    portal_with_signin,
    screenshot,
    serious,
)

ZH = PAGE_TEXT["zh"]
EN = PAGE_TEXT["en"]
LICENCE = "business-licence"


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path) as served:
        yield served


def _licence(province: ServedProvince) -> tuple[str, dict[str, Any]]:
    holder = Holder.generate().did
    claims = dict(CLAIMS_BY_TEMPLATE[LICENCE])
    digest: str = issue(province, holder, template=LICENCE, claims=claims)["digest"]
    province.anchor_all()
    reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    assert reply.status == 200, reply.text
    credential: dict[str, Any] = reply.json()["credential"]
    return digest, credential


def _phone_photo(pdf: bytes) -> tuple[bytes, tuple[int, int]]:
    """A phone photo of the printed page's QR: cropped with a margin, crooked, soft, JPEG."""
    page = pypdfium2.PdfDocument(pdf)[0].render(scale=200 / 72).to_pil().convert("RGB")
    [code] = [r for r in zxingcpp.read_barcodes(page) if r.text.startswith("TB1:")]
    corners = code.position
    xs = [corners.top_left.x, corners.top_right.x, corners.bottom_left.x, corners.bottom_right.x]
    ys = [corners.top_left.y, corners.top_right.y, corners.bottom_left.y, corners.bottom_right.y]
    margin = (max(xs) - min(xs)) // 3
    box = (min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin)
    photo = page.crop(box).rotate(
        4, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(236, 232, 224)
    )
    photo = photo.filter(ImageFilter.GaussianBlur(0.8))
    stored = io.BytesIO()
    photo.save(stored, "JPEG", quality=60)
    return stored.getvalue(), page.size


def _sign_in(page: Page, portal: PortalServer) -> None:
    # The demo provider signs in the account named by login_hint (no password).
    page.goto(f"{portal.base}/signin?next=/&login_hint=clerk1")
    page.wait_for_url(f"{portal.base}/")


def _accessible(page: Page) -> None:
    found = axe_violations(page)
    assert serious(found) == [], found


def _no_personal_data_in(urls: list[str], credential: dict[str, Any]) -> None:
    subject = credential["credentialSubject"]
    secrets_ = [subject["id"], *(str(v) for _, _, v in credential.get("disclosures", []))]
    for url in urls:
        for value in secrets_:
            assert value not in url, url


def test_a_clerk_signs_in_verifies_a_pasted_certificate_and_signs_out(
    province: ServedProvince, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, credential = _licence(province)
    watch = PageWatch()
    caplog.set_level(logging.DEBUG)
    with portal_with_signin(province, tmp_path) as portal, chromium() as browser:
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        page = context.new_page()
        # Not signed in: the page sends the browser to the province's sign-in (the demo
        # provider then refuses: no account named).
        first = page.goto(f"{portal.base}/")
        assert first is not None
        chain, step = [], first.request.redirected_from
        while step is not None:
            chain.append(step.url)
            step = step.redirected_from
        assert f"{portal.base}/signin?next=%2F" in chain, chain
        watch.attach(page)
        _sign_in(page, portal)
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.locator("h1").inner_text() == ZH["verify_title"]
        assert "窗口一号" in page.locator("header").inner_text()
        _accessible(page)
        # Keyboard: the first Tab reaches the skip link, which leads to the main content.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        screenshot(page, "verify-desktop")

        # The ES module (loaded under the page's CSP) takes a JSON file dropped on the box.
        dropped = page.evaluate_handle(
            """(text) => {
                const data = new DataTransfer();
                data.items.add(new File([text], "credential.json", {type: "application/json"}));
                return data;
            }""",
            json.dumps(credential),
        )
        page.dispatch_event("#text", "drop", {"dataTransfer": dropped})
        page.wait_for_function("document.getElementById('text').value.length > 0")
        assert json.loads(page.input_value("#text")) == credential
        page.select_option("#purpose", "audit.review")
        page.click("button.primary")
        page.wait_for_selector("#verdict-h")
        assert page.locator("h1").inner_text() == ZH["result_title"]
        assert ZH["verdict_valid"] in page.locator(".verdict").inner_text()
        assert page.locator(".check").count() == 8
        face = page.locator(".face").first.inner_text()
        assert "统一社会信用代码" in face
        assert credential["zhengzhao"]["identifier"] in page.locator("main").inner_text()
        _accessible(page)
        screenshot(page, "result-desktop")

        page.click("a.lang")
        page.wait_for_url(f"{portal.base}/?lang=en")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text() == EN["verify_title"]
        _accessible(page)

        cookies = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
        page.click("form.signout button")
        page.wait_for_load_state()
        context.close()
        after = portal.server.request("GET", "/", headers={"Cookie": cookies})
        assert after.status == 401, "sign-out ended the session on the server"

        # A staff member without the verifier role is refused the page.
        other = browser.new_context(viewport=DESKTOP)
        refused = other.new_page()
        answer = refused.goto(f"{portal.base}/signin?next=/&login_hint=nobody1")
        assert answer is not None
        assert answer.status == 403, (answer.url, answer.status, refused.content()[:300])
        assert "verify-form" not in refused.content()
        other.close()

        # Signed in with another Tongban role (auditor): the page's 403 is a page in the
        # portal's layout, not the API's JSON problem.
        auditor = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        desk = auditor.new_page()
        refused_watch = PageWatch()
        refused_watch.attach(desk)
        answer = desk.goto(f"{portal.base}/signin?next=/&login_hint=auditor1")
        assert answer is not None
        assert answer.status == 403, (answer.url, answer.status, desk.content()[:300])
        assert answer.url == f"{portal.base}/"
        assert desk.locator("h1").inner_text() == ZH["page_forbidden_title"]
        assert ZH["page_forbidden"] in desk.locator("main").inner_text()
        assert "Audit Desk" in desk.locator("header").inner_text()
        assert "verify-form" not in desk.content()
        _accessible(desk)
        auditor.close()
        # The browser logs the 403 itself; nothing else (no CSP violation, no script error).
        assert [e for e in refused_watch.errors if "status of 403" not in e] == []
    assert watch.errors == [], "\n".join(watch.errors + watch.urls)
    _no_personal_data_in(watch.urls, credential)
    _no_personal_data_in([r.getMessage() for r in caplog.records], credential)
    [event] = [e for e in events(province) if e.action == "credential.verify"]
    assert event.actor.startswith("staff:")
    assert event.purpose == "audit.review"


def test_on_a_phone_a_printed_certificate_pdf_and_a_photo_of_its_qr_are_verified(
    province: ServedProvince, tmp_path: Path
) -> None:
    digest, credential = _licence(province)
    pdf = province.request(
        "GET", f"/credentials/{digest}/certificate.pdf", Role.ISSUER, headers=PERSONAL
    )
    assert pdf.status == 200, pdf.text
    watch = PageWatch()
    with portal_with_signin(province, tmp_path) as portal, chromium() as browser:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
        page = context.new_page()
        watch.attach(page)
        _sign_in(page, portal)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "no horizontal scrolling on a phone"
        _accessible(page)
        screenshot(page, "verify-phone")
        page.set_input_files(
            "#upload",
            files=[
                FilePayload(name="certificate.pdf", mimeType="application/pdf", buffer=pdf.body)
            ],
        )
        page.select_option("#purpose", "audit.review")
        page.click("button.primary")
        page.wait_for_selector("#verdict-h")
        assert ZH["verdict_valid"] in page.locator(".verdict").inner_text()
        assert ZH["paper"] in page.locator(".verdict").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _accessible(page)
        screenshot(page, "result-phone")

        # A phone photo of the printed QR (not the PDF): uploaded as a JPEG file, VALID.
        photo_file = tmp_path / "qr-photo.jpg"
        taken, (page_width, page_height) = _phone_photo(pdf.body)
        photo_file.write_bytes(taken)
        with Image.open(photo_file) as photo:
            assert photo.format == "JPEG"
            width, height = photo.size
            assert width * height < page_width * page_height / 2, "the QR's region, not the page"
        page.goto(f"{portal.base}/")
        page.set_input_files("#upload", files=str(photo_file))
        page.select_option("#purpose", "audit.review")
        page.click("button.primary")
        page.wait_for_selector("#verdict-h")
        assert ZH["verdict_valid"] in page.locator(".verdict").inner_text()
        assert ZH["paper"] in page.locator(".verdict").inner_text()
        assert "统一社会信用代码" in page.locator(".face").first.inner_text()
        assert credential["zhengzhao"]["identifier"] in page.locator("main").inner_text()
        context.close()
    assert watch.errors == [], "\n".join(watch.errors + watch.urls)
    _no_personal_data_in(watch.urls, credential)
