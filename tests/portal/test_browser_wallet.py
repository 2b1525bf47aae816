"""The citizen's wallet in headless Chromium, on its own origin (issue #18, docs/wallet.md).

In the shared world (``portal_world``): a citizen opens the wallet at phone width
(``Math.random`` replaced by a function that throws), creates a key under a
passphrase (the production scrypt parameters), adds a business licence Zhejiang
(330000) issued to that key's DID (pasted as a holder app would), and answers a
request a Guangdong (440000) clerk made at ``/ask`` for two claims by pasting its
``openid4vp://`` link: the wallet fetches the request object from 440000's origin
(CORS allows the wallet's origin), signs in the page, posts the answer bound to the
purpose; the clerk's page shows VALID with exactly the clear claims and those two.
The browser's IndexedDB, localStorage and sessionStorage then hold the key only
wrapped: no spelling of the private key (which the test reads by unwrapping the
stored key file in Python). A page on the staff origin cannot frame the wallet
(``frame-ancestors 'none'``) and does not see its IndexedDB. axe-core finds no
serious violation; a screenshot at phone width.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import FilePayload, Page, expect

from api.client.wallet import Wallet
from api.portal.ask_text import ASK_TEXT
from api.portal.labels import PAGE_TEXT, claim_label
from api.webwallet.text import WALLET_TEXT
from credentials.purposes import label
from ledger.crypto.keystore import decrypt_key
from tests.helpers.provinces import FAST
from tests.helpers.routes import events
from tests.portal.browser import (
    DESKTOP,
    PHONE,
    PageWatch,
    axe_violations,
    screenshot,
    serious,
)
from tests.portal.world import PortalWorld

W = WALLET_TEXT["zh"]
ZH = PAGE_TEXT["zh"]
ASK = ASK_TEXT["zh"]
PASSPHRASE = "柜台 钱包 passphrase 2026"
ASKED = ("registeredCapital", "legalRepresentative")
NO_RANDOM = """
globalThis.__realRandom = Math.random;
globalThis.__noRandom = () => { throw new Error("Math.random is forbidden in the wallet"); };
Math.random = globalThis.__noRandom;
"""
DUMP = """async () => {
  const dump = {indexedDB: {}, localStorage: {}, sessionStorage: {}};
  for (const {name} of await indexedDB.databases()) {
    const db = await new Promise((ok, fail) => {
      const opening = indexedDB.open(name);
      opening.onsuccess = () => ok(opening.result);
      opening.onerror = () => fail(opening.error);
    });
    dump.indexedDB[name] = {};
    for (const store of db.objectStoreNames) {
      const all = (what) => new Promise((ok) => {
        const request = db.transaction(store).objectStore(store)[what]();
        request.onsuccess = () => ok(request.result);
      });
      const keys = await all("getAllKeys");
      const values = await all("getAll");
      dump.indexedDB[name][store] = keys.map((key, i) => [String(key), values[i]]);
    }
    db.close();
  }
  for (const area of ["localStorage", "sessionStorage"]) {
    for (let i = 0; i < globalThis[area].length; i++) {
      const key = globalThis[area].key(i);
      dump[area][key] = globalThis[area].getItem(key);
    }
  }
  return dump;
}"""


def _accessible(page: Page) -> None:
    # axe-core itself draws from Math.random: given back only while axe runs.
    throwing = page.evaluate("() => globalThis.__noRandom !== undefined")
    if throwing:
        page.evaluate("() => { Math.random = globalThis.__realRandom; }")
    found = axe_violations(page)
    if throwing:
        page.evaluate("() => { Math.random = globalThis.__noRandom; }")
    assert serious(found) == [], found


def _spellings(secret: bytes) -> list[str]:
    b64 = base64.b64encode(secret).decode()
    return [
        secret.hex(),
        secret.hex().upper(),
        b64,
        b64.rstrip("="),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        secret.decode("latin-1"),
        ",".join(str(b) for b in secret),
    ]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for name, item in value.items():
            yield name
            yield from _strings(item)


def _assert_no_key(dump: dict[str, Any], secret: bytes) -> None:
    texts = [*_strings(dump), json.dumps(dump, ensure_ascii=False)]
    for spelling in _spellings(secret):
        for text in texts:
            assert spelling not in text


def _status(page: Page, words: str) -> None:
    # expect() polls from Playwright's own world: the page's CSP forbids eval'd predicates.
    expect(page.locator("#status")).to_have_text(words, timeout=30_000)


def _ask(page: Page, base: str) -> str:
    page.goto(f"{base}/ask")
    page.fill("#claims", ",".join(ASKED))
    page.select_option("#purpose", "audit.review")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/ask/[A-Za-z0-9_-]+(\?.*)?$"))
    link = page.locator("#ask-link").get_attribute("href")
    assert link is not None
    assert link.startswith("openid4vp://")
    return link


def test_a_citizen_creates_a_wallet_adds_a_licence_and_answers_a_clerk_valid(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    wallet_url = f"{world.wallet.base}/wallet"
    watch = PageWatch()
    page = world.new_page(PHONE, signed_in_as=None, is_mobile=True)
    page.add_init_script(NO_RANDOM)
    watch.attach(page)
    page.goto(wallet_url)
    page.wait_for_selector("main[data-ready='true']")
    assert page.locator("#holder").inner_text() == W["no_key"]
    _accessible(page)

    # Create: the passphrase twice; a mismatch is said, not stored.
    page.fill("#new-passphrase", PASSPHRASE)
    page.fill("#new-passphrase-again", PASSPHRASE + "x")
    page.click("#create-form button")
    _status(page, W["mismatch"])
    page.fill("#new-passphrase-again", PASSPHRASE)
    page.click("#create-form button")
    _status(page, W["created"])
    holder = page.locator("#holder").inner_text()
    assert holder.startswith(W["unlocked"])
    did = holder.removeprefix(W["unlocked"])
    assert did.startswith("did:key:z")

    # A licence issued at 330000 to that DID, pasted.
    logged = len(events(world.verifying))
    _, credential = world.issue_licence(did)
    page.fill("#credential-json", json.dumps(credential, ensure_ascii=False))
    page.click("#add-form button")
    _status(page, W["added"])
    assert W["check_ok"] in page.locator("#credential-list").inner_text()

    # The clerk at 440000 asks for two claims; the citizen pastes the link.
    clerk = world.new_page(DESKTOP)
    link = _ask(clerk, world.portal.base)
    page.fill("#request-link", link)
    page.click("#request-form button")
    page.wait_for_selector("#answer-form:not([hidden])")
    asked = page.locator("#claims input[type=checkbox]")
    assert sorted(asked.evaluate_all("(boxes) => boxes.map((b) => b.value)")) == sorted(ASKED)
    shown = page.locator("#claims label").all_inner_texts()
    assert sorted(shown) == sorted(claim_label(name, "zh") for name in ASKED)
    facts = page.locator("#request-facts").inner_text()
    assert f"{label('audit.review').zh} (audit.review)" in facts
    _accessible(page)
    screenshot(page, "wallet-answer-phone")
    page.click("#answer-form button.primary")
    expect(page.locator("#answer-result")).to_contain_text("VALID", timeout=30_000)
    assert page.locator("#answer-result").get_attribute("class") == "result ok"
    screenshot(page, "wallet-phone")

    # The clerk's page shows VALID with exactly the clear claims and the two asked for.
    clerk.wait_for_selector("#verdict-h", timeout=30_000)
    assert ZH["verdict_valid"] in clerk.locator("main").inner_text()
    clear = [k for k in credential["credentialSubject"] if k not in ("id", "_sd")]
    face = clerk.locator("dl.face").first.locator("dt").all_inner_texts()
    expected = {claim_label(name, "zh") for name in (*clear, *ASKED)}
    assert set(face) == expected
    assert len(face) == len(expected)
    clerk.context.close()
    verified = [e for e in events(world.verifying)[logged:] if e.action == "presentation.verify"]
    assert len(verified) == 1

    # Storage holds the key wrapped only.
    dump = page.evaluate(DUMP)
    stored = dict(dump["indexedDB"]["tongban-wallet"]["keys"])
    secret = decrypt_key(stored["holder"].encode(), PASSPHRASE).private_key.to_bytes()
    _assert_no_key(dump, secret)
    assert dump["localStorage"] == {}
    assert dump["sessionStorage"] == {}

    # Locked, then unlocked again from the stored file: the credential is still there.
    page.click("#lock")
    assert page.locator("#holder").inner_text() == W["locked"]
    page.fill("#passphrase", PASSPHRASE + "?")
    page.click("#unlock-form button")
    _status(page, W["wrong_passphrase"])
    page.fill("#passphrase", PASSPHRASE)
    page.click("#unlock-form button")
    page.wait_for_selector("#lock:not([hidden])")
    assert W["check_ok"] in page.locator("#credential-list").inner_text()
    assert watch.errors == []
    page.context.close()


def test_the_staff_origin_cannot_frame_the_wallet_nor_see_its_storage(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    wallet_url = f"{world.wallet.base}/wallet"
    page = world.new_page(DESKTOP, signed_in_as=None)
    page.goto(wallet_url)
    page.wait_for_selector("main[data-ready='true']")
    # The wallet's own origin has its database once the page has run.
    assert "tongban-wallet" in page.evaluate(
        "async () => (await indexedDB.databases()).map((d) => d.name)"
    )
    # A flawed staff page (no CSP of its own, as an injected one would be) frames the
    # wallet, and, as a control, a page of the wallet's origin that sets no headers.
    control = f"{world.wallet.base}/control-without-headers"
    page.route(control, lambda route: route.fulfill(content_type="text/html", body="<p>framed"))
    hostile = f"{world.portal.base}/flawed-staff-page"
    frames = f'<iframe src="{wallet_url}"></iframe><iframe src="{control}"></iframe>'
    page.route(
        hostile,
        lambda route: route.fulfill(
            content_type="text/html", body=f"<!doctype html><title>x</title>{frames}"
        ),
    )
    page.goto(hostile)
    page.wait_for_load_state("load")
    framed = {f.url: f for f in page.frames if f != page.main_frame}
    assert control in framed  # framing across these origins works without the headers
    assert framed[control].locator("p").inner_text() == "framed"
    assert wallet_url not in framed  # the wallet refused: Chromium shows its error page
    assert sorted(framed) == sorted([control, "chrome-error://chromewebdata/"])
    # The staff origin's storage is its own: no wallet database there.
    names = page.evaluate("async () => (await indexedDB.databases()).map((d) => d.name)")
    assert "tongban-wallet" not in names
    page.context.close()


EXPORT_FORMAT = "tongban-wallet-export/v1"


def _pack(directory: Path) -> bytes:
    """A CLI wallet directory as the browser wallet's export file."""
    files = {
        path.relative_to(directory).as_posix(): base64.b64encode(path.read_bytes()).decode()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }
    return json.dumps({"format": EXPORT_FORMAT, "files": files}).encode()


