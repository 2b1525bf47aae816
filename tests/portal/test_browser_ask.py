"""Asking the citizen to present, in headless Chromium over the real service, chain and provider.

In the shared two-province world (``portal_world``, tests/portal/world.py): Zhejiang
(330000) issues a business licence into the citizen's CLI wallet; a clerk of
Guangdong (440000) signs in through the provider, asks for two claims on ``/ask``,
and the page shows the QR code (served from its own origin) and the
``openid4vp://`` link. The CLI wallet (``tongban wallet respond``, a real process)
answers with those two claims; the page's ES module polls and shows VALID with
exactly the credential's clear claims and those two. The issuer revokes through its
API; once 440000's index has the revocation, the same flow in a browser without
script (the "刷新" button) shows INVALID with "证照已被撤销".
On every page: no console error (CSP), no serious axe-core violation, no personal
data in any URL the browser asked for; the verifications are 440000's access events,
by a ``staff:`` actor.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from api.client.wallet import Wallet
from api.portal.ask_text import ASK_TEXT
from api.portal.labels import PAGE_TEXT, claim_label
from api.province.clients import Role
from tests.helpers.processes import TONGBAN, tongban_env, wait_for
from tests.helpers.provinces import FAST
from tests.helpers.routes import events
from tests.portal.browser import DESKTOP, PageWatch, PortalServer, axe_violations, serious
from tests.portal.world import PortalWorld

ZH = PAGE_TEXT["zh"]
ASK = ASK_TEXT["zh"]
PASSPHRASE = "correct horse battery staple"
ASKED = ("registeredCapital", "legalRepresentative")


def _wallet_with_licence(world: PortalWorld, home: Path) -> tuple[str, dict[str, Any]]:
    wallet = Wallet.create(home, PASSPHRASE, kdf=FAST)
    digest, credential = world.issue_licence(wallet.did)
    wallet.receive(credential)
    return digest, credential


def _respond(link: str, home: Path) -> None:
    environment = tongban_env(TONGBAN_WALLET=str(home), TONGBAN_WALLET_PASSPHRASE=PASSPHRASE)
    done = subprocess.run(
        [TONGBAN, "wallet", "respond", link],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def _accessible(page: Page) -> None:
    found = axe_violations(page)
    assert serious(found) == [], found


def _ask(page: Page, portal: PortalServer, *, script: bool = True) -> str:
    """Fill the ask form; the link the waiting page shows."""
    page.goto(f"{portal.base}/ask")
    assert page.locator("h1").inner_text() == ASK["ask_title"]
    if script:
        _accessible(page)
    page.fill("#claims", ",".join(ASKED))
    page.select_option("#purpose", "audit.review")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/ask/[A-Za-z0-9_-]+(\?.*)?$"))
    assert page.locator("h1").inner_text() == ASK["wait_title"]
    if script:  # (axe and the image check run as page script)
        assert page.evaluate("document.getElementById('ask-qr').naturalWidth") > 0
        _accessible(page)
    link = page.locator("#ask-link").get_attribute("href")
    assert link is not None
    assert link.startswith("openid4vp://")
    return link


def _result(page: Page) -> str:
    """Refresh until the result is shown (a condition with a deadline, not a timed assertion)."""

    def shown() -> str | None:
        if page.locator("#verdict-h").count():
            return page.locator("main").inner_text()
        page.click("#ask-refresh")
        page.wait_for_load_state()
        return None

    return wait_for("the result on the clerk's page", shown, timeout=30, interval=0.2)


def test_a_clerk_at_the_second_province_asks_the_cli_wallet_answers_valid_then_revoked_invalid(
    portal_world: PortalWorld, tmp_path: Path
) -> None:
    world = portal_world
    portal = world.portal
    home = tmp_path / "wallet"
    digest, credential = _wallet_with_licence(world, home)
    clear = [k for k in credential["credentialSubject"] if k not in ("id", "_sd")]
    logged = len(events(world.verifying))
    watch = PageWatch()
    page = world.new_page(DESKTOP, signed_in_as=None)
    watch.attach(page)
    world.sign_in(page, "clerk1")
    page.click("#ask-nav")
    page.wait_for_url(f"{portal.base}/ask")

    # With script: the page's ES module polls and shows the result by itself.
    _respond(_ask(page, portal), home)
    page.wait_for_selector("#verdict-h", timeout=30_000)
    text = page.locator("main").inner_text()
    assert ZH["verdict_valid"] in text
    face = page.locator("dl.face").first.locator("dt").all_inner_texts()
    expected = {claim_label(name, "zh") for name in (*clear, *ASKED)}
    assert set(face) == expected
    assert len(face) == len(expected)
    _accessible(page)
    page.context.close()

    # The issuer revokes at 330000; 440000 sees it once its index has the status change.
    change = {"action": "revoke", "digests": [digest]}
    revoked = world.issuing.request("POST", "/credentials/status", Role.ISSUER, json_body=change)
    assert revoked.status == 202, revoked.text

    def is_revoked() -> bool | None:
        world.anchor()
        reply = world.issuing.request("GET", f"/credentials/{digest}/status", Role.ISSUER)
        return True if reply.json()["onChain"]["status"] == "revoked" else None

    wait_for("the revocation on chain", is_revoked, timeout=60)
    world.verifying.sync()

    # Without script (an old counter PC): the refresh button shows the result.
    page = world.new_page(DESKTOP, signed_in_as=None, java_script_enabled=False)
    watch.attach(page)
    world.sign_in(page, "clerk1", "/ask")
    _respond(_ask(page, portal, script=False), home)
    text = _result(page)
    assert ZH["verdict_invalid"] in text
    assert "证照已被撤销" in text
    page.context.close()
    assert watch.errors == []
    subject = credential["credentialSubject"]
    values = [subject["id"], *(str(v) for _, _, v in credential.get("disclosures", []))]
    for url in watch.urls:
        for value in values:
            assert value not in url, url
    # The two answers were verified at 440000, by the signed-in clerk.
    verified = [e for e in events(world.verifying)[logged:] if e.action == "presentation.verify"]
    assert len(verified) == 2, [(e.action, e.actor) for e in verified]
    for event in verified:
        assert event.actor.startswith("staff:"), event.actor
        assert event.actor_org == "440000", event.actor_org
