"""The committed bundle static/auditproof.js: rebuilt byte for byte, self-contained, no eval."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from api.webwallet import AUDITPROOF_MODULE

REPO = Path(__file__).resolve().parents[2]
SOURCE = "api/webwallet/src/auditproof.js"


def test_auditproof_bundle_rebuilds_byte_for_byte_from_the_lock_file() -> None:
    spec = importlib.util.spec_from_file_location(
        "build_webwallet_auditproof", REPO / "scripts" / "build_webwallet.py"
    )
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.BUNDLES[SOURCE] == AUDITPROOF_MODULE
    assert script.build(SOURCE) == AUDITPROOF_MODULE.read_bytes()


def test_auditproof_bundle_imports_nothing_and_exports_the_console_entry_points() -> None:
    text = AUDITPROOF_MODULE.read_text("utf-8")
    assert not re.search(r"^\s*import[\s{*]", text, re.MULTILINE)
    assert not re.search(r"\bimport\s*\(", text)
    assert not re.search(r"\brequire\s*\(", text)
    exported = re.search(r"^export \{([^}]*)\};", text, re.MULTILINE)
    assert exported is not None
    names = {name.strip().split(" as ")[-1] for name in exported.group(1).split(",")}
    assert {
        "verifyEventInBrowser",
        "verifyCheckpointTimeline",
        "optionsFromElement",
        "verifyInclusion",
        "verifyConsistency",
    } <= names


def test_auditproof_bundle_uses_no_math_random_eval_or_function_constructor() -> None:
    text = AUDITPROOF_MODULE.read_text("utf-8")
    assert "Math.random" not in text
    assert not re.search(r"\beval\s*\(", text)
    assert not re.search(r"\bnew\s+Function\b|\bFunction\s*\(", text)
    assert "innerHTML" not in text
