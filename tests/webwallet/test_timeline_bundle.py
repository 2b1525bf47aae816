"""The committed bundle static/timeline.js: rebuilt byte for byte, self-contained, no eval."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from api.webwallet import TIMELINE_MODULE

REPO = Path(__file__).resolve().parents[2]
SOURCE = "api/webwallet/src/timeline.js"


def test_timeline_bundle_rebuilds_byte_for_byte_from_the_lock_file() -> None:
    spec = importlib.util.spec_from_file_location(
        "build_webwallet_timeline", REPO / "scripts" / "build_webwallet.py"
    )
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.BUNDLES[SOURCE] == TIMELINE_MODULE
    assert script.build(SOURCE) == TIMELINE_MODULE.read_bytes()


def test_timeline_bundle_imports_nothing_and_evaluates_no_text() -> None:
    text = TIMELINE_MODULE.read_text("utf-8")
    assert not re.search(r"^\s*import[\s{*]", text, re.MULTILINE)
    assert not re.search(r"\bimport\s*\(", text)
    assert not re.search(r"\brequire\s*\(", text)
    assert not re.search(r"\beval\s*\(|new Function\s*\(", text)
    exported = re.search(r"^export \{([^}]*)\};", text, re.MULTILINE)
    assert exported is not None
    names = {name.strip().split(" as ")[-1] for name in exported.group(1).split(",")}
    assert {"accessTimeline", "verifyDirectory", "parseDirectory", "DirectoryFailure"} <= names
