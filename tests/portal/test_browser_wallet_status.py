"""The wallet's live status and its "who accessed my data" timeline, in headless Chromium.

In the shared world (``portal_world``, docs/wallet.md "Live status" and "The timeline"): a
citizen's browser wallet holds a business licence Zhejiang (330000) issued to its DID. The
wallet fetches the licence's Bitstring Status Lists from 330000 (another origin: the list
route answers ``Access-Control-Allow-Origin: *``), checks each list's proof with the key
IssuerRegistry holds (read from the chain node) and shows 有效; the issuer revokes, the
revocation is anchored and the list republished, and after a reload the wallet shows 已撤销.
Clerks at 330000 and at 440000 verify the licence under two different purposes; the timeline
(the consortium directory from 440000, both provinces asked with the holder's key) shows both
accesses, each with its province, purpose in words and legal basis, proved against that
province's anchored log. Guangdong's citizen server is then stopped: the timeline shows it
unreachable while Zhejiang still answers (the server is started again on the same port).
axe-core finds no serious violation; no console error; screenshots at phone width.
"""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page, expect

from api.province.clients import Role
from api.webwallet.text import WALLET_TEXT
from credentials.purposes import label
from credentials.status_list import MAX_LIST_BYTES, bit_at, decode_list
from tests.helpers.contracts import GD, ZJ
from tests.helpers.processes import wait_for
from tests.helpers.provinces import ServedProvince
from tests.portal.browser import PHONE, PageWatch, axe_violations, screenshot, serious
from tests.portal.world import NAMES, PortalWorld

W = WALLET_TEXT["zh"]
PASSPHRASE = "状态 时间线 passphrase 2026"
PURPOSES = {ZJ: "cross-province.enrolment", GD: "social-security.claim"}
BASIS = "prc.pipl.art13"
LONG = 60_000


def _list_base(credential: dict[str, Any]) -> str:
    """The public base the credential's status entries name (``<base>/status-lists/...``)."""
    entries = credential["credentialStatus"]
    url = str((entries if isinstance(entries, list) else [entries])[0]["statusListCredential"])
    return url[: url.index("/status-lists/")]


def _verify(province: ServedProvince, credential: dict[str, Any]) -> None:
    """A clerk at ``province`` verifies ``credential`` under that province's purpose; anchored."""
    purpose = PURPOSES[province.issuer_id]
    reply = province.request(
        "POST",
        "/credentials/verify",
        Role.VERIFIER,
        json_body={"verifiableCredential": credential},
        headers={"X-Purpose": purpose, "X-Legal-Basis": BASIS},
    )
    assert reply.status == 200, reply.text
    province.parts.checkpoints.maybe_checkpoint(force=True)
    province.anchor_all()


def _accessible(page: Page) -> None:
    found = axe_violations(page)
    assert serious(found) == [], found


def _status_line(page: Page) -> Any:
    return page.locator("#credential-list .status-line").first


def _timeline(page: Page) -> None:
    page.click("#timeline-load")
    expect(page.locator("#timeline-result")).not_to_have_text(W["working"], timeout=LONG)
    expect(page.locator("#timeline-provinces li")).to_have_count(2, timeout=LONG)


