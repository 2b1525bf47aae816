"""The SM2/SM3 bundle in headless Chromium, under the wallet's CSP rules, with no Math.random.

A tiny loopback server serves a blank page, the committed bundle and a probe module with
``default-src 'none'; script-src 'self'; require-trusted-types-for 'script';
trusted-types 'none'``. Before any page script runs, ``Math.random`` is replaced by a function
that throws. The probe generates a key, signs a message Python chose, verifies a Python
signature, and hands its public key and signature back; Python verifies them with
ledger/crypto (OpenSSL). The probe also proves Trusted Types are enforced on that page.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser

from api.webwallet import SM_MODULE
from ledger.crypto import sm2
from tests.portal.browser import chromium

PROBE = Path(__file__).resolve().parent / "browser_probe.js"
CSP = (
    "default-src 'none'; script-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'"
)
PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sm probe</title>'
    b'<script type="module" src="/probe.js"></script></head>'
    b'<body><output id="result"></output></body></html>'
)
# Runs before the page's own scripts (Playwright's init script, not subject to the page's CSP).
INIT = """
globalThis.__mathRandomCalls = 0;
globalThis.__violations = [];
Math.random = () => {
  globalThis.__mathRandomCalls += 1;
  throw new Error("Math.random is forbidden here");
};
document.addEventListener("securitypolicyviolation", (event) => {
  globalThis.__violations.push(event.effectiveDirective + " " + event.blockedURI);
});
"""


class _Handler(BaseHTTPRequestHandler):
    """Serves the page, the bundle and the probe, each with the strict CSP."""

    routes: ClassVar[dict[str, tuple[str, Callable[[], bytes]]]] = {
        "/": ("text/html; charset=utf-8", lambda: PAGE),
        "/sm.js": ("text/javascript; charset=utf-8", SM_MODULE.read_bytes),
        "/probe.js": ("text/javascript; charset=utf-8", PROBE.read_bytes),
    }

    def do_GET(self) -> None:
        """Answer a GET from the three routes, 404 otherwise."""
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404)
            return
        content_type, body = route[0], route[1]()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def probe_origin() -> Iterator[str]:
    """The loopback server's origin; stopped after the module's tests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (tests/portal/browser.py)."""
    with chromium() as launched:
        yield launched


def test_browser_keygen_and_signing_work_without_math_random_under_trusted_types(
    probe_origin: str, browser: Browser
) -> None:
    message = "办事指南 citizen consent ".encode() + secrets.token_bytes(40)
    python_key = sm2.generate_private_key()
    python_message = secrets.token_bytes(50)
    handoff = {
        "message": message.hex(),
        "pythonPublicKey": python_key.public_key.compressed().hex(),
        "pythonMessage": python_message.hex(),
        "pythonSignature": python_key.sign(python_message).hex(),
    }
    context = browser.new_context()
    try:
        context.add_init_script(INIT)
        page = context.new_page()
        page_errors: list[str] = []
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.goto(f"{probe_origin}/#{quote(json.dumps(handoff))}")
        result = page.locator("#result[data-done]")
        result.wait_for(state="attached", timeout=30_000)
        report = json.loads(result.text_content() or "{}")
    finally:
        context.close()

    assert "error" not in report, report.get("error")
    assert page_errors == []
    assert report["mathRandomThrows"] is True, "the replaced Math.random was in place"
    assert report["mathRandomCalls"] == 1, "only the probe's own check called it"
    assert report["violationsDuringCrypto"] == []
    assert report["trustedTypesEnforced"] is True
    assert report["sm3abc"] == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert report["verifiesHere"] is True
    assert report["pythonSignatureVerifies"] is True
    assert report["tamperedPythonSignatureVerifies"] is False
    public_key = bytes.fromhex(report["publicKey"])
    assert len(public_key) == sm2.COMPRESSED_PUBLIC_KEY_SIZE
    sm2.verify(public_key, message, bytes.fromhex(report["signature"]))
    assert not sm2.is_valid(public_key, message + b"x", bytes.fromhex(report["signature"]))
