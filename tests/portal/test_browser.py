"""The verifier page in headless Chromium over the real service, chain and identity provider.

In the shared two-province world (``portal_world``, tests/portal/world.py): Zhejiang
(330000) issues; a clerk of Guangdong (440000) signs in through the provider
(authorization code with PKCE, H9's relying party), lands on ``/``, pastes an
anchored credential or uploads a printed certificate's PDF or a phone photo of its
QR, and reads the verdict, the checks and the certificate face. On every page: no
console error (CSP violations are console errors), no uncaught script error, no
serious or critical axe-core violation (WCAG 2.2 A/AA rules), no personal data in
any URL the browser asked for. The verifications are 440000's access events, by a
``staff:`` actor. Screenshots at desktop (1366x768) and phone (390x844) widths:
``screenshot`` (``make screenshots`` refreshes docs/images/portal-*.png).
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from PIL import Image, ImageFilter
from playwright.sync_api import FilePayload, Page

from api.portal.labels import PAGE_TEXT
from api.province.clients import Role
from ledger.audit.events import AccessEvent
from tests.helpers.provinces import PERSONAL
from tests.helpers.routes import events
from tests.portal.browser import DESKTOP, PHONE, PageWatch, axe_violations, screenshot, serious
from tests.portal.world import PortalWorld

ZH = PAGE_TEXT["zh"]
EN = PAGE_TEXT["en"]


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


def _accessible(page: Page) -> None:
    found = axe_violations(page)
    assert serious(found) == [], found


def _no_personal_data_in(urls: list[str], credential: dict[str, Any]) -> None:
    subject = credential["credentialSubject"]
    secrets_ = [subject["id"], *(str(v) for _, _, v in credential.get("disclosures", []))]
    for url in urls:
        for value in secrets_:
            assert value not in url, url


def _verifications(world: PortalWorld, digest: str) -> list[AccessEvent]:
    """The clerk's verifications of ``digest``: 440000's events, none at the issuer."""
    found = [
        e
        for e in events(world.verifying)
        if e.action == "credential.verify" and digest in e.resource
    ]
    for event in found:
        assert event.actor.startswith("staff:"), event.actor
        assert event.actor_org == "440000", event.actor_org
    assert not [
        e for e in events(world.issuing) if e.action == "credential.verify" and digest in e.resource
    ], "the verification is the verifying province's, not the issuer's"
    return found


def test_a_clerk_at_the_second_province_signs_in_verifies_a_pasted_certificate_and_signs_out(
    portal_world: PortalWorld, caplog: pytest.LogCaptureFixture
) -> None:
    world = portal_world
    portal = world.portal
    digest, credential = world.issue_licence()
    watch = PageWatch()
    caplog.set_level(logging.DEBUG)
    page = world.new_page(DESKTOP, signed_in_as=None)
    context = page.context
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
    world.sign_in(page, "clerk1")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == ZH["verify_title"]
    assert "窗口一号" in page.locator("header").inner_text()
    assert "广东省 · 440000" in page.locator("header").inner_text(), "the clerk's own province"
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
    refused = world.new_page(DESKTOP, signed_in_as=None)
    answer = refused.goto(f"{portal.base}/signin?next=/&login_hint=nobody1")
    assert answer is not None
    assert answer.status == 403, (answer.url, answer.status, refused.content()[:300])
    assert "verify-form" not in refused.content()
    refused.context.close()

    # Signed in with another Tongban role (auditor): the page's 403 is a page in the
    # portal's layout, not the API's JSON problem.
    desk = world.new_page(DESKTOP, signed_in_as=None)
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
    desk.context.close()
    # The browser logs the 403 itself; nothing else (no CSP violation, no script error).
    assert [e for e in refused_watch.errors if "status of 403" not in e] == []
    assert watch.errors == [], "\n".join(watch.errors + watch.urls)
    _no_personal_data_in(watch.urls, credential)
    _no_personal_data_in([r.getMessage() for r in caplog.records], credential)
    [event] = _verifications(world, digest)
    assert event.purpose == "audit.review"


def test_a_clerk_at_the_second_province_verifies_a_printed_pdf_and_a_photo_of_its_qr_on_a_phone(
    portal_world: PortalWorld, tmp_path: Path
) -> None:
    world = portal_world
    digest, credential = world.issue_licence()
    pdf = world.issuing.request(
        "GET", f"/credentials/{digest}/certificate.pdf", Role.ISSUER, headers=PERSONAL
    )
    assert pdf.status == 200, pdf.text
    watch = PageWatch()
    page = world.new_page(PHONE, signed_in_as=None, is_mobile=True)
    watch.attach(page)
    world.sign_in(page, "clerk1")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "no horizontal scrolling on a phone"
    _accessible(page)
    screenshot(page, "verify-phone")
    page.set_input_files(
        "#upload",
        files=[FilePayload(name="certificate.pdf", mimeType="application/pdf", buffer=pdf.body)],
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
    page.goto(f"{world.portal.base}/")
    page.set_input_files("#upload", files=str(photo_file))
    page.select_option("#purpose", "audit.review")
    page.click("button.primary")
    page.wait_for_selector("#verdict-h")
    assert ZH["verdict_valid"] in page.locator(".verdict").inner_text()
    assert ZH["paper"] in page.locator(".verdict").inner_text()
    assert "统一社会信用代码" in page.locator(".face").first.inner_text()
    assert credential["zhengzhao"]["identifier"] in page.locator("main").inner_text()
    page.context.close()
    assert watch.errors == [], "\n".join(watch.errors + watch.urls)
    _no_personal_data_in(watch.urls, credential)
    assert len(_verifications(world, digest)) == 2, "the PDF's and the photo's"