def test_the_wallet_shows_revoked_and_who_accessed_the_data_in_both_provinces(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    watch = PageWatch()
    page = world.new_page(PHONE, signed_in_as=None, is_mobile=True)
    watch.attach(page)
    page.goto(f"{world.wallet.base}/wallet")
    page.wait_for_selector("main[data-ready='true']")
    page.fill("#new-passphrase", PASSPHRASE)
    page.fill("#new-passphrase-again", PASSPHRASE)
    page.click("#create-form button")
    expect(page.locator("#status")).to_have_text(W["created"], timeout=LONG)
    did = page.locator("#holder").inner_text().removeprefix(W["unlocked"])

    # A licence from 330000, its status lists published as the writer's duty does.
    digest, credential = world.issue_licence(did)
    assert _list_base(credential) == f"http://127.0.0.1:{world.issuing.server.port}"
    page.fill("#credential-json", json.dumps(credential, ensure_ascii=False))
    page.click("#add-form button")
    expect(page.locator("#status")).to_have_text(W["added"], timeout=LONG)
    line = _status_line(page)
    expect(line).to_have_attribute("data-status", "valid", timeout=LONG)
    assert line.inner_text() == W["status_label"] + W["status_valid"]
    _accessible(page)
    screenshot(page, "wallet-status-phone")

    # The issuer revokes; once on chain and republished, a reload shows 已撤销.
    change = {"action": "revoke", "digests": [digest]}
    revoked = world.issuing.request("POST", "/credentials/status", Role.ISSUER, json_body=change)
    assert revoked.status == 202, revoked.text

    entry = next(e for e in credential["credentialStatus"] if e["statusPurpose"] == "revocation")
    path = entry["statusListCredential"].removeprefix(_list_base(credential))

    def republished() -> bool | None:
        world.anchor()
        world.issuing.sync()
        world.status_lists.run()
        reply = world.issuing.request("GET", path, Role.HOLDER)
        assert reply.status == 200, reply.text
        assert reply.header("Access-Control-Allow-Origin") == "*"
        encoded = reply.json()["credentialSubject"]["encodedList"]
        bits = decode_list(encoded, max_bytes=MAX_LIST_BYTES)
        return True if bit_at(bits, int(entry["statusListIndex"])) else None

    wait_for("the revocation in the status list", republished, timeout=60)
    page.reload()
    page.wait_for_selector("main[data-ready='true']")
    page.fill("#passphrase", PASSPHRASE)
    page.click("#unlock-form button")
    line = _status_line(page)
    expect(line).to_have_attribute("data-status", "revoked", timeout=LONG)
    assert line.inner_text() == W["status_label"] + W["status_revoked"]

    # Clerks at both provinces verify the licence, each under its own purpose.
    _verify(world.issuing, credential)
    _verify(world.verifying, credential)
    _timeline(page)
    provinces = page.locator("#timeline-provinces li")
    assert provinces.evaluate_all("(items) => items.map((i) => i.dataset.status)") == [
        "answered",
        "answered",
    ]
    # Issuing and revoking at 330000 are accesses too: the two verifications are looked for.
    texts = page.locator("#timeline-entries li").all_inner_texts()
    for issuer in (ZJ, GD):
        purpose = label(PURPOSES[issuer])
        shown = [t for t in texts if NAMES[issuer] in t and f"({PURPOSES[issuer]})" in t]
        assert shown, texts
        assert f"{purpose.zh} ({PURPOSES[issuer]})" in shown[0]
        assert BASIS in shown[0]
        assert W["timeline_proved"] in shown[0]
        assert "(UTC+8)" in shown[0]
    assert any(NAMES[GD] in t for t in texts)
    assert all("[object" not in t for t in texts), texts
    _accessible(page)
    screenshot(page, "wallet-timeline-phone")

    # Guangdong's citizen server stops: shown unreachable, Zhejiang still answers.
    stopped = world.citizen[GD]
    stopped.stop()
    try:
        _timeline(page)
        status = {
            item.get_attribute("data-issuer"): item.get_attribute("data-status")
            for item in page.locator("#timeline-provinces li").all()
        }
        assert status == {str(ZJ): "answered", str(GD): "unreachable"}
        gd_line = page.locator(f"#timeline-provinces li[data-issuer='{GD}']").inner_text()
        assert gd_line.startswith(f"{NAMES[GD]}: {W['timeline_unreachable']}")
        left = page.locator("#timeline-entries li").all_inner_texts()
        assert left
        assert all(NAMES[ZJ] in t for t in left), left
    finally:
        stopped.start()

    # English: the same page's words (purpose and status) in English.
    page.goto(f"{world.wallet.base}/wallet?lang=en")
    page.wait_for_selector("main[data-ready='true']")
    en = WALLET_TEXT["en"]
    page.fill("#passphrase", PASSPHRASE)
    page.click("#unlock-form button")
    expect(_status_line(page)).to_have_text(en["status_label"] + en["status_revoked"], timeout=LONG)
    _timeline(page)
    english = page.locator("#timeline-entries").inner_text()
    assert label(PURPOSES[GD]).en in english
    page.context.close()
    # A CSP or CORS refusal would be a console error; the stopped province's refused
    # connection is the one expected.
    refused = [e for e in watch.errors if "ERR_CONNECTION_REFUSED" not in e]
    assert refused == [], watch.errors
