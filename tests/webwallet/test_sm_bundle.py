"""The committed bundle is reproducible from the lock file and safe to serve under a strict CSP.

- A rebuild with the pinned esbuild over the pinned @noble packages equals the committed
  ``api/webwallet/static/sm.js`` byte for byte (scripts/build_webwallet.py).
- The bundle imports nothing (one self-contained module: no CDN, no build step for the user).
- It has no ``Math.random`` (every random byte comes from ``crypto.getRandomValues``) and no
  ``eval``, ``new Function`` or string timers, which ``script-src`` without ``'unsafe-eval'``
  and Trusted Types (``require-trusted-types-for 'script'``) would block.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from api.webwallet import SM_MODULE

REPO = Path(__file__).resolve().parents[2]
PINNED = {"esbuild": "0.28.2", "@noble/curves": "2.4.0", "@noble/hashes": "2.4.0"}


def _build() -> bytes:
    """Run scripts/build_webwallet.py's ``build``."""
    bundle = _script().build()
    assert isinstance(bundle, bytes)
    return bundle


def test_bundle_rebuilds_byte_for_byte_from_the_lock_file() -> None:
    assert _build() == SM_MODULE.read_bytes()


def test_bundle_inputs_are_pinned_exactly_as_dev_dependencies_in_package_json_and_the_lock() -> (
    None
):
    manifest = json.loads((REPO / "package.json").read_text("utf-8"))
    lock = json.loads((REPO / "package-lock.json").read_text("utf-8"))
    for name, version in PINNED.items():
        # Build-time only: devDependencies, so an image can `npm ci --omit=dev`.
        assert manifest["devDependencies"][name] == version, name
        assert name not in manifest.get("dependencies", {}), name
        locked = lock["packages"][f"node_modules/{name}"]
        assert locked["version"] == version, name
        assert locked.get("dev") is True, name
        installed = json.loads((REPO / "node_modules" / name / "package.json").read_text("utf-8"))
        assert installed["version"] == version, f"{name}: run npm ci"


def test_bundle_is_one_module_that_imports_nothing() -> None:
    text = SM_MODULE.read_text("utf-8")
    assert not re.search(r"^\s*import[\s{*]", text, re.MULTILINE)
    assert not re.search(r"\bimport\s*\(", text)
    assert not re.search(r"\brequire\s*\(", text)
    exported = re.search(r"^export \{([^}]*)\};", text, re.MULTILINE)
    assert exported is not None
    names = {name.strip().split(" as ")[-1] for name in exported.group(1).split(",")}
    assert {
        "sm3",
        "generateKey",
        "publicKeyOf",
        "sign",
        "verify",
        "bytesToHex",
        "hexToBytes",
    } <= names


def test_bundle_uses_no_math_random_eval_or_function_constructor() -> None:
    text = SM_MODULE.read_text("utf-8")
    assert "Math.random" not in text
    assert not re.search(r"\beval\s*\(", text)
    assert not re.search(r"\bnew\s+Function\b|\bFunction\s*\(", text)
    assert not re.search(r"\bset(Timeout|Interval)\s*\(\s*['\"`]", text)
    assert "getRandomValues" in text


def _script() -> ModuleType:
    """scripts/build_webwallet.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "build_webwallet_check", REPO / "scripts" / "build_webwallet.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_check_reports_a_stale_bundle_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script()
    stale = tmp_path / "api" / "webwallet" / "static" / "sm.js"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(SM_MODULE.read_bytes() + b"// edited by hand\n")
    monkeypatch.setattr(script, "REPO", tmp_path)
    monkeypatch.setattr(script, "BUNDLES", {script.SOURCE: stale})
    monkeypatch.setattr(script, "build", lambda source: SM_MODULE.read_bytes())
    assert script.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "api/webwallet/static/sm.js differs from a rebuild" in err
    assert "Traceback" not in err


def test_missing_esbuild_is_a_clear_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script()
    monkeypatch.setattr(script, "ESBUILD", tmp_path / "no-esbuild")
    assert script.main(["--check"]) == 2
    assert capsys.readouterr().err == (
        "error: node_modules/.bin/esbuild is missing: run `npm ci` first\n"
    )
