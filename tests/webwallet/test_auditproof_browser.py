"""auditproof.js in headless Chromium: a page under the console's strict CSP reads anvil.

The page (origin A, a loopback server here) has ``default-src 'none'; script-src 'self';
connect-src 'self' <the RPC origin>; require-trusted-types-for 'script'; trusted-types
'none'``; the chain node is anvil on another origin (B), so every JSON-RPC call is a
cross-origin ``fetch`` with a CORS preflight (``Content-Type: application/json``), which
anvil answers (its default ``--allow-origin *``). The options travel through a
``<section id="browser-proof" data-...>`` the way the console page renders them. Without the
RPC origin in connect-src the same page cannot reach the node: CSP refuses, the result says
``rpc.unreachable``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser

from api.webwallet import AUDITPROOF_MODULE
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.store.database import Database
from tests.helpers.contracts import ZJ, World
from tests.portal.browser import chromium
from tests.webwallet.test_auditproof_chain import Province

PROBE = Path(__file__).resolve().parent / "auditproof_probe.js"
PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>audit proof probe</title>'
    b'<script type="module" src="/probe.js"></script></head>'
    b'<body><output id="result"></output></body></html>'
)


def csp(connect: str) -> str:
    """The console page's policy with ``connect-src`` = ``connect``."""
    return (
        f"default-src 'none'; script-src 'self'; connect-src {connect}; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; "
        "trusted-types 'none'"
    )


class _Handler(BaseHTTPRequestHandler):
    """Serves the page, the bundle and the probe with the CSP in ``policy``."""

    policy: ClassVar[list[str]] = ["default-src 'none'"]
    routes: ClassVar[dict[str, tuple[str, Callable[[], bytes]]]] = {
        "/": ("text/html; charset=utf-8", lambda: PAGE),
        "/auditproof.js": ("text/javascript; charset=utf-8", AUDITPROOF_MODULE.read_bytes),
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
        self.send_header("Content-Security-Policy", self.policy[0])
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
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


@pytest.fixture
def province(
    world: World, db: Database, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> Province:
    return Province(world, db, signer, pseudonyms)


def _run(browser: Browser, origin: str, handoff: dict[str, Any]) -> dict[str, Any]:
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        console: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.goto(f"{origin}/#{quote(json.dumps(handoff))}")
        result = page.locator("#result[data-done]")
        result.wait_for(state="attached", timeout=60_000)
        report: dict[str, Any] = json.loads(result.text_content() or "{}")
        report["console"] = console
    finally:
        context.close()
    assert errors == []
    assert "error" not in report, report.get("error")
    return report


def _handoff(province: Province, world: World) -> dict[str, Any]:
    checkpoints = province.checkpoints()
    chain = {
        "rpcUrl": world.client.url,
        "chainId": world.client.chain_id,
        "anchorAddress": world.addresses.audit_anchor,
        "logId": ZJ,
        "provincePublicKey": province.key,
    }
    return {
        "event": province.options(9, checkpoints[1]),
        "timeline": {
            **chain,
            "checkpoints": checkpoints,
            "consistencyProofs": [province.consistency(5, 17), province.consistency(17, 33)],
        },
    }


def test_chromium_under_the_console_csp_reads_the_anchor_from_anvil_and_verifies_the_event(
    province: Province, world: World, browser: Browser, page_origin: str
) -> None:
    rpc = urlsplit(world.client.url)
    _Handler.policy[0] = csp(f"'self' {rpc.scheme}://{rpc.netloc}")
    report = _run(browser, page_origin, _handoff(province, world))
    event, timeline = report["event"], report["timeline"]
    assert (event["ok"], event["code"]) == (True, "ok"), event
    assert [step["code"] for step in event["steps"]] == ["ok"] * 9
    assert event["anchored"]["root"] == world.audit.checkpoints(ZJ)[1].root.hex()
    assert (timeline["ok"], [link["ok"] for link in timeline["links"]]) == (True, [True, True])
    assert not [line for line in report["console"] if "Content Security Policy" in line]
    assert {"data-proof", "data-tree-size", "data-root", "data-block", "data-receipt"} <= set(
        report["attributes"]
    ), "the console page's attribute names"


def test_without_the_rpc_origin_in_connect_src_the_page_cannot_reach_the_node(
    province: Province, world: World, browser: Browser, page_origin: str
) -> None:
    _Handler.policy[0] = csp("'self'")
    report = _run(browser, page_origin, _handoff(province, world))
    event = report["event"]
    assert (event["ok"], event["code"]) == (False, "rpc.unreachable")
    steps = {step["step"]: step["code"] for step in event["steps"]}
    assert steps["receipt"] == "ok", "the offline checks still ran"
    assert steps["inclusion"] == "skipped"
    refusals = [line for line in report["console"] if "Content Security Policy" in line]
    assert refusals, report["console"]
    assert any("connect-src" in line for line in refusals), refusals
    assert all(world.client.url.rstrip("/") in line for line in refusals), refusals
