"""The committed bundle ``api/webwallet/static/wallet.js``: reproducible, self-contained, clean.

It must equal a rebuild by scripts/build_webwallet.py from its sources and the pinned npm
packages, import nothing (a page loads it as it is), and use neither Math.random nor any way
of running strings as code (eval, Function, string timers), so the wallet's CSP needs no
'unsafe-eval'.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from api.webwallet import WALLET_MODULE

REPO = Path(__file__).resolve().parents[2]
SOURCE = "api/webwallet/src/wallet.js"


def test_wallet_bundle_rebuilds_byte_for_byte_from_its_sources_and_the_lock_file() -> None:
    spec = importlib.util.spec_from_file_location(
        "build_webwallet_wallet", REPO / "scripts" / "build_webwallet.py"
    )
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.BUNDLES[SOURCE] == WALLET_MODULE
    assert script.build(SOURCE) == WALLET_MODULE.read_bytes()


def test_wallet_bundle_is_one_module_with_no_math_random_eval_or_function() -> None:
    text = WALLET_MODULE.read_text("utf-8")
    assert not re.search(r"^\s*import[\s{*]", text, re.MULTILINE)
    assert not re.search(r"\bimport\s*\(", text)
    assert not re.search(r"\brequire\s*\(", text)
    assert "Math.random" not in text
    assert not re.search(r"\beval\s*\(", text)
    assert not re.search(r"\bnew\s+Function\b|\bFunction\s*\(", text)
    assert not re.search(r"\bset(Timeout|Interval)\s*\(\s*['\"`]", text)
    assert "localStorage" not in text
    exported = re.search(r"^export \{([^}]*)\};", text, re.MULTILINE)
    assert exported is not None
    names = {name.strip().split(" as ")[-1] for name in exported.group(1).split(",")}
    assert {
        "wrapKey",
        "unwrapKey",
        "exportWallet",
        "importWallet",
        "storeKeyFile",
        "loadKeyFile",
        "present",
        "readRequest",
        "answerRequest",
        "directPostBody",
    } <= names
