"""Receiving a credential offer in the browser wallet (issue #18, OpenID4VCI 1.0).

In the shared world (``portal_world``): Zhejiang's (330000) issuing system offers a business
licence through ``POST /credential-offers`` (the link, and the tx_code it would send by text
message). A citizen opens the wallet at phone width (``Math.random`` throws), creates a key,
pastes the link: the page reads the offer and 330000's metadata over CORS from the wallet's
own origin (§4.1.1 by reference; the issuer metadata), shows the issuer and asks for the six
digits. A wrong tx_code is refused in words (§6.3 ``invalid_grant``); the right one is
redeemed (token, nonce, the ``di_vp`` key proof signed in the page, the credential request
after its CORS preflight) and the licence is listed with its offline check passed, issued to
the wallet's DID. Opening the same link again is refused in words: the offer was used. axe-core
finds no serious violation; no console error; screenshot ``wallet-offer-phone``.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from api.province.clients import Role
from api.webwallet.text import WALLET_TEXT
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL
from tests.portal.browser import PHONE, PageWatch, axe_violations, screenshot, serious
from tests.portal.world import PortalWorld

W = WALLET_TEXT["zh"]
PASSPHRASE = "领取 证照 passphrase 2026"
LICENCE = "business-licence"
NO_RANDOM = """
globalThis.__realRandom = Math.random;
globalThis.__noRandom = () => { throw new Error("Math.random is forbidden in the wallet"); };
Math.random = globalThis.__noRandom;
"""


def _accessible(page: Page) -> None:
    # axe-core itself draws from Math.random: given back only while axe runs.
    page.evaluate("() => { Math.random = globalThis.__realRandom; }")
    found = axe_violations(page)
    page.evaluate("() => { Math.random = globalThis.__noRandom; }")
    assert serious(found) == [], found


def _status(page: Page, words: str) -> None:
    # expect() polls from Playwright's own world: the page's CSP forbids eval'd predicates.
    expect(page.locator("#status")).to_have_text(words, timeout=60_000)


def _offer(world: PortalWorld) -> tuple[str, str]:
    """330000's issuing system offers a licence at its portal origin: the link and the tx_code."""
    reply = world.issuing_portal.server.request(
        "POST",
        "/credential-offers",
        json_body={
            "template": LICENCE,
            "claims": dict(CLAIMS_BY_TEMPLATE[LICENCE]),
            "txCodeDescription": "短信发送至预留手机号",
        },
        token=world.issuing.tokens[Role.ISSUER],
        headers=PERSONAL,
    )
    assert reply.status == 201, reply.text
    answer = reply.json()
    assert answer["credentialOffer"].startswith("openid-credential-offer://")
    return answer["credentialOffer"], answer["txCode"]


def test_a_citizen_creates_a_wallet_and_redeems_an_offer_once(portal_world: PortalWorld) -> None:
    world = portal_world
    link, tx_code = _offer(world)
    watch = PageWatch()
    page = world.new_page(PHONE, signed_in_as=None, is_mobile=True)
    page.add_init_script(NO_RANDOM)
    watch.attach(page)
    page.goto(f"{world.wallet.base}/wallet")
    page.wait_for_selector("main[data-ready='true']")

    page.fill("#new-passphrase", PASSPHRASE)
    page.fill("#new-passphrase-again", PASSPHRASE)
    page.click("#create-form button")
    _status(page, W["created"])
    did = page.locator("#holder").inner_text().removeprefix(W["unlocked"])
    assert did.startswith("did:key:z")

    page.fill("#offer-link", link)
    page.click("#offer-form button")
    page.wait_for_selector("#offer-code-form:not([hidden])")
    facts = page.locator("#offer-facts").inner_text()
    assert world.issuing_portal.base in facts
    assert LICENCE in facts
    code = page.locator("#offer-tx-code")
    assert code.get_attribute("inputmode") == "numeric"
    assert code.get_attribute("maxlength") == "6"
    assert code.get_attribute("pattern") == "[0-9]{6}"
    hint = page.locator("#offer-tx-hint").inner_text()
    assert W["offer_tx_digits"].replace("{n}", "6") in hint
    assert "短信发送至预留手机号" in hint
    _accessible(page)

    wrong = f"{(int(tx_code) + 1) % 1_000_000:06d}"
    code.fill(wrong)
    page.click("#offer-code-form button")
    result = page.locator("#offer-result")
    expect(result).to_have_text(
        W["offer_failed"] + "the issuer refused (invalid_grant): wrong tx_code", timeout=60_000
    )
    assert result.get_attribute("class") == "result bad"

    code.fill(tx_code)
    page.click("#offer-code-form button")
    expect(result).to_have_text(W["offer_received"], timeout=60_000)
    assert result.get_attribute("class") == "result ok"
    listed = page.locator("#credential-list").inner_text()
    assert "BusinessLicence" in listed
    assert W["check_ok"] in listed
    assert page.locator("#offer-code-form").is_hidden()
    _accessible(page)
    screenshot(page, "wallet-offer-phone")

    # The same link again: the offer was used, said in words; nothing more is listed.
    page.fill("#offer-link", link)
    page.click("#offer-form button")
    _status(
        page,
        W["offer_read_failed"]
        + "the issuer refused (invalid_request): the credential offer was already used",
    )
    assert page.locator("#offer-code-form").is_hidden()
    assert page.locator("#credential-list li").count() == 1
    # Chromium logs each refused request as a console error: exactly the two refusals above.
    refusals = [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)",
        "Failed to load resource: the server responded with a status of 404 (Not Found)",
    ]
    assert sorted(e for e in watch.errors if e in refusals) == refusals
    assert [e for e in watch.errors if e not in refusals] == []