def _unpack(data: bytes, directory: Path) -> None:
    """The browser wallet's export file written out as a CLI wallet directory."""
    document = json.loads(data)
    assert document["format"] == EXPORT_FORMAT
    for name, text in document["files"].items():
        target = directory / name
        assert target.resolve().is_relative_to(directory.resolve()), name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(text))


def test_a_cli_wallet_imports_into_the_browser_and_its_export_opens_in_the_cli(
    portal_world: PortalWorld, tmp_path: Path
) -> None:
    world = portal_world
    cli = Wallet.create(tmp_path / "cli", PASSPHRASE, kdf=FAST)
    digest, credential = world.issue_licence(cli.did)
    cli.receive(credential)
    page = world.new_page(PHONE, signed_in_as=None, is_mobile=True)
    page.goto(f"{world.wallet.base}/wallet")
    page.wait_for_selector("main[data-ready='true']")
    upload = FilePayload(
        name="wallet.json", mimeType="application/json", buffer=_pack(cli.directory)
    )
    page.set_input_files("#import-file", files=[upload])
    page.fill("#import-passphrase", PASSPHRASE)
    page.click("#import-form button")
    _status(page, W["imported"])
    assert page.locator("#holder").inner_text() == W["unlocked"] + cli.did
    listed = page.locator("#credential-list").inner_text()
    assert digest in listed
    assert W["check_ok"] in listed

    with page.expect_download() as started:
        page.click("#export")
    exported = tmp_path / "exported"
    _unpack(Path(started.value.path()).read_bytes(), exported)
    reopened = Wallet.open(exported, PASSPHRASE)
    assert reopened.did == cli.did
    assert [c.digest for c in reopened.credentials()] == [digest]
    assert reopened.credentials()[0].credential == credential
    page.context.close()
