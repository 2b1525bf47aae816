"""The consoles in Debian's Chromium over the real provider (``portal_world``, 440000).

- An auditor (``auditor1``) finds a verification by time and purpose, opens it
  (receipt, inclusion proof, the ``#browser-proof`` data), views the anomaly
  charts, exports the log and verifies the export on the page.
- An operator (``operator1``) creates an API client (its token shown once),
  revokes it, and rotates the signing key.
- A verifier (``clerk1``) is refused both consoles, each refusal an
  ``api.denied`` event in 440000's log.
- An event altered directly in 440000's SQLite file (no hook in the app) is
  flagged by the event page and by the export check; the test puts the row back.

Every page: no serious or critical axe-core violation, no CSP violation or script
error; screenshots ``portal-console-*`` (desktop and phone).
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from api.portal.console.words import CONSOLE_TEXT
from api.province.clients import Role
from ledger.audit.events import AccessEvent
from tests.helpers.provinces import PERSONAL, ServedProvince
from tests.portal.browser import DESKTOP, PHONE, PageWatch, axe_violations, screenshot, serious
from tests.portal.world import PortalWorld

ZH, EN = CONSOLE_TEXT["zh"], CONSOLE_TEXT["en"]
CHINA = timezone(timedelta(hours=8))


def _accessible(page: Page) -> None:
    found = axe_violations(page)
    assert serious(found) == [], found


def _log(province: ServedProvince) -> list[AccessEvent]:
    return [r.event for r in province.parts.audit_log.iterate()]


def _verification(world: PortalWorld) -> int:
    """A licence verified at 440000 over its API, checkpointed and anchored: its event index."""
    _, credential = world.issue_licence()
    verifying = world.verifying
    before = verifying.parts.audit_log.size()
    reply = verifying.request(
        "POST",
        "/credentials/verify",
        Role.VERIFIER,
        json_body={"verifiableCredential": credential},
        headers=PERSONAL,
    )
    assert reply.status == 200, reply.text
    index = next(
        before + i
        for i, e in enumerate(_log(verifying)[before:])
        if e.action == "credential.verify"
    )
    verifying.parts.checkpoints.maybe_checkpoint(force=True)
    verifying.anchor_all()
    return index


def _search(page: Page, since: datetime) -> None:
    page.fill("#since", since.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#event_purpose", "cross-province.enrolment")
    page.fill("#action", "credential.verify")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#results-title")


def _export_and_check(page: Page, folder: Path) -> Page:
    with page.expect_download() as download:
        page.click("#export-form button[type=submit]")
    saved = folder / f"audit-{uuid.uuid4().hex}.jsonl"
    download.value.save_as(saved)
    assert saved.stat().st_size > 0
    page.set_input_files("#export-file", str(saved))
    page.click("#verify-export-form button[type=submit]")
    page.wait_for_selector("#export-verdict")
    return page


def test_an_auditor_finds_a_verification_opens_it_views_anomalies_exports_and_verifies(
    portal_world: PortalWorld, tmp_path: Path
) -> None:
    world = portal_world
    started = datetime.now(CHINA) - timedelta(minutes=1)
    index = _verification(world)
    page = world.new_page(DESKTOP, signed_in_as="auditor1")
    watch = PageWatch()
    watch.attach(page)
    page.goto(f"{world.portal.base}/console/")
    page.wait_for_url(f"{world.portal.base}/console/audit")
    assert page.locator("h1").inner_text() == ZH["audit_title"]
    _accessible(page)
    _search(page, started)
    row = page.locator(f'#results tr[data-index="{index}"]')
    assert row.count() == 1
    assert "跨省通办事项受理登记" in row.inner_text()
    _accessible(page)
    screenshot(page, "console-audit-search-desktop")
    row.locator("a").click()
    page.wait_for_selector("#receipt-check")
    assert page.locator("#receipt-check").get_attribute("data-matches") == "true"
    proof = page.locator("#browser-proof")
    assert proof.get_attribute("data-index") == str(index)
    assert int(proof.get_attribute("data-tree-size") or "0") > index
    assert len(proof.get_attribute("data-root") or "") == 64
    _accessible(page)
    screenshot(page, "console-event-desktop")
    page.goto(f"{world.portal.base}/console/audit")
    page.click("#anomalies-form button[type=submit]")
    page.wait_for_selector("#anomaly-report svg[role=img]")
    assert page.locator("#chart-days title").first.text_content() == ZH["chart_days"]
    _accessible(page)
    screenshot(page, "console-anomalies-desktop")
    checked = _export_and_check(page, tmp_path)
    assert checked.locator("#export-verdict").get_attribute("data-valid") == "true"
    assert ZH["export_valid"] in checked.locator("main").inner_text()
    _accessible(checked)
    screenshot(checked, "console-export-check-desktop")
    page.context.close()
    assert watch.errors == [], watch.errors


def test_the_audit_console_on_a_phone_in_english(portal_world: PortalWorld) -> None:
    world = portal_world
    page = world.new_page(PHONE, signed_in_as="auditor1", locale="en-GB", is_mobile=True)
    watch = PageWatch()
    watch.attach(page)
    page.goto(f"{world.portal.base}/console/audit?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == EN["audit_title"]
    _accessible(page)
    screenshot(page, "console-audit-phone")
    page.context.close()
    assert watch.errors == [], watch.errors


def test_an_operator_creates_and_revokes_a_client_and_rotates_a_key(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    verifying = world.verifying
    before = verifying.parts.audit_log.size()
    page = world.new_page(DESKTOP, signed_in_as="operator1")
    watch = PageWatch()
    watch.attach(page)
    page.goto(f"{world.portal.base}/console/")
    page.wait_for_url(f"{world.portal.base}/console/operator")
    assert page.locator("#figures").count() == 1
    assert page.locator("#chart-issued").count() == 1
    _accessible(page)
    screenshot(page, "console-operator-desktop")
    client_id = f"console-{uuid.uuid4().hex[:8]}"
    page.fill("#client-name", "Counter desk 7")
    page.fill("#client-org", "440000")
    page.fill("#client-id", client_id)
    page.check("input[name=roles][value=verifier]")
    page.click("#create-client-form button[type=submit]")
    token = page.locator("#new-token").inner_text()
    assert token.startswith("tb_")
    assert verifying.context.clients.find_by_token(token) is not None
    _accessible(page)
    page.goto(f"{world.portal.base}/console/operator")
    assert token not in page.content()  # shown once
    page.locator(f'tr[data-client-id="{client_id}"] button').click()
    page.wait_for_selector("#console-notice")
    states = {c.client_id: c.active for c in verifying.context.clients.list()}
    assert states[client_id] is False
    key_id = f"key-c{uuid.uuid4().hex[:6]}"
    page.fill("#key_id", key_id)
    page.click("#rotate-form button[type=submit]")
    page.wait_for_selector("#console-notice")
    assert key_id in page.locator("#console-notice").inner_text()
    _accessible(page)
    page.context.close()
    recorded = [
        (e.action, e.outcome)
        for e in _log(verifying)[before:]
        if e.action.startswith(("api.client", "issuer.key"))
    ]
    assert recorded == [
        ("api.client_create", "success"),
        ("api.client_revoke", "success"),
        ("issuer.key.rotate", "success"),
    ]
    assert watch.errors == [], watch.errors
    phone = world.new_page(PHONE, signed_in_as="operator1", is_mobile=True)
    phone.goto(f"{world.portal.base}/console/operator")
    _accessible(phone)
    screenshot(phone, "console-operator-phone")
    phone.context.close()


def test_a_verifier_is_refused_both_consoles_each_refusal_an_audited_event(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    verifying = world.verifying
    before = verifying.parts.audit_log.size()
    page = world.new_page(DESKTOP)  # clerk1: the verifier role only
    watch = PageWatch()
    watch.attach(page)
    for path in ("/console/audit", "/console/operator"):
        answer = page.goto(f"{world.portal.base}{path}")
        assert answer is not None
        assert answer.status == 403
        assert page.locator("#page-error").count() == 1
        _accessible(page)
    screenshot(page, "console-refused-desktop")
    page.context.close()
    denied = [e for e in _log(verifying)[before:] if e.action == "api.denied"]
    assert len(denied) == 2
    assert {e.outcome for e in denied} == {"denied"}
    assert len({e.actor for e in denied}) == 1
    assert denied[0].actor.startswith("staff:")
    assert [e for e in watch.errors if "status of 403" not in e] == [], watch.errors


def test_an_unsigned_visitor_is_sent_to_sign_in(portal_world: PortalWorld) -> None:
    world = portal_world
    page = world.new_page(DESKTOP, signed_in_as=None)
    watch = PageWatch()
    watch.attach(page)
    page.goto(f"{world.portal.base}/console/")
    # Tongban's /signin, then the provider's own login step (no session there yet).
    page.wait_for_url(f"{world.idp.issuer}/**")
    assert f"{world.portal.base}/signin?next=%2Fconsole%2F" in watch.urls
    page.context.close()


def _body(store: Path, index: int) -> bytes:
    with sqlite3.connect(store, timeout=30) as connection:
        row = connection.execute("SELECT body FROM audit_events WHERE seq = ?", (index,)).fetchone()
    body: Any = row[0]
    return bytes(body)


def _write_body(store: Path, index: int, body: bytes) -> None:
    connection = sqlite3.connect(store, timeout=30)
    try:
        with connection:
            connection.execute("UPDATE audit_events SET body = ? WHERE seq = ?", (body, index))
    finally:
        connection.close()


def test_an_event_altered_in_the_provinces_database_is_flagged_by_the_audit_console(
    portal_world: PortalWorld, tmp_path: Path
) -> None:
    world = portal_world
    index = _verification(world)
    store = world.verifying.parts.settings.store_path
    original = _body(store, index)
    assert b'"outcome":"success"' in original
    _write_body(store, index, original.replace(b'"outcome":"success"', b'"outcome":"denied"'))
    try:
        page = world.new_page(DESKTOP, signed_in_as="auditor1")
        watch = PageWatch()
        watch.attach(page)
        page.goto(f"{world.portal.base}/console/audit/events/{index}")
        page.click("#event-declare button[type=submit]")
        page.wait_for_selector("#receipt-check")
        assert page.locator("#receipt-check").get_attribute("data-matches") == "false"
        assert ZH["receipt_bad"] in page.locator("main").inner_text()
        page.goto(f"{world.portal.base}/console/audit")
        checked = _export_and_check(page, tmp_path)
        assert checked.locator("#export-verdict").get_attribute("data-valid") == "false"
        flagged = checked.locator(f'#findings tr[data-kind="altered"][data-index="{index}"]')
        assert flagged.count() == 1
        assert ZH["finding_altered"] in flagged.inner_text()
        _accessible(checked)
        screenshot(checked, "console-export-altered-desktop")
        page.context.close()
        assert watch.errors == [], watch.errors
    finally:
        _write_body(store, index, original)
