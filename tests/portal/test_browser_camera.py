"""The camera scan in headless Chromium, with a fake webcam showing a printed certificate's QR.

Chromium is launched with its fake capture device playing a Y4M file
(``--use-fake-device-for-media-stream --use-file-for-fake-video-capture``) and its
permission prompt accepted (``--use-fake-ui-for-media-stream``); the file is one
1280x720 frame of the printed page's QR held up to a webcam (cropped, turned,
soft: ``tests.portal.camera``). Headless Chromium on Linux has no
``BarcodeDetector`` (the counter PC's case), so the page script sends frames to
``POST /scan``; the test removes it anyway, so that the server path is the one
tested wherever it runs. The clerk of Guangdong (440000, the shared
``portal_world``) clicks 用摄像头扫码, the text box fills with the printed
``TB1:`` text, the camera stops, the verify button has the focus; verifying gives
VALID from paper. The scan itself records no event; the verification records one.
With no code in view frames go one at a time (never two in flight) and the
camera stops after 60 s (the page's clock, run forward) and says so in words. No
console error (CSP), no serious axe violation, nothing personal in a URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Request, expect

from api.portal.labels import PAGE_TEXT
from api.province.clients import Role
from tests.helpers.provinces import PERSONAL
from tests.portal.browser import DESKTOP, PageWatch, axe_violations, launch_chromium, screenshot
from tests.portal.browser import serious as serious_of
from tests.portal.camera import blank_frame, camera_frame, printed_qr_text, write_y4m
from tests.portal.world import PortalWorld

ZH = PAGE_TEXT["zh"]
NO_PAGE_DETECTOR = "delete window.BarcodeDetector;"
# Waits go through locators: page.wait_for_function may poll its predicate through
# eval, which the page's CSP (no 'unsafe-eval') refuses.


@contextmanager
def _webcam(world: PortalWorld, video: Path) -> Iterator[Browser]:
    """A Chromium of its own whose only camera plays ``video`` (the flags are launch-wide)."""
    browser = launch_chromium(
        world.playwright,
        [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        yield browser
    finally:
        browser.close()


def _clerk_page(world: PortalWorld, browser: Browser, watch: PageWatch) -> Page:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    context.add_init_script(NO_PAGE_DETECTOR)
    page = context.new_page()
    watch.attach(page)
    world.sign_in(page, "clerk1")
    return page


def _printed_pdf(world: PortalWorld, digest: str) -> bytes:
    reply = world.issuing.request(
        "GET", f"/credentials/{digest}/certificate.pdf", Role.ISSUER, headers=PERSONAL
    )
    assert reply.status == 200, reply.text
    return reply.body


def _camera_off(page: Page) -> bool:
    """The video is out of sight and holds no stream (its tracks were stopped)."""
    released: bool = page.evaluate("document.getElementById('scan-video').srcObject === null")
    return released and page.locator("#scan-video").is_hidden()


def _no_personal_data_in(urls: list[str], credential: dict[str, Any]) -> None:
    values = [v for v in credential["credentialSubject"].values() if isinstance(v, str)]
    values.append(credential["zhengzhao"]["identifier"])
    for url in urls:
        assert "TB1" not in url, url
        for value in values:
            assert value not in url, url


def test_the_clerk_scans_a_printed_qr_with_the_webcam_and_verifies_it_valid(
    portal_world: PortalWorld, tmp_path: Path
) -> None:
    world = portal_world
    digest, credential = world.issue_licence()
    pdf = _printed_pdf(world, digest)
    video = tmp_path / "printed-qr.y4m"
    write_y4m(camera_frame(pdf), str(video))
    log = world.verifying.parts.audit_log
    watch = PageWatch()
    with _webcam(world, video) as browser:
        page = _clerk_page(world, browser, watch)
        assert page.evaluate("'BarcodeDetector' in window") is False
        start = page.locator("#scan-start")
        assert start.is_visible(), "the scan button shows where getUserMedia exists"
        assert serious_of(axe_violations(page)) == []
        before = log.size()
        with page.expect_response(lambda r: r.url.endswith("/scan")) as first:
            start.click()
        assert first.value.status == 200
        expect(page.locator("#text")).to_have_value(re.compile("^TB1:"), timeout=30_000)
        assert log.size() == before, "scanning verifies nothing and records no event"
        assert page.input_value("#text") == printed_qr_text(pdf)
        assert page.locator("#scan-status").inner_text() == ZH["scan_found"]
        assert _camera_off(page)
        assert page.evaluate(
            "document.activeElement === document.querySelector('#verify-form button.primary')"
        ), "the verify button has the focus"
        assert page.locator("#scan-start").is_visible()
        assert serious_of(axe_violations(page)) == []
        screenshot(page, "scan-desktop")
        page.select_option("#purpose", "audit.review")
        page.click("button.primary")
        page.wait_for_selector("#verdict-h")
        verdict = page.locator(".verdict").inner_text()
        assert ZH["verdict_valid"] in verdict
        assert ZH["paper"] in verdict
        assert credential["zhengzhao"]["identifier"] in page.locator("main").inner_text()
        appended = [r.event.action for r in log.iterate(before)]
        assert appended == ["credential.verify"]
        page.context.close()
    assert watch.errors == [], "\n".join(watch.errors)
    scans = [u for u in watch.urls if u.endswith("/scan")]
    assert scans, "the frames went to the server's decoder"
    _no_personal_data_in(watch.urls, credential)


def test_with_no_code_in_view_the_camera_stops_after_sixty_seconds_and_says_so(
    portal_world: PortalWorld, tmp_path: Path
) -> None:
    world = portal_world
    video = tmp_path / "no-code.y4m"
    write_y4m(blank_frame(), str(video))
    watch = PageWatch()
    with _webcam(world, video) as browser:
        page = _clerk_page(world, browser, watch)
        page.clock.install()
        in_flight: list[int] = [0]
        most: list[int] = [0]

        def sent(request: Request) -> None:
            if request.url.endswith("/scan"):
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])

        def done(request: Request) -> None:
            if request.url.endswith("/scan"):
                in_flight[0] -= 1

        page.on("request", sent)
        page.on("requestfinished", done)
        page.on("requestfailed", done)
        with page.expect_response(lambda r: r.url.endswith("/scan")) as first:
            page.click("#scan-start")
        assert first.value.json() == {"found": False}
        for _ in range(3):
            page.wait_for_event("requestfinished", lambda r: r.url.endswith("/scan"))
        assert most[0] == 1, "one frame in flight at a time"
        assert page.locator("#scan-status").inner_text() == ZH["scan_looking"]
        assert not _camera_off(page)
        assert page.locator("#scan-video").is_visible()
        assert serious_of(axe_violations(page)) == []
        screenshot(page, "scan-looking-desktop")
        page.clock.fast_forward("01:01")
        expect(page.locator("#scan-video")).to_be_hidden()
        assert page.locator("#scan-status").inner_text() == ZH["scan_timeout"]
        assert _camera_off(page)
        assert page.input_value("#text") == ""
        page.context.close()
    assert watch.errors == [], "\n".join(watch.errors)
