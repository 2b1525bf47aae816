"""The wallet's status and timeline modules: Trusted Types-safe source, and what the page may reach.

wallet-status.js and wallet-timeline.js run under the wallet's CSP (docs/wallet.md): no HTML
sink, no eval, no Math.random, and they import only the committed bundles. ``wallet_config``
gives the page every province origin of the consortium directory and the chain node, and
nothing when there is no directory.
"""

from __future__ import annotations

import json
import re

import pytest

from api.webwallet import STATIC_DIR
from api.webwallet.app import STATIC_FILES, wallet_config, wallet_policy

MODULES = {
    "wallet-status.js": ["./checks.js", "./wallet.js"],
    "wallet-timeline.js": ["./timeline.js"],
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_page_module_uses_no_html_sink_eval_or_math_random(name: str) -> None:
    source = (STATIC_DIR / name).read_text("utf-8")
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert forbidden not in source, forbidden
    assert "Math.random" not in source
    assert not re.search(r"\beval\s*\(|\bnew Function\b|setTimeout\(\s*[\"'`]", source)
    assert sorted(re.findall(r'from "([^"]+)"', source)) == MODULES[name]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_page_module_is_served_with_its_imports_hashed(name: str) -> None:
    served = STATIC_FILES[name]
    assert re.fullmatch(rf"{name.removesuffix('.js')}\.[0-9a-f]{{16}}\.js", served.name)
    imports = re.findall(r'from "\./([^"]+)"', served.data.decode())
    expected = [STATIC_FILES[i.removeprefix("./")].name for i in MODULES[name]]
    assert sorted(imports) == sorted(expected)


def test_the_registry_selectors_are_keccak_of_the_signatures() -> None:
    # wallet-status.js hard-codes the two selectors registry.js computes with keccak.
    from eth_utils.crypto import keccak

    source = (STATIC_DIR / "wallet-status.js").read_text("utf-8")
    for signature in ("registry()", "key(uint32,bytes32)"):
        assert f'"0x{keccak(text=signature)[:4].hex()}"' in source, signature


def test_the_wallet_may_reach_every_directory_province_and_the_chain_node() -> None:
    directory = {
        "provinces": [
            {"issuerId": 1, "apiBaseUrl": "https://zj.tongban.example"},
            {"issuerId": 2, "apiBaseUrl": "https://gd.tongban.example:8443/api"},
        ]
    }
    config = wallet_config(
        "https://zj.tongban.example",
        json.dumps(directory).encode(),
        "http://127.0.0.1:8545/rpc",
        "0x" + "ab" * 20,
    )
    policy = wallet_policy(config)
    connect = re.search(r"connect-src ([^;]+);", policy)
    assert connect is not None
    assert connect.group(1).split() == [
        "'self'",
        "https://zj.tongban.example",
        "https://gd.tongban.example:8443",
        "http://127.0.0.1:8545",
    ]
    assert config.audit_anchor == "0x" + "ab" * 20


def test_without_a_directory_or_chain_the_wallet_reaches_its_own_province_only() -> None:
    policy = wallet_policy(wallet_config("https://zj.tongban.example", None))
    assert "connect-src 'self' https://zj.tongban.example;" in policy
