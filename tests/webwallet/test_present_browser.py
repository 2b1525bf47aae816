"""The browser wallet in Chromium: a key that never reaches storage, and a VALID presentation.

A loopback server serves a blank page, the committed bundle ``wallet.js`` and a probe module
under ``default-src 'none'; script-src 'self'; connect-src 'self'`` with Trusted Types
required, and ``Math.random`` replaced before any page script by a function that throws. First
visit: the probe makes an SM2 holder key, wraps it with the CLI wallet's production scrypt
parameters and keeps the key file in IndexedDB. Python issues a credential on the test chain
to that key's DID. A later visit in the same profile: the probe reads the key file back,
unwraps it and signs a presentation for the province's challenge, bound to the declared
purpose; the province's verifier finds it VALID. After each visit IndexedDB, localStorage and
sessionStorage are dumped: the private key appears in none of them (hex either case, base64,
base64url, raw bytes, a JSON byte list), while the key file does (the dump is real), and
that key file unlocks in Python.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from playwright.sync_api import Browser, BrowserContext

from api.province.clients import Role
from api.webwallet import WALLET_MODULE
from ledger.crypto.keystore import DEFAULT_SCRYPT, decrypt_key
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL, served_province
from tests.helpers.routes import issue
from tests.portal.browser import chromium

PROBE = Path(__file__).resolve().parent / "present_probe.js"
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; "
    "trusted-types 'none'"
)
PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wallet probe</title>'
    b'<script type="module" src="/probe.js"></script></head>'
    b'<body><output id="result"></output></body></html>'
)
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
PASSPHRASE = "柜台 wallet passphrase 2026"
LICENCE = "business-licence"
CHOSEN = ["registeredCapital"]


class _Handler(BaseHTTPRequestHandler):
    """Serves the page, the bundle, the probe and the test's input, each with the strict CSP."""

    input: ClassVar[dict[str, Any]] = {}
    routes: ClassVar[dict[str, tuple[str, Callable[[], bytes]]]] = {
        "/": ("text/html; charset=utf-8", lambda: PAGE),
        "/wallet.js": ("text/javascript; charset=utf-8", WALLET_MODULE.read_bytes),
        "/probe.js": ("text/javascript; charset=utf-8", PROBE.read_bytes),
        "/input.json": (
            "application/json",
            lambda: json.dumps(_Handler.input, ensure_ascii=False).encode(),
        ),
    }

    def do_GET(self) -> None:
        """Answer a GET from the routes, 404 otherwise."""
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404)
            return
        content_type, body = route[0], route[1]()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        """Keep the test output quiet."""


@pytest.fixture
def probe_origin() -> Iterator[str]:
    """The loopback server's origin; stopped after the test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (tests/portal/browser.py)."""
    with chromium() as launched:
        yield launched


def _visit(context: BrowserContext, url: str) -> dict[str, Any]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    result = page.locator("#result[data-done]")
    result.wait_for(state="attached", timeout=60_000)
    report: dict[str, Any] = json.loads(result.text_content() or "{}")
    page.close()
    assert "error" not in report, report["error"]
    assert errors == []
    assert report["mathRandomThrows"] is True
    assert report["mathRandomCalls"] == 1, "only the probe's own check called Math.random"
    assert report["violations"] == []
    assert report["trustedTypesEnforced"] is True
    return report


def _spellings(secret: bytes) -> list[str]:
    """Every form the private key's bytes could take in a dump."""
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
    # Every string as stored (raw bytes arrive as latin-1 text), and the compact JSON of the
    # whole dump (where a list of byte values would show as 1,2,3).
    texts = [*_strings(dump), json.dumps(dump, separators=(",", ":"))]
    for spelling in _spellings(secret):
        assert not any(spelling in text for text in texts), "the private key is in storage"


def test_a_key_made_and_wrapped_in_chromium_signs_a_valid_presentation_and_never_reaches_storage(
    world: World, tmp_path: Path, probe_origin: str, browser: Browser
) -> None:
    params = {"n": DEFAULT_SCRYPT.n, "r": DEFAULT_SCRYPT.r, "p": DEFAULT_SCRYPT.p}
    _Handler.input = {"passphrase": PASSPHRASE, "params": params}
    context = browser.new_context()
    try:
        context.add_init_script(INIT)
        created = _visit(context, f"{probe_origin}/?create")
        secret = bytes.fromhex(created["privateKey"])
        (stored,) = created["dump"]["indexedDB"]["tongban-wallet"]["keys"]
        assert stored[0] == "holder"
        _assert_no_key(created["dump"], secret)
        assert decrypt_key(stored[1].encode(), PASSPHRASE).private_key.to_bytes() == secret

        with served_province(world, tmp_path) as province:
            claims = dict(CLAIMS_BY_TEMPLATE[LICENCE])
            digest = issue(province, created["did"], template=LICENCE, claims=claims)["digest"]
            province.anchor_all()
            reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
            assert reply.status == 200, reply.text
            challenge = province.request("POST", "/challenges", Role.VERIFIER).json()
            _Handler.input = {
                "passphrase": PASSPHRASE,
                "params": params,
                "credential": reply.json()["credential"],
                "claims": CHOSEN,
                "challenge": challenge["challenge"],
                "domain": province.did,
                "purpose": PERSONAL["X-Purpose"],
            }
            presented = _visit(context, f"{probe_origin}/")
            verdict = province.request(
                "POST",
                "/presentations/verify",
                Role.VERIFIER,
                json_body={"verifiablePresentation": presented["presentation"]},
                headers=PERSONAL,
            )
    finally:
        context.close()

    assert presented["wrongPassphrase"] == "KeystoreError"
    assert presented["keyFile"] == stored[1]
    _assert_no_key(presented["dump"], secret)
    assert presented["dump"]["indexedDB"]["tongban-wallet"]["keys"] == [["holder", stored[1]]]
    assert verdict.status == 200, verdict.text
    result = verdict.json()
    assert result["verdict"] == "VALID", result["checks"]
    presentation = presented["presentation"]
    assert presentation["holder"] == created["did"]
    assert presentation["termsOfUse"]["purpose"] == PERSONAL["X-Purpose"]
    (derived,) = presentation["verifiableCredential"]
    assert [d[1] for d in derived["disclosures"]] == ["/credentialSubject/registeredCapital"]


def test_the_storage_search_finds_every_spelling_of_a_key() -> None:
    secret = bytes(range(200, 232))
    for spelling in _spellings(secret):
        dump = {"indexedDB": {"db": {"store": [["k", {"nested": "x" + spelling + "y"}]]}}}
        with pytest.raises(AssertionError):
            _assert_no_key(dump, secret)
    with pytest.raises(AssertionError):
        _assert_no_key({"localStorage": {"k": list(secret)}}, secret)
    _assert_no_key({"localStorage": {"k": secret[1:].hex()}}, secret)
