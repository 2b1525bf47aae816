"""timeline.js in headless Chromium on a wallet origin of its own, over real CORS.

The page (origin W) asks Zhejiang and Guangdong (two more origins, served by the service's own
assembly on the test chain) and the chain node; every call to a province is a cross-origin
POST with a JSON body, so Chromium sends a preflight that api/http/citizen_cors.py answers
for W and refuses an answer that does not name W. The timeline is drawn on the page: both
provinces' accesses with their purposes in words, proved; then Guangdong stopped, shown
unreachable; then Guangdong no longer allowing W: the browser withholds its answer.
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

from api.webwallet import TIMELINE_MODULE
from credentials.did import holder_did
from credentials.purposes import label
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.provinces import ServedProvince
from tests.portal.browser import chromium
from tests.webwallet.timeline_world import NAMES, PURPOSES, access, signed_directory, two_provinces

PROBE = Path(__file__).resolve().parent / "timeline_probe.js"
PAGE = (
    b'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>timeline probe</title>'
    b'<script type="module" src="/probe.js"></script></head>'
    b'<body><ol id="entries"></ol><ul id="provinces"></ul><output id="result"></output>'
    b"</body></html>"
)


class _Handler(BaseHTTPRequestHandler):
    """Serves the page, the bundle and the probe with the CSP in ``policy``."""

    policy: ClassVar[list[str]] = ["default-src 'none'"]
    routes: ClassVar[dict[str, tuple[str, Callable[[], bytes]]]] = {
        "/": ("text/html; charset=utf-8", lambda: PAGE),
        "/timeline.js": ("text/javascript; charset=utf-8", TIMELINE_MODULE.read_bytes),
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
def wallet_origin() -> Iterator[str]:
    """The page's loopback server (the wallet's origin); stopped after the module's tests."""
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
def provinces(
    world: World, tmp_path: Path, wallet_origin: str
) -> Iterator[dict[int, ServedProvince]]:
    """Zhejiang and Guangdong, each allowing the wallet's origin on its citizen routes."""
    with two_provinces(world, tmp_path) as served:
        for province in served.values():
            _allow(province, wallet_origin)
        yield served


def _allow(province: ServedProvince, *origins: str) -> None:
    # What api/runtime/citizen_web.py names on the app's state in a worker; the test server
    # keeps the app only in its uvicorn config.
    app: Any = province.server._server.config.app
    app.state.citizen_origins = origins


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _run(browser: Browser, origin: str, options: dict[str, Any], connect: list[str]) -> Any:
    _Handler.policy[0] = (
        f"default-src 'none'; script-src 'self'; connect-src 'self' {' '.join(connect)}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
        "require-trusted-types-for 'script'; trusted-types 'none'"
    )
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{origin}/#{quote(json.dumps(options))}")
        result = page.locator("#result[data-done]")
        result.wait_for(state="attached", timeout=60_000)
        report: dict[str, Any] = json.loads(result.text_content() or "{}")
        report["console"] = console
    finally:
        context.close()
    assert errors == []
    assert "error" not in report, report.get("error")
    return report


def _prepared(
    world: World, provinces: dict[int, ServedProvince], tmp_path: Path
) -> tuple[dict[str, Any], list[str]]:
    holder_key = Sm2PrivateKey.generate()
    holder = holder_did(holder_key.public_key)
    for province in provinces.values():
        access(province, holder)
    options = {
        "directory": signed_directory(world, provinces, tmp_path),
        "privateKey": holder_key.to_bytes().hex(),
        "chain": {"rpcUrl": world.client.url, "anchorAddress": world.audit.address},
        "timeoutMs": 10_000,
        "nowMs": world.now() * 1000,
    }
    connect = [_origin(world.client.url)]
    connect += [f"http://127.0.0.1:{p.server.port}" for p in provinces.values()]
    return options, connect


def test_the_wallet_page_shows_both_provinces_proved_and_a_stopped_one_unreachable(
    world: World,
    provinces: dict[int, ServedProvince],
    browser: Browser,
    wallet_origin: str,
    tmp_path: Path,
) -> None:
    options, connect = _prepared(world, provinces, tmp_path)
    report = _run(browser, wallet_origin, options, connect)
    result = report["result"]
    assert [(p["issuerId"], p["status"]) for p in result["provinces"]] == [
        (ZJ, "answered"),
        (GD, "answered"),
    ]
    accesses = [e for e in result["entries"] if e["action"] != "audit.citizen_view"]
    assert sorted((e["province"]["issuerId"], e["proved"]) for e in accesses) == [
        (ZJ, True),
        (GD, True),
    ]
    for issuer in (ZJ, GD):
        words = label(PURPOSES[issuer]).to_json()
        drawn = [line for line in report["entriesText"] if NAMES[issuer] in line]
        assert len(drawn) == 1, report["entriesText"]
        assert f"{words['zh']} / {words['en']}" in drawn[0]
        assert drawn[0].endswith("已证明 proved")

    provinces[GD].server.stop()
    stopped = _run(browser, wallet_origin, options, connect)
    assert stopped["provincesText"] == [
        f"{NAMES[ZJ]}: answered (answered)",
        f"{NAMES[GD]}: unreachable (the province could not be reached)",
    ]
    assert {e["province"]["issuerId"] for e in stopped["result"]["entries"]} == {ZJ}


def test_a_province_that_does_not_allow_the_wallets_origin_is_withheld_by_the_browser(
    world: World,
    provinces: dict[int, ServedProvince],
    browser: Browser,
    wallet_origin: str,
    tmp_path: Path,
) -> None:
    options, connect = _prepared(world, provinces, tmp_path)
    _allow(provinces[GD], "https://another-wallet.example")
    report = _run(browser, wallet_origin, options, connect)
    status = {p["issuerId"]: p["status"] for p in report["result"]["provinces"]}
    assert status == {ZJ: "answered", GD: "unreachable"}
    assert any("CORS" in line for line in report["console"]), report["console"]
