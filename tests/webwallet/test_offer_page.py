"""The wallet page's offer section: its module is Trusted Types-safe and served hashed.

``static/wallet-offer.js`` builds the DOM with createElement and textContent only (the
wallet's CSP has ``trusted-types 'none'``), never draws from ``Math.random``, evaluates no
string and imports nothing (the shell hands it wallet.js); the wallet app serves it under
the SM3 digest of its bytes; the page carries the section with every word it uses, in both
languages (docs/wallet.md "Receiving an offer").
"""

from __future__ import annotations

import json
import re

import pytest

from api.webwallet import STATIC_DIR
from api.webwallet.app import STATIC_FILES, WalletConfig, wallet_app
from api.webwallet.text import WALLET_TEXT
from tests.helpers.server import ApiServer

MODULE = STATIC_DIR / "wallet-offer.js"


def test_the_offer_module_has_no_html_sink_eval_random_or_import() -> None:
    source = MODULE.read_text("utf-8")
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert forbidden not in source, forbidden
    assert "Math.random" not in source
    assert not re.search(r"\beval\s*\(|\bnew Function\b|setTimeout\(\s*[\"'`]", source)
    assert re.findall(r"^\s*import\b", source, re.MULTILINE) == []
    assert "export function setupOffer(" in source


def test_the_offer_module_is_served_under_its_digest() -> None:
    served = STATIC_FILES["wallet-offer.js"]
    assert re.fullmatch(r"wallet-offer\.[0-9a-f]{16,64}\.js", served.name), served.name
    shell = STATIC_FILES["wallet-app.js"].data.decode()
    assert f'from "./{served.name}"' in shell


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_has_the_offer_section_and_its_words(lang: str) -> None:
    server = ApiServer(wallet_app(WalletConfig("http://127.0.0.1:9")))  # type: ignore[arg-type]
    server.start()
    try:
        page = server.request("GET", f"/wallet?lang={lang}").text
    finally:
        server.stop()
    for element in ("offer-link", "offer-code-form", "offer-tx-code", "offer-result"):
        assert f'id="{element}"' in page
    assert WALLET_TEXT[lang]["offer_heading"] in page
    found = re.search(r'data-words="([^"]+)"', page)
    assert found is not None
    words = json.loads(found.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    script = MODULE.read_text("utf-8")
    used = set(re.findall(r"words\.([a-z_]+)", script))
    assert used <= set(words), used - set(words)
